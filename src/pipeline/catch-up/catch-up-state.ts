import type { Redis } from 'ioredis';
import type { ChangedDeal } from '../../crm/change-feed';
import type { DealEntity, DealRef } from '../../crm/crm-port';
import { installationKey } from '../../infra/keys';

/** A handled version only matters while it is inside a scan window; a week outlives any outage worth catching up. */
const SEEN_TTL_SECONDS = 7 * 24 * 3600;
/**
 * Both CRMs keep change times in whole seconds. A deal read during the second it changed may
 * change again within that second, with the same `updatedAt`: such a version is not recorded as
 * handled (the next catch-up enqueues the deal once more, harmlessly). One more second allows for
 * a clock difference between the app and the CRM.
 */
const SAME_SECOND_MARGIN_S = 2;
/** Refreshed by every run; a watermark left behind by a removed installation expires. */
const STATUS_TTL_SECONDS = 30 * 24 * 3600;

export interface CatchUpStatus {
  /** Per entity: the newest change time (epoch seconds) the catch-up has enqueued. */
  watermarks: Partial<Record<DealEntity, number>>;
  /** Epoch ms when the last catch-up of this installation finished, or null if none has. */
  reconciledAt: number | null;
}

/**
 * What the catch-up path remembers per installation (all under the installation's keys):
 * - a watermark per entity: the newest `updatedAt` it has enqueued, so the next run reads only
 *   what changed after it;
 * - the version (`updatedAt`) of each deal the worker has already handled (live event or catch-up),
 *   so a scan enqueues only deals changed since the app last looked at them;
 * - when the last run finished (the reconciliation lag the metrics report).
 */
export class CatchUpState {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private statusKey(installationId: string) {
    return installationKey(this.prefix, installationId, 'catch-up');
  }

  private seenKey(installationId: string, ref: DealRef) {
    return installationKey(this.prefix, installationId, 'seen', ref.entity, ref.id);
  }

  async status(installationId: string): Promise<CatchUpStatus> {
    const raw = await this.redis.hgetall(this.statusKey(installationId));
    const watermarks: CatchUpStatus['watermarks'] = {};
    for (const entity of ['deal', 'lead'] as const) {
      const at = Number(raw[`watermark:${entity}`]);
      if (raw[`watermark:${entity}`] !== undefined && Number.isFinite(at)) watermarks[entity] = at;
    }
    const reconciledAt = raw.reconciledAt !== undefined ? Number(raw.reconciledAt) : null;
    return { watermarks, reconciledAt };
  }

  /** Moves the watermark forward only (two runs never race, but a retried page must not move it back). */
  async advance(installationId: string, entity: DealEntity, at: number): Promise<void> {
    await this.redis.eval(
      "local cur = redis.call('HGET', KEYS[1], ARGV[1]) if not cur or tonumber(cur) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end redis.call('EXPIRE', KEYS[1], ARGV[3]) return 1",
      1,
      this.statusKey(installationId),
      `watermark:${entity}`,
      String(at),
      String(STATUS_TTL_SECONDS),
    );
  }

  async finishRun(installationId: string, atMs: number): Promise<void> {
    await this.redis.multi().hset(this.statusKey(installationId), 'reconciledAt', String(atMs)).expire(this.statusKey(installationId), STATUS_TTL_SECONDS).exec();
  }

  /** Seconds since the last finished catch-up of the installation (null: never ran). */
  async lagSeconds(installationId: string, nowMs = Date.now()): Promise<number | null> {
    const { reconciledAt } = await this.status(installationId);
    return reconciledAt === null ? null : Math.max(0, (nowMs - reconciledAt) / 1000);
  }

  /** The items whose current version the app has not handled yet. */
  async unseen(installationId: string, items: ChangedDeal[]): Promise<ChangedDeal[]> {
    if (items.length === 0) return [];
    const versions = await this.redis.mget(...items.map((item) => this.seenKey(installationId, item)));
    return items.filter((item, i) => versions[i] === null || Number(versions[i]) < item.updatedAt);
  }

  /**
   * Records that the worker handled `ref` as it was at `version` (epoch seconds), having read it
   * at `readAtMs` or later. Returns false when the read was too close to the change to tell a
   * later change in the same second apart (nothing recorded).
   */
  async markHandled(installationId: string, ref: DealRef, version: number, readAtMs: number): Promise<boolean> {
    if (Math.floor(readAtMs / 1000) - version < SAME_SECOND_MARGIN_S) return false;
    await this.redis.set(this.seenKey(installationId, ref), String(version), 'EX', SEEN_TTL_SECONDS);
    return true;
  }
}

/** `updatedAt` of a Deal (ISO 8601) as epoch seconds, or null. */
export function epochSeconds(iso: string | null): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}
