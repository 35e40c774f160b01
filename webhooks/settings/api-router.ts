import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { DealEntity } from '../../src/crm/crm-port';
import { isInstallationId, type Installation } from '../../src/installations/installation';
import { robots } from '../../src/robots';
import type { SessionClaims } from '../../src/settings-access/session';
import type { UiLang } from '../../src/settings-page/issue-messages';
import { applyChanges, settingChangesSchema, settingsJsonSchema, settingsView } from '../../src/settings-page/settings-view';
import type { Services } from '../../src/services';
import { dryRunRoutes } from './dry-run-router';
import { bearerToken, type SettingsSessions } from './sessions';

interface Authorized {
  installation: Installation;
  claims: SessionClaims;
  lang: UiLang;
}

/**
 * The settings API the page calls. Every route needs a valid session for the installation named in
 * the path: no session or a forged one is 401, an expired one 401, a session of another
 * installation 403 — and none of them reads or changes anything.
 */
export function settingsApiRouter(services: Services, sessions: SettingsSessions): Router {
  const router = Router();
  const json = express.json({ limit: '256kb' });

  const authorize = async (req: Request, res: Response): Promise<Authorized | null> => {
    res.set('Cache-Control', 'no-store');
    const installationId = String(req.params.installationId ?? '');
    if (!isInstallationId(installationId)) return refuse(res, 400, 'invalid_installation_id');
    const token = bearerToken(req.get('authorization'));
    if (!token) return refuse(res, 401, 'session_required');
    const check = sessions.verify(installationId.startsWith('b24:') ? 'bitrix24' : 'amocrm', token);
    if (!check.ok) return refuse(res, 401, check.reason === 'expired' ? 'session_expired' : 'invalid_session');
    if (check.claims.installationId !== installationId) return refuse(res, 403, 'session_of_another_installation');
    const installation = await services.store.find(installationId);
    if (!installation || installation.status !== 'active') return refuse(res, 403, 'installation_unavailable');
    return { installation, claims: check.claims, lang: req.query.lang === 'en' ? 'en' : 'ru' };
  };

  const guarded = (handler: (auth: Authorized, req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const auth = await authorize(req, res);
      if (auth) await handler(auth, req, res);
    } catch (err) {
      next(err);
    }
  };

  router.get('/api/settings/schema', (_req, res) => void res.set('Cache-Control', 'public, max-age=300').json(settingsJsonSchema(robots)));

  router.get('/api/settings/:installationId', guarded(async ({ installation, claims, lang }, _req, res) => {
    res.json({ ...settingsView(installation, robots, lang), user: { id: claims.userId, role: claims.role }, expiresAt: claims.expiresAt });
  }));

  const change = guarded(async ({ installation, claims, lang }, req, res) => {
    const body = settingChangesSchema.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'malformed_changes', issues: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    let refused: Array<{ path: string; message: string }> = [];
    let changed: string[] = [];
    const saved = await services.store.modify(installation.id, (current) => {
      const outcome = applyChanges(current.settings, body.data.changes, robots, lang);
      if (!outcome.ok) {
        refused = outcome.issues;
        return null;
      }
      changed = outcome.changed;
      return outcome.changed.length ? { ...current, settings: outcome.settings } : null;
    });
    if (refused.length) return void res.status(422).json({ error: 'invalid_settings', issues: refused });
    services.log.info({ installation: installation.id, user: claims.userId, role: claims.role, changed }, 'settings changed from the settings page');
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

  return router;
}

function refuse(res: Response, status: number, error: string): null {
  res.status(status).json({ error });
  return null;
}
