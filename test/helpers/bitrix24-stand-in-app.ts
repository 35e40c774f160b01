import type { Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { Bitrix24PortalEmulator } from '../emulators/bitrix24-portal';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed JSON bodies are dynamic by nature */
type Json = any;

/**
 * A portal emulator with a stand-in app installed (its install page calls `BX24.installFinish()`;
 * `routes` adds the app's other handlers), and REST calls with the administrator's token by default.
 * `cleanups` gets what stops both.
 */
export async function portalWithStandInApp(cleanups: Array<() => Promise<void>>, routes: (app: Express) => void = () => {}) {
  const app = express();
  app.use(express.urlencoded({ extended: true }));
  app.post('/install', (_req, res) => void res.type('html').send('<script>BX24.installFinish();</script>'));
  routes(app);
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const portal = await Bitrix24PortalEmulator.start({ clientId: 'app.test', clientSecret: 'secret' });
  cleanups.push(async () => {
    await portal.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  await portal.install(`${url}/install`);
  const admin = portal.issueTokens(1).accessToken;
  const manager = portal.issueTokens(2).accessToken;
  const rest = async (method: string, params: Record<string, unknown>, token = admin) => {
    const response = await fetch(`${portal.url}/rest/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...params, auth: token }) });
    return { status: response.status, json: (await response.json()) as Json };
  };
  return { portal, url, rest, manager };
}
