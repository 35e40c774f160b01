import express, { Router } from 'express';
import type { DealEntity } from '../../src/crm/crm-port';
import { robots } from '../../src/robots';
import { applyChanges, settingChangesSchema, settingsJsonSchema, settingsView } from '../../src/settings-page/settings-view';
import type { Services } from '../../src/services';
import { writeSettings } from '../../src/settings/write-settings';
import { settingsHistoryRoutes } from './history-router';
import { dryRunRoutes } from './dry-run-router';
import { sessionGuard } from './guard';
import type { SettingsSessions } from './sessions';

/** The settings API the page calls; every route is guarded by the signed session (`guard.ts`). */
export function settingsApiRouter(services: Services, sessions: SettingsSessions): Router {
  const router = Router();
  const json = express.json({ limit: '256kb' });
  const guarded = sessionGuard(services, sessions);

  router.get('/api/settings/schema', (_req, res) => void res.set('Cache-Control', 'public, max-age=300').json(settingsJsonSchema(robots)));

  router.get('/api/settings/:installationId', guarded(async ({ installation, claims, lang }, _req, res) => {
    res.json({ ...settingsView(installation, robots, lang), user: { id: claims.userId, role: claims.role }, expiresAt: claims.expiresAt });
  }));

  const change = guarded(async ({ installation, claims, lang }, req, res) => {
    const body = settingChangesSchema.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'malformed_changes', issues: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    let refused: Array<{ path: string; message: string }> = [];
    let changed: string[] = [];
    const author = { by: { kind: 'user' as const, userId: claims.userId, role: claims.role }, via: 'settings_page' as const };
    const { installation: saved } = await writeSettings(services, installation.id, author, (current) => {
      const outcome = applyChanges(current.settings, body.data.changes, robots, lang);
      if (!outcome.ok) {
        refused = outcome.issues;
        return null;
      }
      changed = outcome.changed;
      return outcome.changed.length ? outcome.settings : null;
    });
    if (refused.length) return void res.status(422).json({ error: 'invalid_settings', issues: refused });
    const now = saved ?? (await services.store.find(installation.id)) ?? installation;
    res.json({ ...settingsView(now, robots, lang), changed });
  });
  router.patch('/api/settings/:installationId', json, change);
  router.put('/api/settings/:installationId', json, change);

  // Pickers: the CRM's real funnels with their stages, its fields (user fields by the titles the CRM shows) and users.
  router.get('/api/crm/:installationId/funnels', guarded(async ({ installation }, _req, res) => {
    const crm = await services.clients.forInstallation(installation);
    res.json({ funnels: await crm.listFunnels() });
  }));
  router.get('/api/crm/:installationId/fields', guarded(async ({ installation }, req, res) => {
    const entity: DealEntity = req.query.entity === 'lead' ? 'lead' : 'deal';
    const crm = await services.clients.forInstallation(installation);
    res.json({ entity, fields: await crm.listFields(entity) });
  }));

  // The CRM's users by name, for the settings that hold user ids (only what a picker shows).
  router.get('/api/crm/:installationId/users', guarded(async ({ installation }, _req, res) => {
    const crm = await services.clients.forInstallation(installation);
    const users = await crm.listUsers();
    res.json({ users: users.map((u) => ({ id: u.id, name: u.name, isAdmin: u.isAdmin, isActive: u.isActive !== false })) });
  }));
  // The regulation's dry run and switch (dry-run-router.ts).
  dryRunRoutes(router, services, guarded, json);
  // Who changed what and where (history-router.ts).
  settingsHistoryRoutes(router, services, guarded);

  return router;
}
