import type { RequestHandler, Router } from 'express';
import { dryRunRegulation, dryRunRequestSchema, enableRegulation, enableRequestSchema } from '../../src/installations/regulation-dry-run';
import { listPresets } from '../../src/regulation';
import type { Services } from '../../src/services';
import type { sessionGuard } from './guard';

type Guarded = ReturnType<typeof sessionGuard>;

/**
 * The regulation's dry run and switch from the settings page, behind the same session guard as
 * every settings route (`guarded`: 401 without a valid session, 403 for another installation's).
 *   GET  /api/regulation/:installationId/presets   the shipped presets for this CRM
 *   POST /api/regulation/:installationId/dry-run   { preset, overrides, days?, maxTransitions?, fieldValues? } → the report
 *   POST /api/regulation/:installationId/enable    { preset, overrides, specHash } → saved (idempotent)
 */
export function dryRunRoutes(router: Router, services: Services, guarded: Guarded, json: RequestHandler): void {
  router.get('/api/regulation/:installationId/presets', guarded(async ({ installation }, req, res) => {
    const presets = listPresets({ locale: req.query.lang === 'en' ? 'en' : 'ru' }).filter((p) => p.crm === installation.crm);
    res.json({ presets });
  }));

  router.post('/api/regulation/:installationId/dry-run', json, guarded(async ({ installation, claims }, req, res) => {
    const body = dryRunRequestSchema.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'malformed_regulation', issues: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    const outcome = await dryRunRegulation(services, installation, body.data);
    if (!outcome.ok) return void res.status(422).json({ error: 'regulation_refused', issues: outcome.errors });
    services.log.info({ installation: installation.id, user: claims.userId, preset: body.data.preset, wouldRevert: outcome.report.wouldRevert }, 'regulation dry run');
    res.json(outcome.report);
  }));

  router.post('/api/regulation/:installationId/enable', json, guarded(async ({ installation, claims }, req, res) => {
    const body = enableRequestSchema.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'malformed_regulation', issues: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    const outcome = await enableRegulation(services, installation, body.data, { kind: 'user', userId: claims.userId, role: claims.role });
    if (!outcome.ok) return void res.status(outcome.status).json({ error: outcome.error, issues: outcome.errors ?? [] });
    services.log.info({ installation: installation.id, user: claims.userId, preset: body.data.preset, changed: outcome.changed }, 'regulation switched on from the settings page');
    res.json({ enabled: true, changed: outcome.changed, regulations: outcome.regulations });
  }));
}
