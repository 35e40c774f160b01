import { z } from 'zod';
import { DEFAULT_DRAIN_PER_SECOND } from './pipeline/fair-priority';

/**
 * Everything the app reads from the environment, validated once.
 * `readConfig(process.env)` is the only place that touches `process.env`.
 */
const csv = z
  .string()
  .optional()
  .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().positive().default(3000),
  /** Public https base URL of the web process; handler URLs given to the CRMs are built from it. */
  PUBLIC_URL: z.url().optional(),
  REDIS_URL: z.string().optional(),
  /** `on`: REDIS_URL names one node of a Redis Cluster, and every connection is an ioredis Cluster client. */
  REDIS_CLUSTER: z.enum(['on', 'off']).default('off'),
  /** Every Redis key and BullMQ queue of the app lives under this prefix. */
  REDIS_PREFIX: z.string().min(1).default('reglament'),
  /** 32 bytes, base64 or hex: encrypts OAuth tokens at rest. */
  TOKEN_ENCRYPTION_KEY: z
    .string({ error: 'is required: 32 random bytes in base64 or hex (openssl rand -base64 32)' })
    .min(32, 'must be 32 bytes in base64 (44 chars) or hex (64 chars)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  BITRIX24_CLIENT_ID: z.string().default('local.reglament'),
  BITRIX24_CLIENT_SECRET: z.string().default(''),
  /**
   * The application code `app.info` reports (CODE) on a portal that installed this app; an install
   * is confirmed only when the portal names this code. For a local app it is the client_id
   * (`local.…`, the default); a marketplace app has its vendor code (`vendor.app`).
   */
  BITRIX24_APP_CODE: z.string().optional(),
  /** Leaky bucket of the portal's plan: 50/2 for all plans but Enterprise (250/5). */
  BITRIX24_RATE_BURST: z.coerce.number().int().positive().default(50),
  BITRIX24_RATE_PER_SECOND: z.coerce.number().positive().default(2),

  AMOCRM_CLIENT_ID: z.string().default(''),
  AMOCRM_CLIENT_SECRET: z.string().default(''),
  AMOCRM_REDIRECT_URI: z.string().optional(),
  AMOCRM_RATE_PER_SECOND: z.coerce.number().positive().default(7),
  /** Concurrent jobs of one amoCRM account share list requests (README, "Merged amoCRM requests"). */
  AMOCRM_MERGE_REQUESTS: z.enum(['on', 'off']).default('on'),
  /**
   * Development only: account hosts reached over plain http (the local amoCRM emulator,
   * e.g. `127.0.0.1`). Refused when NODE_ENV=production: production talks https only.
   */
  AMOCRM_INSECURE_HOSTS: csv,
  /** Inventory hosts (e.g. an on-premise 1C) the settings page's "test connection" may reach in production although they resolve to private addresses. */
  INVENTORY_PRIVATE_HOSTS: csv,

  /**
   * Requests per second to one Profitbase account. Profitbase blocks the sender IP above 1/s;
   * 0.9 leaves room for network jitter. Above 1 only outside production (tests on the emulator).
   */
  PROFITBASE_REQUESTS_PER_SECOND: z.coerce.number().positive().default(0.9),
  WORKER_CONCURRENCY: z.coerce.number().int().positive().default(8),
  /** Concurrent jobs of one Bitrix24 portal share `batch` calls (README, "Coalesced batches"); `off` sends each job's calls alone. */
  BITRIX24_COALESCE_BATCHES: z.enum(['on', 'off']).default('on'),
  /**
   * An update event received at most this many seconds after the app wrote the deal is taken as that
   * write's echo and dropped without reading, one event per write (README, "No wasted calls"). 0: every echo is read.
   */
  OWN_WRITE_ECHO_WINDOW_S: z.coerce.number().nonnegative().default(10),
  /**
   * Bitrix24 counts a request when it arrives, the app when it admits it: the app's bucket keeps this much
   * of the portal's drain (ms) as headroom, so requests admitted in turn but delayed unevenly on the way
   * never arrive over the limit. Costs ceil(rate × margin) requests of the burst, nothing of the steady rate.
   */
  BITRIX24_RATE_MARGIN_MS: z.coerce.number().int().nonnegative().default(1000),
  /**
   * Fair scheduling between installations (src/pipeline/fair-priority.ts): the events per second
   * of one installation that count as its fair share; a portal sending more queues behind quieter
   * ones. 0 turns fairness off (plain arrival order).
   */
  EVENT_FAIR_SHARE_PER_SECOND: z.coerce.number().min(0).default(DEFAULT_DRAIN_PER_SECOND),
  /** How many times a job is tried before it stays in the failed list for inspection. */
  JOB_ATTEMPTS: z.coerce.number().int().positive().default(8),
  JOB_BACKOFF_MS: z.coerce.number().int().positive().default(2000),
  /**
   * Catch-up after downtime: every this many seconds (and at worker start) each installation's
   * deals and leads changed since its watermark are enqueued again. 0 turns catch-up off.
   */
  RECONCILE_INTERVAL_S: z.coerce.number().int().nonnegative().default(300),
  /** First catch-up of an installation with no watermark looks back at most this far (never before its install). */
  RECONCILE_FIRST_WINDOW_S: z.coerce.number().int().positive().default(3600),
  /**
   * Crash recovery (README, Operations). A running job holds a lock the worker renews every
   * JOB_LOCK_MS / 2; a job whose worker died is taken again once its lock expired, at the next
   * stall check (every JOB_STALLED_CHECK_MS): after kill -9 within JOB_LOCK_MS + JOB_STALLED_CHECK_MS.
   */
  JOB_LOCK_MS: z.coerce.number().int().min(1000).default(8000),
  JOB_STALLED_CHECK_MS: z.coerce.number().int().min(500).default(2000),
  /** A job whose worker died more often than this fails for inspection (it may be what kills the worker). */
  JOB_MAX_STALLED: z.coerce.number().int().min(1).default(2),

  /** Every Redis command of the edge and of the app's keys ends within this (a frozen Redis → 503, not a hang). */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(800),
  /** A worker-only process serves its own Prometheus /metrics on this port (unset: none). */
  METRICS_PORT: z.coerce.number().int().positive().optional(),
  /** The queue dashboard at /admin/queues, behind HTTP basic authentication with these. */
  DASHBOARD_USER: z.string().min(1).optional(),
  DASHBOARD_PASSWORD: z.string().min(1).optional(),
});

