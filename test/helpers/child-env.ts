import type { AppConfig } from '../../src/config';

/**
 * The environment of an app process a test starts (bin/web.ts, bin/worker.ts): the test stack's own
 * settings, so the child talks to the same Redis prefix and emulators with the same secrets and limits.
 * The catch-up sweep is off (scenarios count the portal calls of their events), `extra` wins.
 */
export function childEnvOf(config: AppConfig, redisUrl: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: config.NODE_ENV,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: config.REDIS_PREFIX,
    TOKEN_ENCRYPTION_KEY: config.TOKEN_ENCRYPTION_KEY,
    PUBLIC_URL: config.PUBLIC_URL,
    BITRIX24_CLIENT_ID: config.BITRIX24_CLIENT_ID,
    BITRIX24_CLIENT_SECRET: config.BITRIX24_CLIENT_SECRET,
    BITRIX24_COALESCE_BATCHES: config.BITRIX24_COALESCE_BATCHES,
    BITRIX24_RATE_BURST: String(config.BITRIX24_RATE_BURST),
    BITRIX24_RATE_PER_SECOND: String(config.BITRIX24_RATE_PER_SECOND),
    AMOCRM_CLIENT_ID: config.AMOCRM_CLIENT_ID,
    AMOCRM_CLIENT_SECRET: config.AMOCRM_CLIENT_SECRET,
    AMOCRM_INSECURE_HOSTS: config.AMOCRM_INSECURE_HOSTS.join(','),
    JOB_ATTEMPTS: String(config.JOB_ATTEMPTS),
    JOB_BACKOFF_MS: String(config.JOB_BACKOFF_MS),
    RECONCILE_INTERVAL_S: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
