import { randomBytes } from 'node:crypto';
import { readConfig, type AppConfig } from '../../src/config';
import { escapeGlob } from '../../src/infra/keys';
import { scanKeys } from '../../src/installations/redis-installation-store';
import { createLogger } from '../../src/log';
import { runWorkers, type RunningWorkers } from '../../src/pipeline/run-workers';
import { createServices, type Services } from '../../src/services';

export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');

/**
 * Services on the real Redis under a key prefix of their own, so test files never see each
 * other's data; `cleanup()` removes every key under that prefix.
 */
export async function createTestServices(env: Partial<Record<keyof AppConfig, string>> = {}): Promise<Services & { cleanup(): Promise<void> }> {
  const prefix = `reglament-test-${randomBytes(4).toString('hex')}`;
  const config = readConfig({
    NODE_ENV: 'test',
    TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JOB_ATTEMPTS: '3',
    JOB_BACKOFF_MS: '200',
    // Catch-up sweeps would call the CRMs of every stored installation; tests that want it turn it on.
    RECONCILE_INTERVAL_S: '0',
    // A test machine running the suite on both cores can stall an event loop past the production 800 ms;
    // the outage tests set their own bound (test/ops/redis-outage.test.ts).
    REDIS_COMMAND_TIMEOUT_MS: '3000',
    ...env,
  } as NodeJS.ProcessEnv);
  const services = createServices(config, redisUrl(), createLogger(config.LOG_LEVEL));
  return Object.assign(services, {
    async cleanup() {
      await removeAppData(services);
      await services.close();
    },
  });
}

/** Removes the queues and every key under the services' prefix. */
export async function removeAppData(services: Services): Promise<void> {
  await services.events.queue.obliterate({ force: true }).catch(() => undefined);
  await services.timers.queue.obliterate({ force: true }).catch(() => undefined);
  await services.inventoryJobs.obliterate({ force: true }).catch(() => undefined);
  const keys = await scanKeys(services.redis, `${escapeGlob(services.prefix)}:*`);
  // One key per DEL: the keys of different installations sit in different Redis Cluster slots.
  for (let i = 0; i < keys.length; i += 500) await Promise.all(keys.slice(i, i + 500).map((key) => services.redis.del(key)));
}

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is set by test/helpers/global-setup.ts');
  return url;
}

export type { RunningWorkers };
export { runWorkers };

/** Waits until `check` passes (polling), or fails with its last error. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
  throw lastError;
}
