import path from 'node:path';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Services } from '../src/services';
import { amocrmRouter } from './amocrm/router';
import { bitrix24Router } from './bitrix24/router';
import { inventoryRouter } from './inventory/router';
import { statusRouter } from './status-page';

/**
 * The HTTP edge: CRM webhooks and install flows, the Bitrix24 app pages, health, and (outside
 * production) the local status page. It verifies, validates and enqueues; robots run in the worker.
 */
export function createWebApp(services: Services): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.get('/healthz', (_req, res) => void res.json({ ok: true }));
  app.use(bitrix24Router(services));
  app.use(amocrmRouter(services));
  app.use(inventoryRouter(services));
  const apps = path.join(__dirname, '..', 'apps');
  // Bitrix24 opens the app page with a form POST (AUTH_ID, member_id…); the page itself needs none of it.
  app.post('/apps/bitrix24/index.html', (_req, res) => res.sendFile(path.join(apps, 'bitrix24', 'index.html')));
  app.use('/apps', express.static(apps));
  if (services.config.NODE_ENV !== 'production') app.use(statusRouter(services));
  app.use(((err, _req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status >= 500) services.log.error({ err }, 'request failed');
    res.status(status).json({ error: status >= 500 ? 'internal_error' : 'bad_request', reason: status < 500 ? String(err.message ?? '') : undefined });
  }) as ErrorRequestHandler);
  return app;
}
