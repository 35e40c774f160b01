import type { Redis } from 'ioredis';
import { RedisActionLog } from './pipeline/action-log';
import { ReglamentApp } from './app';
import { encryptionKeyBytes, type AppConfig } from './config';
import { CrmClients } from './crm/crm-clients';
import { TokenCipher } from './infra/crypto';
import { RedisRateLimiter } from './infra/rate-limiter';
import { connectBoundedRedis, type RedisTarget } from './infra/redis';
import { systemLookup, type HostLookup } from './installations/install-targets';
import { RedisOutage } from './infra/redis-health';
import { watchInbox, watchQueue } from './observability/metrics';
import { Inventories } from './inventory/inventories';
import { inventoryQueue, type InventoryJob } from './inventory/inventory-jobs';
import type { Queue } from 'bullmq';
import { amocrmRefreshGrant, bitrix24RefreshGrant, type OAuthCredentials } from './installations/oauth-grants';
import { RedisInstallationStore } from './installations/redis-installation-store';
import { InstallationCache } from './installations/installation-cache';
import { InvalidationBus } from './infra/invalidation-bus';
import { TokenRefresher } from './installations/token-refresher';
import type { Logger } from './log';
import { OwnWriteLedger } from './pipeline/own-write-ledger';
import { EventQueue, TimerQueue, type QueueSettings } from './pipeline/queues';
import { EventInbox } from './pipeline/event-inbox';
import { robots } from './robots';
import { AutomationQueue } from './automation/automation-queue';
import { StageTracker } from './pipeline/stage-tracker';

/** The shared building blocks of the web and worker processes, wired once from the config. */
export interface Services {
  config: AppConfig;
  redisUrl: string;
  /** The URL and whether it is a Redis Cluster node: what every further connection (workers') is made from. */
  redisTarget: RedisTarget;
  redis: Redis;
  log: Logger;
  prefix: string;
  store: RedisInstallationStore;
  /** Tells every process that an installation record or its CRM catalog changed (Redis pub/sub). */
  invalidations: InvalidationBus;
  /** The edge's cached `store.find` (invalidated across processes; see InstallationCache). */
  edgeInstallations: InstallationCache;
  refresher: TokenRefresher;
  limiter: RedisRateLimiter;
  clients: CrmClients;
  inventories: Inventories;
  ownWrites: OwnWriteLedger;
  tracker: StageTracker;
  actions: RedisActionLog;
  events: EventQueue;
  /** Where the HTTP edge puts accepted events; the workers' inbox pump moves them into `events`. */
  inbox: EventInbox;
  timers: TimerQueue;
  /** Robot calls from the CRM's own automation (Bitrix24 robots), answered by the worker. */
  automation: AutomationQueue;
  /** Inventory polling, the nightly drift report, pushed 1C changes. */
  inventoryJobs: Queue<InventoryJob>;
  queueSettings: QueueSettings;
  oauth: OAuthCredentials;
  /** Resolves the hosts install requests name (tests replace it to stub DNS). */
  lookup: HostLookup;
  app: ReglamentApp;
  /** The clock robots read (tests replace it to control working-time arithmetic). */
  now: () => Date;
  /** Logs a Redis outage once when it starts and once when it ends. */
  outage: RedisOutage;
  close(): Promise<void>;
}

/** A safety net only: changes reach the edge's cache through the invalidation bus at once. */
const EDGE_INSTALLATION_TTL_MS = 60_000;
/** Records are about 1 KB: 10,000 portals' worth is ~10 MB, beyond that the least recent go. */
const EDGE_INSTALLATION_MAX = 10_000;

export function createServices(config: AppConfig, redisUrl: string, log: Logger): Services {
  // The app's keys and the queue producers: every command bounded (a frozen Redis fails fast).
  const redisTarget: RedisTarget = { url: redisUrl, cluster: config.REDIS_CLUSTER === 'on' };
  const redis = connectBoundedRedis(redisTarget, config.REDIS_COMMAND_TIMEOUT_MS);
  const outage = new RedisOutage(log, redis);
  outage.watch(redis, 'app');
  const prefix = config.REDIS_PREFIX;
  const store = new RedisInstallationStore(redis, new TokenCipher(encryptionKeyBytes(config)), prefix);
  const invalidations = new InvalidationBus(redis, redisUrl, prefix);
  const oauth: OAuthCredentials = {
    bitrix24: { clientId: config.BITRIX24_CLIENT_ID, clientSecret: config.BITRIX24_CLIENT_SECRET },
    amocrm: {
      clientId: config.AMOCRM_CLIENT_ID,
      clientSecret: config.AMOCRM_CLIENT_SECRET,
      redirectUri: config.AMOCRM_REDIRECT_URI ?? `${config.PUBLIC_URL}/amocrm/oauth/callback`,
    },
  };
  const refresher = new TokenRefresher(redis, store, prefix, { bitrix24: bitrix24RefreshGrant(oauth.bitrix24), amocrm: amocrmRefreshGrant(oauth.amocrm) }, log);
  const limiter = new RedisRateLimiter(redis);
  // The queues get their own connection: producers fail fast when Redis is away (no offline queue,
  // bounded commands), so the edge answers 503 and the CRM retries. Workers use connections of their own.
  const producer = outage.watch(connectBoundedRedis(redisTarget, config.REDIS_COMMAND_TIMEOUT_MS, { enableOfflineQueue: false, enableAutoPipelining: true }), 'queue');
  const queueSettings: QueueSettings = { connection: producer, prefix, attempts: config.JOB_ATTEMPTS, backoffMs: config.JOB_BACKOFF_MS, deadlineMs: config.REDIS_COMMAND_TIMEOUT_MS, fairDrainPerSecond: config.EVENT_FAIR_SHARE_PER_SECOND };
  const events = new EventQueue(queueSettings);
  const inbox = new EventInbox(producer, prefix, events, config.REDIS_COMMAND_TIMEOUT_MS);
  const timers = new TimerQueue(queueSettings);
  const automation = new AutomationQueue(queueSettings);
  const inventoryJobs = inventoryQueue(producer, prefix);
  for (const queue of [events.queue, timers.queue, automation.queue, inventoryJobs]) queue.on('error', outage.errorHandler(`queue ${queue.name}`));
  const unwatch = [watchInbox(inbox), watchQueue(events.queue), watchQueue(timers.queue), watchQueue(automation.queue), watchQueue(inventoryJobs)];
  return {
    config,
    redisUrl,
    redisTarget,
    redis,
    log,
    prefix,
    store,
    invalidations,
    edgeInstallations: new InstallationCache((id) => store.find(id), invalidations, { ttlMs: EDGE_INSTALLATION_TTL_MS, maxEntries: EDGE_INSTALLATION_MAX }),
    refresher,
    limiter,
    clients: new CrmClients({ redis, prefix, config, store, refresher, limiter, log, invalidations }),
    inventories: new Inventories({ redis, prefix, limiter, config, log }),
    ownWrites: new OwnWriteLedger(redis, prefix),
    tracker: new StageTracker(redis, prefix),
    actions: new RedisActionLog(redis, prefix),
    events,
    inbox,
    timers,
    automation,
    inventoryJobs,
    queueSettings,
    oauth,
    lookup: systemLookup,
    app: new ReglamentApp(robots),
    now: () => new Date(),
    outage,
    async close() {
      for (const stop of unwatch) stop();
      outage.close();
      await invalidations.close();
      await events.close();
      await timers.close();
      await automation.close();
      await inventoryJobs.close();
      await producer.quit().catch(() => undefined);
      await redis.quit().catch(() => undefined);
    },
  };
}
