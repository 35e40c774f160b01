import type { Redis } from 'ioredis';
import { rateLimiterWaitSeconds } from '../observability/metrics';
import { sleep } from './sleep';

export interface BucketLimits {
  /** How many requests may go at once from a full rest (Bitrix24: 50). */
  burst: number;
  /** Steady rate the bucket drains at (Bitrix24: 2/s, amoCRM: 7/s). */
  perSecond: number;
}

/*
 * Leaky bucket kept in Redis so every worker process shares one budget per installation.
 * The clock is Redis TIME, so processes with skewed clocks still agree.
 * KEYS[1] bucket; ARGV: burst, perSecond, cost. Returns 0 if admitted, else ms to wait.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000
local cost = tonumber(ARGV[3])
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or tostring(now))
level = math.max(0, level - (now - at) * rate)
local ttl = math.ceil(burst / rate) + 1000
if level + cost <= burst then
  redis.call('HSET', KEYS[1], 'level', tostring(level + cost), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 0
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ttl)
return math.ceil((level + cost - burst) / rate)
`;

/** Fills the bucket past its brim: the CRM said we are over its limit, so every process waits `pause` ms. */
const FILL = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local level = tonumber(ARGV[1]) + tonumber(ARGV[3]) * tonumber(ARGV[2]) / 1000
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / (tonumber(ARGV[2]) / 1000)) + 1000)
return 1
`;

export class RedisRateLimiter {
  constructor(private readonly redis: Redis) {}

  /** Returns 0 when a request may go now, else how many ms until it may. */
  async tryAcquire(key: string, limits: BucketLimits, cost = 1): Promise<number> {
    return Number(await this.redis.eval(ACQUIRE, 1, key, limits.burst, limits.perSecond, cost));
  }

  /** Waits until the request may go; the wait is observed per CRM (`crm` labels the metric, never an installation). */
  async acquire(key: string, limits: BucketLimits, cost = 1, crm = 'other'): Promise<void> {
    const started = performance.now();
    for (;;) {
      const wait = await this.tryAcquire(key, limits, cost);
      if (wait === 0) break;
      await sleep(Math.min(wait, 1000));
    }
    rateLimiterWaitSeconds.observe({ crm }, (performance.now() - started) / 1000);
  }

  /** The CRM answered "limit exceeded": no process sends on this key for `pauseMs` (default: one drain step). */
  async penalize(key: string, limits: BucketLimits, pauseMs = 1000 / limits.perSecond): Promise<void> {
    await this.redis.eval(FILL, 1, key, limits.burst, limits.perSecond, Math.max(0, pauseMs - 1000 / limits.perSecond));
  }
}
