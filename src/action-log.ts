import type { Redis } from 'ioredis';
import { robotActionSchema, type ActionLog, type InstallationState, type RobotAction } from './app';
import { installationKey } from './infra/keys';

const KEEP = 500;

/** The latest robot actions across installations (demo page, support) — a capped Redis list. */
export class RedisActionLog implements ActionLog {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async record(action: RobotAction): Promise<void> {
    const line = JSON.stringify(robotActionSchema.parse(action));
    await this.redis
      .multi()
      .lpush(`${this.prefix}:actions`, line)
      .ltrim(`${this.prefix}:actions`, 0, KEEP - 1)
      .lpush(installationKey(this.prefix, action.installationId, 'actions'), line)
      .ltrim(installationKey(this.prefix, action.installationId, 'actions'), 0, KEEP - 1)
      .exec();
  }

  async latest(limit: number, installationId?: string): Promise<RobotAction[]> {
    const key = installationId ? installationKey(this.prefix, installationId, 'actions') : `${this.prefix}:actions`;
    const lines = await this.redis.lrange(key, 0, limit - 1);
    return lines.map((l) => robotActionSchema.parse(JSON.parse(l)));
  }
}

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
}
