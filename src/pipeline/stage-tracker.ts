import type { Redis } from 'ioredis';
import type { DealRef, StageHistoryEntry } from '../crm/crm-port';
import { installationKey } from '../infra/keys';

const KEEP_SECONDS = 400 * 24 * 3600;

/**
 * Bitrix24 events carry no old stage, so the app keeps the last stage it accepted for every
 * deal; a change is "from what we last saw to what the CRM shows now".
 */
export class StageTracker {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(installationId: string, ref: DealRef) {
    return installationKey(this.prefix, installationId, 'stage', ref.entity, ref.id);
  }

  get(installationId: string, ref: DealRef): Promise<string | null> {
    return this.redis.get(this.key(installationId, ref));
  }

  async set(installationId: string, ref: DealRef, stageId: string): Promise<void> {
    await this.redis.set(this.key(installationId, ref), stageId, 'EX', KEEP_SECONDS);
  }
}

/** The stage the deal was in before `current`, per the CRM's history (first sight of a deal). */
export function previousStage(history: StageHistoryEntry[], current: string): string | null {
  for (let i = history.length - 1; i > 0; i--) {
    if (history[i]!.stageId === current && history[i - 1]!.stageId !== current) return history[i - 1]!.stageId;
  }
  return null;
}

/** Stages entered after `from`, ending at `current` (moves faster than the app could see). */
export function pathSince(history: StageHistoryEntry[], from: string, current: string): string[] {
  const ids = history.map((h) => h.stageId);
  const start = ids.lastIndexOf(from);
  const after = start >= 0 ? ids.slice(start + 1) : [];
  const end = after.lastIndexOf(current);
  const path = end >= 0 ? after.slice(0, end + 1) : [...after, current];
  return path.length ? path : [current];
}
