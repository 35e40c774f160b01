import type { RobotAction } from '../app';
import type { CrmPort, DealRef } from '../crm/crm-port';
import { installationKey } from '../infra/keys';
import type { Installation } from '../installations/installation';
import { RedisInstallationState } from '../installations/installation-state';
import { recordOwnWrites } from '../pipeline/own-write-recorder';
import type { Services } from '../services';
import { globalSettingsOf } from '../settings/installation-settings';
import { undoComment } from './card-texts';
import { UNDO_EXEMPTION_SECONDS, undoExemptionKey, type UndoneBy, type UndoPlan } from './undo-plan';

/**
 * A head of sales undoes a robot's action from the card. Exactly one undo per action: the action's
 * undo is claimed in Redis before anything is written; a second undo is refused (409) and writes
 * nothing. A claim left "pending" by a process that died mid-way is taken over after a minute
 * (every write of an undo is idempotent: move to a stage, assign a user, and the comment and the
 * log row are written after the CRM change, once the claim turns "done").
 */
export type UndoOutcome =
  | { ok: true; undo: RobotAction }
  | { ok: false; status: 403 | 404 | 409 | 422; error: string; undoId?: string };

const CLAIM_SECONDS = 100 * 24 * 3600;
const PENDING_TAKEOVER_MS = 60_000;

interface Claim {
  state: 'pending' | 'done';
  at: number;
  undoId?: string;
}

export async function undoAction(
  services: Pick<Services, 'redis' | 'prefix' | 'actions' | 'clients' | 'ownWrites' | 'tracker' | 'log'> & { now?: () => Date },
  installation: Installation,
  actionId: string,
  scope: DealRef,
  by: UndoneBy,
): Promise<UndoOutcome> {
  const action = await services.actions.find(installation.id, actionId);
  if (!action) return { ok: false, status: 404, error: 'unknown_action' };
  if (action.target.entity !== scope.entity || action.target.id !== scope.id) return { ok: false, status: 403, error: 'action_of_another_deal' };
  if (action.undoOf || !action.undo) return { ok: false, status: 422, error: 'not_undoable' };
  const plan = action.undo;
  const ref: DealRef = { entity: scope.entity, id: scope.id };
  const nowMs = () => (services.now?.() ?? new Date()).getTime();

  const claimKey = installationKey(services.prefix, installation.id, 'undo', actionId);
  const claimed = await claim(services, claimKey, nowMs());
  if (!claimed.ok) return claimed;

  let crm: CrmPort;
  try {
    crm = recordOwnWrites(await services.clients.forInstallation(installation), installation.id, services.ownWrites, services.tracker, new Map());
    const deal = await crm.getDeal(ref);
    const current = plan.kind === 'responsible' ? deal?.responsibleId : deal?.stageId;
    if (!deal || (current !== plan.left.id && current !== plan.to.id)) {
      await services.redis.del(claimKey);
      return { ok: false, status: 409, error: 'deal_changed_since' };
    }
    // Already where the undo puts it: a first attempt wrote it and died before the log row.
    if (current !== plan.to.id) await write(services, installation, crm, ref, plan);
  } catch (err) {
    await services.redis.del(claimKey).catch(() => undefined);
    throw err;
  }

  const lang = globalSettingsOf(installation.settings).locale;
  const names = await namesOf(crm, plan, by);
  const comment = undoComment(plan, names, action.robot, by.reason, lang, ref.entity);
  await crm.addComment(ref, comment);
  const undo: RobotAction = {
    installationId: installation.id,
    robot: action.robot,
    target: { entity: ref.entity, id: ref.id },
    kind: 'undone',
    summary: `undone by ${by.role} ${by.userId}: ${action.kind ?? action.summary.split('\n')[0]}`,
    before: names.left,
    after: names.to,
    why: comment,
    undoOf: actionId,
    by: { ...by, name: names.by },
    at: new Date(nowMs()).toISOString(),
  };
  undo.id = await services.actions.record(undo);
  await services.redis.set(claimKey, JSON.stringify({ state: 'done', at: nowMs(), undoId: undo.id } satisfies Claim), 'EX', CLAIM_SECONDS);
  services.log.info({ installation: installation.id, action: actionId, undo: undo.id, by: by.userId, role: by.role }, 'robot action undone from the card');
  return { ok: true, undo };
}

/** The ids of this installation's actions that were undone, with their undo rows' ids. */
export async function undoneActions(services: Pick<Services, 'redis' | 'prefix'>, installationId: string, actionIds: string[]): Promise<Map<string, string>> {
  if (!actionIds.length) return new Map();
  const raw = await services.redis.mget(...actionIds.map((id) => installationKey(services.prefix, installationId, 'undo', id)));
  const out = new Map<string, string>();
  raw.forEach((value, i) => {
    const claimed = value ? (JSON.parse(value) as Claim) : null;
    if (claimed?.state === 'done' && claimed.undoId) out.set(actionIds[i]!, claimed.undoId);
  });
  return out;
}

async function claim(services: Pick<Services, 'redis'>, key: string, now: number): Promise<{ ok: true } | { ok: false; status: 409; error: string; undoId?: string }> {
  const pending = JSON.stringify({ state: 'pending', at: now } satisfies Claim);
  if ((await services.redis.set(key, pending, 'EX', CLAIM_SECONDS, 'NX')) === 'OK') return { ok: true };
  const raw = await services.redis.get(key);
  const existing = raw ? (JSON.parse(raw) as Claim) : null;
  if (existing?.state === 'done') return { ok: false, status: 409, error: 'already_undone', undoId: existing.undoId };
  if (existing && now - existing.at < PENDING_TAKEOVER_MS) return { ok: false, status: 409, error: 'undo_in_progress' };
  // A pending claim of a process that died: taken over only if it is still the one we read.
  const taken = await services.redis.eval(
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0",
    1, key, raw ?? '', pending, CLAIM_SECONDS,
  );
  return Number(taken) === 1 ? { ok: true } : { ok: false, status: 409, error: 'undo_in_progress' };
}

/** The write itself, through the own-write ledger (its echo is the app's own), with the guard's exemption first. */
async function write(services: Pick<Services, 'redis' | 'prefix'>, installation: Installation, crm: CrmPort, ref: DealRef, plan: UndoPlan): Promise<void> {
  if (plan.kind === 'responsible') return crm.assignResponsible(ref, plan.to.id);
  const state = new RedisInstallationState(services.redis, services.prefix, installation.id);
  await state.set(undoExemptionKey(ref), JSON.stringify({ from: plan.left.id, to: plan.to.id }), UNDO_EXEMPTION_SECONDS);
  await crm.moveDeal(ref, plan.to.id);
}

async function namesOf(crm: CrmPort, plan: UndoPlan, by: UndoneBy): Promise<{ to: string; left: string; by: string }> {
  const users = await crm.listUsers().catch(() => []);
  const userName = (id: string) => users.find((u) => u.id === id)?.name || `#${id}`;
  const byName = by.name || userName(by.userId);
  if (plan.kind === 'responsible') return { to: plan.to.name || userName(plan.to.id), left: plan.left.name || userName(plan.left.id), by: byName };
  const stages = (await crm.listFunnels().catch(() => [])).flatMap((f) => f.stages);
  const stageName = (s: { id: string; name?: string }) => s.name || stages.find((x) => x.id === s.id)?.name || s.id;
  return { to: stageName(plan.to), left: stageName(plan.left), by: byName };
}
