import type { Redis } from 'ioredis';
import type { InstallationState } from '../app';
import { installationKey } from '../infra/keys';

/** Robot state scoped to one installation (removed with it on uninstall). */
export class RedisInstallationState implements InstallationState {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly installationId: string) {}

  private key(k: string) {
    return installationKey(this.prefix, this.installationId, 'state', k);
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(this.key(key));
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds) await this.redis.set(this.key(key), value, 'EX', ttlSeconds);
    else await this.redis.set(this.key(key), value);
  }

  async increment(key: string, ttlSeconds: number): Promise<number> {
    const [[, count]] = (await this.redis.multi().incr(this.key(key)).expire(this.key(key), ttlSeconds, 'NX').exec()) as [[null, number]];
    return count;
  }

  async push(key: string, value: string, keep: number): Promise<void> {
    await this.redis.multi().lpush(this.key(key), value).ltrim(this.key(key), 0, keep - 1).exec();
  }

  list(key: string, limit: number): Promise<string[]> {
    return this.redis.lrange(this.key(key), 0, limit - 1);
  }

  async claim(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.key(key), value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async release(key: string, value: string): Promise<void> {
    // Compare and delete in one step: a lock that expired and was taken by another worker stays theirs.
    await this.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, this.key(key), value);
  }

  async compareAndSet(key: string, expected: string | null, next: string, ttlSeconds?: number): Promise<boolean> {
    const done = await this.redis.eval(COMPARE_AND_SET, 1, this.key(key), expected === null ? '1' : '0', expected ?? '', next, String(ttlSeconds ?? 0));
    return done === 1;
  }

  async mapSet(key: string, field: string, value: string): Promise<void> {
    await this.redis.hset(this.key(key), field, value);
  }

  async mapDelete(key: string, field: string): Promise<void> {
    await this.redis.hdel(this.key(key), field);
  }

  mapAll(key: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key(key));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.key(key));
  }
}

/** KEYS[1]; ARGV: expect-absent flag, expected value, new value, TTL seconds (0: none). */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
local matches = (ARGV[1] == '1' and current == false) or (ARGV[1] == '0' and current == ARGV[2])
if not matches then return 0 end
if tonumber(ARGV[4]) > 0 then redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4]) else redis.call('SET', KEYS[1], ARGV[3]) end
return 1`;
