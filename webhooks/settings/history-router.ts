import type { Router } from 'express';
import { z } from 'zod';
import type { Services } from '../../src/services';
import { RedisSettingsHistory, SETTINGS_HISTORY_KEEP_ENTRIES } from '../../src/settings/settings-history';
import type { sessionGuard } from './guard';

type Guarded = ReturnType<typeof sessionGuard>;

const querySchema = z.object({ limit: z.coerce.number().int().min(1).max(SETTINGS_HISTORY_KEEP_ENTRIES).default(50) });

/**
 * The settings history on the page, behind the settings session guard (401 without a valid session,
 * 403 for another installation's):
 *   GET /api/settings/:installationId/history?limit=   newest first: when, who (with the CRM user's
 *   name when the CRM answers), where, and each path's value before → after as stored (secrets masked).
 */
export function settingsHistoryRoutes(router: Router, services: Services, guarded: Guarded): void {
  router.get('/api/settings/:installationId/history', guarded(async ({ installation }, req, res) => {
    const query = querySchema.safeParse(req.query.limit === undefined ? {} : { limit: req.query.limit });
    if (!query.success) return void res.status(400).json({ error: 'malformed_query', issues: query.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    const entries = await new RedisSettingsHistory(services.redis, services.prefix).latest(installation.id, query.data.limit, services.now().getTime());
    const names = await userNames(services, installation, entries.some((e) => e.by.kind === 'user'));
    res.json({
      entries: entries.map((e) => ({ ...e, by: e.by.kind === 'user' ? { ...e.by, name: names.get(e.by.userId) ?? null } : e.by })),
      limit: query.data.limit,
    });
  }));
}

/** The CRM's users by id; the history is still shown (with ids) when the CRM does not answer. */
async function userNames(services: Services, installation: Parameters<Services['clients']['forInstallation']>[0], needed: boolean): Promise<Map<string, string>> {
  if (!needed) return new Map();
  try {
    const crm = await services.clients.forInstallation(installation);
    return new Map((await crm.listUsers()).map((u) => [u.id, u.name]));
  } catch (err) {
    services.log.warn({ installation: installation.id, err }, 'settings history: CRM users unavailable, showing ids');
    return new Map();
  }
}
