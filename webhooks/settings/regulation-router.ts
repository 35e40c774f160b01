import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { Installation } from '../../src/installations/installation';
import { regulationIssue, saveRegulations } from '../../src/installations/save-regulations';
import { evaluateMove, listPresets, LocaleSchema, type RegulationError } from '../../src/regulation';
import { bindSpec, presetEntity, regulationSpecSchema, type RegulationSpec } from '../../src/regulation/installation-bindings';
import { revertNote } from '../../src/regulation/messages';
import { regulationView } from '../../src/settings-page/regulation-view';
import { localeOf } from '../../src/app';
import type { Services } from '../../src/services';
import { sessionGuard } from './guard';
import type { SettingsSessions } from './sessions';

const specBody = z.strictObject({ spec: regulationSpecSchema });
const saveBody = z.strictObject({ regulations: z.array(regulationSpecSchema) });
const previewBody = z.strictObject({
  spec: regulationSpecSchema,
  /** Preset stage keys of the sample move. */
  from: z.string().min(1),
  to: z.string().min(1),
  locale: LocaleSchema.optional(),
});

/**
 * Binding each funnel to a regulation from the settings page: the same spec the CLI
 * (`npm run regulation`) takes, bound against the CRM's live funnels and fields and saved through
 * `saveRegulations` (all or nothing) — the same function the dry run's «switch on» ends in. Every route is guarded by the signed session.
 */
export function regulationApiRouter(services: Services, sessions: SettingsSessions): Router {
  const router = Router();
  const json = express.json({ limit: '256kb' });
  const guarded = sessionGuard(services, sessions);

  const liveData = async (installation: Installation, spec: RegulationSpec) => {
    const crm = await services.clients.forInstallation(installation);
    return { funnels: await crm.listFunnels(), fields: await crm.listFields(presetEntity(spec.preset)) };
  };

  // The current regulations, each as the page edits it, and the presets a new binding may start from.
  router.get('/api/regulation/:installationId', guarded(async ({ installation, lang }, _req, res) => {
    const stored = (installation.settings.stageGuard as { regulations?: unknown } | undefined)?.regulations;
    const specs = Array.isArray(stored) ? stored.flatMap((s) => { const p = regulationSpecSchema.safeParse(s); return p.success ? [p.data] : []; }) : [];
    const regulations = [];
    for (const spec of specs) {
      const { funnels, fields } = await liveData(installation, spec);
      regulations.push(regulationView(spec, funnels, fields, lang));
    }
    const presets = listPresets({ locale: lang }).filter((p) => !p.crm || p.crm === installation.crm);
    res.json({ presets, regulations, locale: localeOf(installation) });
  }));

  // A spec being edited (or a new funnel's proposal: `{ preset, overrides: { funnelId } }`), bound against the live CRM.
  router.post('/api/regulation/:installationId/bind', json, guarded(async ({ installation, lang }, req, res) => {
    const body = specBody.safeParse(req.body);
    if (!body.success) return malformed(res, body.error);
    const { funnels, fields } = await liveData(installation, body.data.spec);
    res.json(regulationView(body.data.spec, funnels, fields, lang));
  }));

  // The text the stage guard would write for a sample move (a deal with empty fields, nobody exempt).
  router.post('/api/regulation/:installationId/preview-message', json, guarded(async ({ installation }, req, res) => {
    const body = previewBody.safeParse(req.body);
    if (!body.success) return malformed(res, body.error);
    const { spec, from, to } = body.data;
    const { funnels, fields } = await liveData(installation, spec);
    const binding = bindSpec(spec, funnels, fields);
    if (!binding.ok) return refused(res, binding.errors);
    const regulation = binding.regulation;
    const stage = (key: string, at: 'from' | 'to') => {
      const found = regulation.stages.find((s) => s.key === key);
      if (!found) res.status(422).json({ error: 'invalid_regulation', issues: [{ path: at, message: `the bound regulation has no stage «${key}» (stages: ${regulation.stages.map((s) => s.key).join(', ')})` }] });
      return found;
    };
    const fromStage = stage(from, 'from');
    const toStage = fromStage && stage(to, 'to');
    if (!fromStage || !toStage) return;
    const locale = body.data.locale ?? localeOf(installation);
    const decision = evaluateMove(regulation, { fromStageId: fromStage.stageId, toStageId: toStage.stageId, fields: {}, history: [], movedBy: { userId: null, isAdmin: false }, locale });
    const message = decision.verdict === 'revert' ? revertNote(regulation, decision, { from: fromStage.name, to: toStage.name }, locale) : '';
    res.json({ verdict: decision.verdict, rules: decision.reasons.map((r) => r.rule), message, locale });
  }));

  // Saves every regulation of the installation, only if all of them bind (the CLI's `apply`).
  router.put('/api/regulation/:installationId', json, guarded(async ({ installation, claims }, req, res) => {
    const body = saveBody.safeParse(req.body);
    if (!body.success) return malformed(res, body.error);
    const result = await saveRegulations(services, installation.id, body.data.regulations, { kind: 'user', userId: claims.userId, role: claims.role });
    if (!result.ok) return void res.status(422).json({ error: 'invalid_regulation', issues: result.issues, report: result.report });
    services.log.info({ installation: installation.id, user: claims.userId, role: claims.role, presets: body.data.regulations.map((s) => s.preset) }, 'regulations saved from the settings page');
    res.json({ saved: body.data.regulations.length, funnels: result.bindings.map((b) => (b.ok ? b.regulation.funnel : null)) });
  }));

  return router;
}

function refused(res: Response, errors: readonly RegulationError[]): void {
  res.status(422).json({ error: 'invalid_regulation', issues: errors.map((e) => regulationIssue(e)) });
}

function malformed(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: 'malformed_regulation', issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
}
