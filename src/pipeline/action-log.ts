import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { robotActionSchema, type ActionLog, type RobotAction } from '../app';
import { installationKey } from '../infra/keys';

/**
 * Retention of the action log. Rows name contacts and deals (personal data), so they are kept
 * per installation only (uninstall removes them with the installation's other keys), and no
 * longer than needed for support and audit: the newest ACTION_LOG_KEEP_ROWS rows, none older
 * than ACTION_LOG_KEEP_DAYS.
 */
export const ACTION_LOG_KEEP_ROWS = 1000;
export const ACTION_LOG_KEEP_DAYS = 90;
const KEEP_MS = ACTION_LOG_KEEP_DAYS * 24 * 3600 * 1000;

/**
 * What robots did, per installation: a sorted set `<prefix>:i:{<id>}:actions` scored by time.
 * Every write trims it to the retention limits, and the key expires when the installation has
 * been quiet for the whole retention period.
 */
export class RedisActionLog implements ActionLog {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** Records a row; each row gets an id (returned) by which the card names it. */
  async record(action: RobotAction): Promise<string> {
    const row = robotActionSchema.parse({ ...action, id: action.id ?? randomUUID() });
    const key = installationKey(this.prefix, row.installationId, 'actions');
    const at = Date.parse(row.at);
    const now = Date.now();
    await this.redis
      .multi()
      .zadd(key, Number.isFinite(at) ? at : now, JSON.stringify(row))
      .zremrangebyscore(key, '-inf', `(${now - KEEP_MS}`)
      .zremrangebyrank(key, 0, -(ACTION_LOG_KEEP_ROWS + 1))
      .pexpire(key, KEEP_MS)
      .exec();
    return row.id!;
  }

  /** The rows about one deal (lead), newest first, within the retention limits. */
  async ofTarget(installationId: string, target: { entity: string; id: string }, limit = 100): Promise<RobotAction[]> {
    const rows = await this.latest(installationId, ACTION_LOG_KEEP_ROWS);
    return rows.filter((r) => r.target.entity === target.entity && r.target.id === target.id).slice(0, limit);
  }

  /** One row of the installation by its id (null: unknown here, or past retention). */
  async find(installationId: string, id: string): Promise<RobotAction | null> {
    const rows = await this.latest(installationId, ACTION_LOG_KEEP_ROWS);
    return rows.find((r) => r.id === id) ?? null;
  }

  /** The newest rows of one installation, newest first. */
  async latest(installationId: string, limit: number): Promise<RobotAction[]> {
    const key = installationKey(this.prefix, installationId, 'actions');
    const rows = await this.redis.zrevrangebyscore(key, '+inf', Date.now() - KEEP_MS, 'LIMIT', 0, limit);
    return rows.map((r) => robotActionSchema.parse(JSON.parse(r)));
  }

  /** The newest rows across the given installations (the local status page and the demo). */
  async latestOf(installationIds: string[], limit: number): Promise<RobotAction[]> {
    const perInstallation = await Promise.all(installationIds.map((id) => this.latest(id, limit)));
    return perInstallation
      .flat()
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, limit);
  }
}
