import { resolveRedis } from '../../src/infra/redis';

/** Finds (or starts) the Redis the integration tests use; each test file then works under its own key prefix. */
export default async function globalSetup(): Promise<void> {
  const redis = await resolveRedis(process.env);
  process.env.REDIS_URL = redis.url;
  (globalThis as { __reglamentRedis?: typeof redis }).__reglamentRedis = redis;
}
