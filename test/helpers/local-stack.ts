import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readConfig, type AppConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { runWorkers, type RunningWorkers } from '../../src/pipeline/run-workers';
import { createServices, type Services } from '../../src/services';
import { createWebApp } from '../../webhooks/server';
import { removeAppData } from './test-services';
import { AmoCrmAccountEmulator } from '../emulators/amocrm-account';
import { Bitrix24PortalEmulator } from '../emulators/bitrix24-portal';
import { InventoryHttpEmulator } from '../emulators/inventory-http-service';
import { ProfitbaseEmulator } from '../emulators/profitbase-account';

export const PROFITBASE_API_KEY = 'app-66445500837ba';
export const ONEC_API_KEY = 'onec-local-key-3f9a';
export const ONEC_CALLBACK_SECRET = 'onec-callback-secret-0123456789';

export const BITRIX24_APP = { clientId: 'app.reglament.local', clientSecret: 'bitrix24-local-secret' };
export const AMOCRM_APP = { clientId: '5a0c2d8e-1f3b-4c7a-9e21-reglament-local', clientSecret: 'amocrm-local-secret' };

export interface LocalStack {
  appUrl: string;
  services: Services;
  portal: Bitrix24PortalEmulator;
  amo: AmoCrmAccountEmulator;
  /** A Profitbase account and a 1C-style inventory service (apps/inventory-http/openapi.yaml). */
  pb: ProfitbaseEmulator;
  onec: InventoryHttpEmulator;
  workers: RunningWorkers;
  /** Waits until the emulators delivered everything and the app's queues are empty (echoes included). */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  redisUrl: string;
  prefix?: string;
  env?: Partial<Record<keyof AppConfig, string>>;
  portalRateLimit?: { burst: number; drainPerSecond: number };
  logLevel?: string;
  port?: number;
  /**
   * Profitbase's real limit is 1 request/s (the default here too). Tests that are not about the
   * limit pass 0 and raise PROFITBASE_REQUESTS_PER_SECOND through `env` to run faster.
   */
  profitbaseMinIntervalMs?: number;
}


/**
 * The app (web + worker) with an emulated Bitrix24 portal and amoCRM account, all on 127.0.0.1:
 * the shape of a real deployment, for the end-to-end tests and `npm run demo`.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  // Listen first, then build the app: the port is ours before anyone else can take it.
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const appUrl = `http://127.0.0.1:${port}`;
  const prefix = options.prefix ?? `reglament-e2e-${randomBytes(4).toString('hex')}`;
  const portal = await Bitrix24PortalEmulator.start({ ...BITRIX24_APP, rateLimit: options.portalRateLimit });
  const amo = await AmoCrmAccountEmulator.start({ ...AMOCRM_APP, redirectUri: `${appUrl}/amocrm/oauth/callback`, retryDelaysMs: [200, 400] });
  const pb = await ProfitbaseEmulator.start({ apiKey: PROFITBASE_API_KEY, minIntervalMs: options.profitbaseMinIntervalMs ?? 1000 });
  const onec = await InventoryHttpEmulator.start({ apiKey: ONEC_API_KEY, callbackSecret: ONEC_CALLBACK_SECRET });
  const config = readConfig({
    NODE_ENV: 'development',
    PORT: String(port),
    PUBLIC_URL: appUrl,
    REDIS_PREFIX: prefix,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: options.logLevel ?? 'silent',
    BITRIX24_CLIENT_ID: BITRIX24_APP.clientId,
    BITRIX24_CLIENT_SECRET: BITRIX24_APP.clientSecret,
    AMOCRM_CLIENT_ID: AMOCRM_APP.clientId,
    AMOCRM_CLIENT_SECRET: AMOCRM_APP.clientSecret,
    AMOCRM_INSECURE_HOSTS: '127.0.0.1',
    JOB_ATTEMPTS: '4',
    JOB_BACKOFF_MS: '300',
    ...options.env,
  } as NodeJS.ProcessEnv);
  const services = createServices(config, options.redisUrl, createLogger(config.LOG_LEVEL));
  server.on('request', createWebApp(services));
  const workers = runWorkers(services, 4);

  const queuesEmpty = async () => {
    const [e, t] = await Promise.all([
      services.events.queue.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children', 'delayed'),
      services.timers.queue.getJobCounts('waiting', 'active', 'prioritized'),
    ]);
    return [...Object.values(e), ...Object.values(t)].every((n) => n === 0);
  };

  return {
    appUrl,
    services,
    portal,
    amo,
    pb,
    onec,
    workers,
    async idle(timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      let quietRounds = 0;
      while (Date.now() < deadline) {
        await portal.settle();
        await amo.settle({ includeRetries: false });
        await onec.settle();
        quietRounds = (await queuesEmpty()) ? quietRounds + 1 : 0;
        // Two quiet looks in a row: an echo webhook of the last write had its chance to arrive.
        if (quietRounds >= 3) return;
        await new Promise((r) => setTimeout(r, 60));
      }
      throw new Error('the local stack did not become idle');
    },
    async stop() {
      await workers.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await portal.stop();
      await amo.stop();
      await pb.stop();
      await onec.stop();
      await removeAppData(services);
      await services.close();
    },
  };
}
