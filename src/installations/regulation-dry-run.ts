/**
 * Before a regulation is switched on: replay the funnel's recent stage history under it (the
 * dry run), then switch on exactly what was replayed. The CRM reads go through the installation's
 * client (rate limiter, Bitrix24 batches); the replay itself is pure (`src/regulation/dry-run.ts`).
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { AmocrmStageHistoryFeed } from '../crm/amocrm/stage-history-feed';
import { Bitrix24StageHistoryFeed } from '../crm/bitrix24/stage-history-feed';
import type { StageHistoryFeed } from '../crm/stage-history-feed';
import { InstallationRevokedError } from '../errors';
import { formatRegulationError, type RegulationError } from '../regulation';
import { replayRegulation, type DryRunDeal, type DryRunResult } from '../regulation/dry-run';
import { regulationSpecSchema, type RegulationSpec } from '../regulation/installation-bindings';
import type { Services } from '../services';
import { bindForInstallation } from './configure-regulations';
import { saveRegulations, type RegulationIssue } from './save-regulations';
import type { SettingsActor } from '../settings/settings-history';
import type { Installation } from './installation';
import { RedisInstallationState } from './installation-state';

/** Stage changes read at most per dry run unless asked otherwise: a long portal's newest ones. */
export const DEFAULT_MAX_TRANSITIONS = 5000;
/** Would-be reverts listed one by one in the report (all are counted). */
const LISTED_REVERTS = 50;

export const dryRunRequestSchema = regulationSpecSchema.extend({
  /** How far back to replay. */
  days: z.number().int().min(1).max(90).default(30),
  /** The most stage changes read; past it the newest are kept and the report says `capped`. */
  maxTransitions: z.number().int().min(1).max(50_000).default(DEFAULT_MAX_TRANSITIONS),
  /** Required fields and reasons on the deals' current values, or not judged at all. */
  fieldValues: z.enum(['current', 'not_replayed']).default('current'),
});
export type DryRunRequest = z.infer<typeof dryRunRequestSchema>;

export const enableRequestSchema = regulationSpecSchema.extend({
  /** The `specHash` of the dry run shown: what is switched on is what was replayed. */
  specHash: z.string().regex(/^[0-9a-f]{64}$/),
});

export interface DryRunReport extends Omit<DryRunResult, 'reverts'> {
  spec: RegulationSpec;
  specHash: string;
  period: { from: string; to: string; days: number };
  /** More stage changes than `maxTransitions` happened: only the newest were replayed. */
  capped: boolean;
  maxTransitions: number;
  reverts: DryRunResult['reverts'];
  /** The first `LISTED_REVERTS` of `wouldRevert`. */
  revertsListed: number;
  /** The same regulation is already switched on. */
  enabled: boolean;
  /** The stage guard robot is on (`stageGuard.enabled`); off, no regulation is enforced. */
  stageGuardOn: boolean;
  warnings: string[];
}

export type DryRunOutcome = { ok: true; report: DryRunReport } | { ok: false; errors: Array<{ path: string; message: string }> };

/** A canonical hash of a spec (key order does not matter). */
export function specHash(spec: RegulationSpec): string {
  return createHash('sha256').update(canonical(spec)).digest('hex');
}

export async function dryRunRegulation(services: Services, installation: Installation, request: DryRunRequest): Promise<DryRunOutcome> {
  const spec: RegulationSpec = { preset: request.preset, overrides: request.overrides };
  const [binding] = await bindForInstallation(services, installation.id, [spec]);
  if (!binding || !binding.ok) return { ok: false, errors: bindingIssues(binding?.ok === false ? binding.errors : []) };
  const { regulation } = binding;
  const crm = await services.clients.forInstallation(installation);
  const funnel = (await crm.listFunnels()).find((f) => f.id === regulation.funnel.id && f.entity === regulation.entity);
  if (!funnel) return { ok: false, errors: [{ path: 'overrides.funnelId', message: `the CRM no longer lists funnel ${regulation.funnel.id}` }] };

  const to = services.now();
  const from = new Date(to.getTime() - request.days * 24 * 3600 * 1000);
  const feed = await stageHistoryFeedFor(services, installation);
  const history = await feed.funnelHistory(funnel, from, request.maxTransitions);
  const ids = [...new Set(history.transitions.map((t) => t.dealId))];
  const [current, users] = await Promise.all([feed.dealsByIds(regulation.entity, ids), crm.listUsers()]);
  const deals: Record<string, DryRunDeal> = {};
  for (const id of ids) deals[id] = { title: `#${id}`, responsibleId: null, fields: null, url: feed.dealUrl(regulation.entity, id) };
  for (const deal of current) deals[deal.id] = { title: deal.title || `#${deal.id}`, responsibleId: deal.responsibleId, fields: deal.fields, url: feed.dealUrl(regulation.entity, deal.id) };

  const result = replayRegulation({
    regulation,
    transitions: history.transitions,
    priorStages: history.priorStages,
    deals,
    users,
    appReverted: await guardReverts(services, installation, regulation.entity, ids),
    fieldValues: request.fieldValues,
    attribution: history.knowsMover ? 'mover' : 'responsible',
  });
  const saved = savedSpecs(installation);
  return {
    ok: true,
    report: {
      ...result,
      reverts: result.reverts.slice(0, LISTED_REVERTS),
      revertsListed: Math.min(LISTED_REVERTS, result.reverts.length),
      spec,
      specHash: specHash(spec),
      period: { from: from.toISOString(), to: to.toISOString(), days: request.days },
      capped: history.capped,
      maxTransitions: request.maxTransitions,
      enabled: saved.some((s) => isDeepStrictEqual(s, spec)),
      stageGuardOn: (installation.settings.stageGuard as { enabled?: unknown } | undefined)?.enabled !== false,
      warnings: binding.warnings,
    },
  };
}

