import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Request, RequestHandler, Router } from 'express';
import type { Services } from '../src/services';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * The queue dashboard (bull-board): jobs, failures, retries. With DASHBOARD_USER and
 * DASHBOARD_PASSWORD it is served behind HTTP basic authentication, in any environment.
 * Without them it is off in production, and elsewhere answers only connections from this machine
 * (the socket's address, not a forwarded header anyone can write).
 */
export function queueDashboard(services: Services): { guard: RequestHandler; router: Router } | null {
  const { DASHBOARD_USER: user, DASHBOARD_PASSWORD: password, NODE_ENV } = services.config;
  const open = !user || !password;
  if (open && NODE_ENV === 'production') return null;
  const adapter = new ExpressAdapter();
  adapter.setBasePath(DASHBOARD_PATH);
  // @bull-board/express 9.10.1 pins @bull-board/api 9.10.1 while the app has 9.10.2: the same
  // interface in two copies of the types (tested at runtime in test/webhooks/dashboard.test.ts).
  const serverAdapter = adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: [new BullMQAdapter(services.events.queue), new BullMQAdapter(services.timers.queue)], serverAdapter });
  const guard: RequestHandler = (req, res, next) => {
    if (open ? isLoopback(req) : hasCredentials(req, user, password)) return next();
    if (open) return void res.status(403).json({ error: 'forbidden', reason: 'set DASHBOARD_USER and DASHBOARD_PASSWORD to open the dashboard from another machine' });
    res.set('WWW-Authenticate', 'Basic realm="Reglament queues", charset="UTF-8"').status(401).json({ error: 'unauthorized' });
  };
  return { guard, router: adapter.getRouter() as Router };
}

function hasCredentials(req: Request, user: string, password: string): boolean {
  const header = req.get('authorization') ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1]!, 'base64').toString('utf8');
  // Compare digests: equal length whatever was sent, constant time.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(`${user}:${password}`));
}

function isLoopback(req: Request): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}
