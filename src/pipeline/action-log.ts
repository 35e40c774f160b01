import type { Redis } from 'ioredis';
import { robotActionSchema, type ActionLog, type RobotAction } from '../app';
import { installationKey } from '../infra/keys';

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