export type EnableOutcome =
  | { ok: true; changed: boolean; regulations: RegulationSpec[] }
  | { ok: false; status: 409 | 422; error: string; errors?: RegulationIssue[] };

/**
 * Switches on the regulation that was dry-run: it takes the place of one for the same preset and
 * funnel (or joins the others), through `saveRegulations` — the editor's save path (binds first,
 * saves only if all bind). Enabling what is already on changes nothing.
 */
export async function enableRegulation(services: Services, installation: Installation, request: z.infer<typeof enableRequestSchema>, by: SettingsActor): Promise<EnableOutcome> {
  const spec: RegulationSpec = { preset: request.preset, overrides: request.overrides };
  if (specHash(spec) !== request.specHash) return { ok: false, status: 409, error: 'not_the_regulation_dry_run' };
  const current = savedSpecs(installation);
  if (current.some((s) => isDeepStrictEqual(s, spec))) return { ok: true, changed: false, regulations: current };
  const next = [...current.filter((s) => !(s.preset === spec.preset && s.overrides.funnelId === spec.overrides.funnelId)), spec];
  const saved = await saveRegulations(services, installation.id, next, by);
  if (!saved.ok) return { ok: false, status: 422, error: 'regulation_refused', errors: saved.issues };
  return { ok: true, changed: true, regulations: next };
}

/**
 * The stage entries the live stage guard refused (`reverted:<entity>:<id>`, kept by
 * `src/robots/stage-guard.ts`), so that its own reverts in the history are not judged as a
 * manager's moves. Deal ids come from the CRM: only plain numbers touch a key.
 */
async function guardReverts(services: Services, installation: Installation, entity: 'deal' | 'lead', ids: readonly string[]): Promise<Record<string, string[]>> {
  const state = new RedisInstallationState(services.redis, services.prefix, installation.id);
  const out: Record<string, string[]> = {};
  const valid = ids.filter((id) => /^\d{1,20}$/.test(id));
  for (let i = 0; i < valid.length; i += 200) {
    const chunk = valid.slice(i, i + 200);
    const lists = await Promise.all(chunk.map((id) => state.list(`reverted:${entity}:${id}`, 200)));
    chunk.forEach((id, n) => {
      if (lists[n]!.length) out[id] = lists[n]!;
    });
  }
  return out;
}

function savedSpecs(installation: Installation): RegulationSpec[] {
  const parsed = z.array(regulationSpecSchema).safeParse((installation.settings.stageGuard as { regulations?: unknown } | undefined)?.regulations ?? []);
  return parsed.success ? parsed.data : [];
}

function bindingIssues(errors: RegulationError[]): Array<{ path: string; message: string }> {
  // Overrides errors are at the body's `overrides.…`; the preset's (or the portal's lack of a stage it names) at the preset's own path.
  return errors.map((e) => ({ path: e.file === 'overrides' ? ['overrides', e.path].filter(Boolean).join('.') : e.path || 'preset', message: formatRegulationError(e) }));
}

async function stageHistoryFeedFor(services: Services, installation: Installation): Promise<StageHistoryFeed> {
  if (installation.crm === 'bitrix24') return new Bitrix24StageHistoryFeed(await services.clients.bitrix24Rest(installation), new URL(installation.clientEndpoint).origin);
  const tokens = await services.store.tokens(installation.id);
  if (!tokens) throw new InstallationRevokedError(installation.id, 'no tokens');
  return new AmocrmStageHistoryFeed(services.clients.amocrmRest(installation, tokens, services.log.child({ installation: installation.id })), installation.baseUrl);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
