import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readConfig, type AppConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import { runWorkers, type RunningWorkers } from '../../src/pipeline/run-workers';
import { createServices, type Services } from '../../src/services';
import { createWebApp } from '../../webhooks/server';
import { removeAppData } from './test-services';
import { AmoCrmAccountEmulator, type AmoCrmAccountOptions } from '../emulators/amocrm-account';
import { Bitrix24PortalEmulator } from '../emulators/bitrix24-portal';
import type { Bitrix24PortalOptions } from '../emulators/bitrix24/types';
import { InventoryHttpEmulator } from '../emulators/inventory-http-service';
import { ProfitbaseEmulator } from '../emulators/profitbase-account';

export const PROFITBASE_API_KEY = 'app-66445500837ba';
export const ONEC_API_KEY = 'onec-local-key-3f9a';
export const ONEC_CALLBACK_SECRET = 'onec-callback-secret-0123456789';

export const BITRIX24_APP = { clientId: 'app.reglament.local', clientSecret: 'bitrix24-local-secret' };
export const AMOCRM_APP = { clientId: '5a0c2d8e-1f3b-4c7a-9e21-reglament-local', clientSecret: 'amocrm-local-secret' };

export interface LocalStack {
  appUrl: string;
  /** The running app's services (replaced by `startApp`). */
  readonly services: Services;
  portal: Bitrix24PortalEmulator;
  amo: AmoCrmAccountEmulator;
  readonly workers: RunningWorkers;
  /** True while the app (web + worker) is up. */
  readonly appRunning: boolean;
  /**
   * Moves the clock of the app's robots and of both emulators forward (never back: the portal's
   * rate limiter and tokens run on it); due timers are then fired with `fireTimersDue`.
   */
  timeTravel(ms: number): void;
  /** Promotes every delayed timer due at the (travelled) clock, so the worker fires it now. */
  fireTimersDue(): Promise<number>;
  /** A Profitbase account and a 1C-style inventory service (apps/inventory-http/openapi.yaml). */
  pb: ProfitbaseEmulator;
  onec: InventoryHttpEmulator;
  /** Waits until the emulators delivered everything and the app's queues are empty (echoes included). */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops only the web process (the CRMs' deliveries fail); the worker keeps running. */
  stopWeb(): Promise<void>;
  startWeb(): Promise<void>;
  /** Stops the app (web and worker), as a crash or a deploy would; Redis data and the emulators stay. */
  stopApp(): Promise<void>;
  /** Starts the app again on the same address with the same Redis data (`env` overrides the config). */
  startApp(env?: Partial<Record<keyof AppConfig, string>>): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  redisUrl: string;
  prefix?: string;
  env?: Partial<Record<keyof AppConfig, string>>;
  portalRateLimit?: { burst: number; drainPerSecond: number };
  /** Overrides of the amoCRM emulator (e.g. `disableAfterInvalid`). */
  amoOptions?: Partial<AmoCrmAccountOptions>;
  /** The instant the app's and the emulators' clocks show at start (they then run on from there). */
  startAt?: string;
  /** Portal users and scope, when a test needs other than the defaults. */
  portal?: Pick<Bitrix24PortalOptions, 'users' | 'scope'>;
  logLevel?: string;
  port?: number;
  /** Jobs a worker runs at once (default 4; a bench of concurrent jobs raises it). */
  workerConcurrency?: number;
  /** false: no worker in this process (a test runs workers as child processes). Default true. */
  workers?: boolean;
  /**
   * Serves the app's address with this instead of an in-process web app (a test puts a load
   * balancer in front of web processes of its own there).
   */
  edge?: RequestListener;
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
  let server: Server = await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const appUrl = `http://127.0.0.1:${port}`;
  const prefix = options.prefix ?? `reglament-e2e-${randomBytes(4).toString('hex')}`;
  const clock = { offset: options.startAt ? Date.parse(options.startAt) - Date.now() : 0 };
  const portal = await Bitrix24PortalEmulator.start({ ...BITRIX24_APP, rateLimit: options.portalRateLimit, ...options.portal, clock: () => Date.now() + clock.offset });
  const amo = await AmoCrmAccountEmulator.start({ ...AMOCRM_APP, redirectUri: `${appUrl}/amocrm/oauth/callback`, retryDelaysMs: [200, 400], ...options.amoOptions });
  amo.advanceClock(clock.offset);
  const pb = await ProfitbaseEmulator.start({ apiKey: PROFITBASE_API_KEY, minIntervalMs: options.profitbaseMinIntervalMs ?? 1000 });
  const onec = await InventoryHttpEmulator.start({ apiKey: ONEC_API_KEY, callbackSecret: ONEC_CALLBACK_SECRET });
  const baseEnv = {
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
    // A test machine running the suite on both cores can stall an event loop past the production 800 ms;
    // the outage tests set their own bound (test/ops/redis-outage.test.ts).
    REDIS_COMMAND_TIMEOUT_MS: '3000',
    ...options.env,
  };
  const build = (env: Partial<Record<keyof AppConfig, string>> = {}) => {
    const config = readConfig({ ...baseEnv, ...env } as NodeJS.ProcessEnv);
    const built = createServices(config, options.redisUrl, createLogger(config.LOG_LEVEL));
    built.now = () => new Date(Date.now() + clock.offset);
    return built;
  };
  let services = build();
  server.on('request', options.edge ?? createWebApp(services));
  let workers: RunningWorkers = options.workers === false ? { close: async () => {} } : runWorkers(services, options.workerConcurrency ?? 4);
  let running = true;
  let webUp = true;
  const stopWeb = async () => {
    if (!webUp) return;
    webUp = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  const startWeb = async () => {
    if (webUp) return;
    server = await listen(port);
    server.on('request', options.edge ?? createWebApp(services));
    webUp = true;
  };

  const queuesEmpty = async () => {
    const [inbox, e, t, a] = await Promise.all([
      services.inbox.depth(),
      services.events.queue.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children', 'delayed'),
      services.timers.queue.getJobCounts('waiting', 'active', 'prioritized'),
      services.automation.queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed'),
    ]);
    return [inbox, ...Object.values(e), ...Object.values(t), ...Object.values(a)].every((n) => n === 0);
  };

  const stopApp = async () => {
    if (!running) return;
    running = false;
    await stopWeb();
    await workers.close();
    await services.close();
  };

  return {
    appUrl,
    get services() {
      return services;
    },
    portal,
    amo,
    pb,
    onec,
    get workers() {
      return workers;
    },
    get appRunning() {
      return running;
    },
    timeTravel(ms: number) {
      clock.offset += ms;
      amo.advanceClock(ms);
    },
    async fireTimersDue() {
      // Timers carry their due instant (`data.dueAt`) as robots computed it on the app's clock.
      const now = Date.now() + clock.offset;
      let fired = 0;
      for (const job of await services.timers.queue.getJobs(['delayed'])) {
        const dueAt = Date.parse(String(job?.data.data.dueAt ?? ''));
        if (job && dueAt <= now) {
          await job.promote();
          fired++;
        }
      }
      return fired;
    },
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
    stopWeb,
    startWeb,
    stopApp,
    async startApp(env = {}) {
      if (running) return;
      services = build(env);
      await startWeb();
      workers = runWorkers(services, options.workerConcurrency ?? 4);
      running = true;
    },
    async stop() {
      await stopApp();
      await portal.stop();
      await amo.stop();
      await pb.stop();
      await onec.stop();
      const cleanup = build();
      await removeAppData(cleanup);
      await cleanup.close();
    },
  };
}

async function listen(port: number): Promise<Server> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}
