import path from 'node:path';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { isRedisUnavailable } from '../src/infra/redis-health';
import { registry } from '../src/observability/metrics';
import type { Services } from '../src/services';
import { amocrmDpRouter } from './amocrm/digital-pipeline';
import { amocrmRouter } from './amocrm/router';
import { bitrix24Router } from './bitrix24/router';
import { bitrix24RobotRouter } from './bitrix24/robot-call';
import { DASHBOARD_PATH, queueDashboard } from './dashboard';
import { edgeOutcomes, type EdgeCrm } from './edge-outcomes';
import { readiness } from './readiness';
import { ratingRouter } from './rating-page';
import { inventoryRouter } from './inventory/router';
import { statusRouter } from './status-page';
import { amocrmDpKeyRouter } from './settings/amocrm-dp-key';
import { settingsApiRouter } from './settings/api-router';
import { previewApiRouter } from './settings/preview-router';
import { regulationApiRouter } from './settings/regulation-router';
import { settingsEntryRouter, type SettingsEntryOptions } from './settings/entry-router';
import { cardRouter } from './card/card-router';
import { SettingsSessions } from './settings/sessions';

/**
 * The HTTP edge: CRM webhooks and install flows, the Bitrix24 app pages, health, readiness,
 * metrics, the queue dashboard, and (outside production) the local status page. It verifies,
 * validates and enqueues; robots run in the worker.
 */
export function createWebApp(services: Services, options: SettingsEntryOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  // No ETags: CRMs never revalidate webhook answers, and hashing every response body cost CPU per request.
  app.set('etag', false);
  // Liveness: the process answers. Readiness: Redis answers and a worker is alive.
  app.get(['/health', '/healthz'], (_req, res) => void res.json({ ok: true }));
  app.get('/ready', async (_req, res) => {
    const ready = await readiness(services);
    res.status(ready.ok ? 200 : 503).json(ready);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  const dashboard = queueDashboard(services);
  if (dashboard) app.use(DASHBOARD_PATH, dashboard.guard, dashboard.router);
  const edge = edgeOutcomes(services.log);
  app.use(bitrix24Router(services, edge));
  app.use(bitrix24RobotRouter(services, edge));
  app.use(amocrmRouter(services, edge));
  app.use(amocrmDpRouter(services, edge));
  app.use(ratingRouter(services));
  app.use(inventoryRouter(services));
  const apps = path.join(__dirname, '..', 'apps');
  // The settings page and its API (sessions from the Bitrix24 frame or the amoCRM widget token);
  // it also answers the app page's POST (the overview with what is on and off for the portal).
  const sessions = new SettingsSessions(services.config, () => services.now());
  app.use(settingsEntryRouter(services, sessions, options));
  app.use(amocrmDpKeyRouter(services, options));
  app.use(settingsApiRouter(services, sessions));
  app.use(regulationApiRouter(services, sessions));
  app.use(previewApiRouter(services, sessions));
  // The robot log in the deal / lead card (Bitrix24 tab, amoCRM widget), with undo for heads of sales.
  app.use(cardRouter(services, options));
  app.use('/apps', express.static(apps));
  if (services.config.NODE_ENV !== 'production') app.use(statusRouter(services));
  app.use(((err, req, res, _next) => {
    if (isRedisUnavailable(err)) {
      // Fail fast: amoCRM retries a 5xx; a Bitrix24 change is found again by the catch-up.
      services.outage.failed('edge', err);
      const crm = crmOfPath(req);
      if (crm) return edge.refuse(res.set('Retry-After', '5'), crm, 503, 'redis_unavailable');
      return void res.set('Retry-After', '5').status(503).json({ error: 'redis_unavailable' });
    }
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status >= 500) services.log.error({ err }, 'request failed');
    res.status(status).json({ error: status >= 500 ? 'internal_error' : 'bad_request', reason: status < 500 ? String(err.message ?? '') : undefined });
  }) as ErrorRequestHandler);
  return app;
}

function crmOfPath(req: Request): EdgeCrm | null {
  if (req.path.startsWith('/bitrix24/')) return 'bitrix24';
  if (req.path.startsWith('/amocrm/')) return 'amocrm';
  return null;
}
