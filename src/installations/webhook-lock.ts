import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { installationKey } from '../infra/keys';
import { sleep } from '../infra/sleep';

/** Longer than an install's save + subscribe (a few requests), short enough to outlive a crash harmlessly. */
const LOCK_MS = 30_000;

const lockKey = (prefix: string, installationId: string) => installationKey(prefix, installationId, 'webhook-lock');

/**
 * One writer at a time for an amoCRM installation's webhook secret and subscription, across
 * processes: an install (new secret, new webhook) and the catch-up's re-subscribe must not
 * interleave, or the stored hash and the registered URL could end up from different secrets.
 * `wait: false` gives up at once (the catch-up checks again next run).
 */
export async function withWebhookLock<T>(
  redis: Redis,
  prefix: string,
  installationId: string,
  wait: boolean,
  work: () => Promise<T>,
): Promise<T | undefined> {
  const key = lockKey(prefix, installationId);
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + LOCK_MS;
  while ((await redis.set(key, token, 'PX', LOCK_MS, 'NX')) !== 'OK') {
    if (!wait) return undefined;
    // A crashed holder's lock expires; after that long, going ahead is safer than failing the install.
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  try {
    return await work();
  } finally {
    await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, token);
  }
}