export type AppConfig = Omit<z.infer<typeof configSchema>, 'PUBLIC_URL'> & { PUBLIC_URL: string };

export function readConfig(env: NodeJS.ProcessEnv): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}\nSee .env.example.`);
  }
  // Without a public URL (development) the CRMs are told to call this machine's own port.
  const config: AppConfig = { ...parsed.data, PUBLIC_URL: parsed.data.PUBLIC_URL ?? `http://127.0.0.1:${parsed.data.PORT}` };
  if (config.NODE_ENV === 'production' && !parsed.data.PUBLIC_URL) throw new Error('PUBLIC_URL is required in production: the https address the CRMs call.');
  if (Boolean(config.DASHBOARD_USER) !== Boolean(config.DASHBOARD_PASSWORD)) {
    throw new Error('DASHBOARD_USER and DASHBOARD_PASSWORD go together: set both to open the queue dashboard, or neither.');
  }
  if (config.NODE_ENV === 'production' && config.AMOCRM_INSECURE_HOSTS.length > 0) {
    throw new Error('AMOCRM_INSECURE_HOSTS is for development against the emulator; production talks to amoCRM over https only.');
  }
  if (config.NODE_ENV === 'production' && config.PROFITBASE_REQUESTS_PER_SECOND > 1) {
    throw new Error('PROFITBASE_REQUESTS_PER_SECOND above 1 gets the IP blocked by Profitbase; it is for tests against the emulator.');
  }
  return config;
}

const SECRET_SETTING = /SECRET|PASSWORD|KEY|TOKEN/;

/** The configuration as the worker logs it at start: secrets shown only as set / not set. */
export function describeConfig(config: AppConfig): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    if (SECRET_SETTING.test(name)) shown[name] = value ? '(set)' : '(not set)';
    else if (name === 'REDIS_URL' && typeof value === 'string') shown[name] = value.replace(/\/\/[^@/]*@/, '//***@');
    else shown[name] = value;
  }
  return shown;
}

/** Derives the 32-byte token key from TOKEN_ENCRYPTION_KEY (hex or base64). */
export function encryptionKeyBytes(config: Pick<AppConfig, 'TOKEN_ENCRYPTION_KEY'>): Buffer {
  const raw = config.TOKEN_ENCRYPTION_KEY;
  const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new Error('TOKEN_ENCRYPTION_KEY must decode to exactly 32 bytes');
  return key;
}
