import { withinDeadline } from '../src/infra/redis-health';
import { HEARTBEAT_TTL_S, lastHeartbeat } from '../src/pipeline/worker-heartbeat';
import type { Services } from '../src/services';

const PING_TIMEOUT_MS = 500;
/** An inbox entry older than this means no inbox pump moves entries (a pass takes milliseconds; a dead leader is replaced within ~6 s). */
export const INBOX_STALL_S = 30;

export interface Readiness {
  ok: boolean;
  redis: 'ok' | 'unavailable';
  /** Seconds since the latest worker heartbeat; null when none within HEARTBEAT_TTL_S. */
  workerHeartbeatAgeS: number | null;
  /** Seconds the oldest event has waited in the inbox for the pump (0: empty); null when not read. */
  inboxOldestAgeS?: number | null;
  reason?: string;
}

/** Ready = Redis answers a PING within 500 ms, some worker beat within the last 30 s, and the inbox pump keeps up. */
export async function readiness(services: Services): Promise<Readiness> {
  try {
    await withinDeadline(services.redis.ping(), PING_TIMEOUT_MS, 'ping');
  } catch (err) {
    services.outage.failed('ready', err);
    return { ok: false, redis: 'unavailable', workerHeartbeatAgeS: null, reason: 'Redis does not answer' };
  }
  const beat = await withinDeadline(lastHeartbeat(services.redis, services.prefix), PING_TIMEOUT_MS, 'heartbeat').catch(() => null);
  if (!beat) return { ok: false, redis: 'ok', workerHeartbeatAgeS: null, reason: `no worker heartbeat within ${HEARTBEAT_TTL_S} s` };
  const workerHeartbeatAgeS = Math.round((Date.now() - beat.at) / 1000);
  const oldest = await withinDeadline(services.inbox.oldestAppendedAt(), PING_TIMEOUT_MS, 'inbox').catch(() => undefined);
  const inboxOldestAgeS = oldest === undefined ? null : oldest === null ? 0 : Math.max(0, Math.round((Date.now() - oldest) / 1000));
  if (inboxOldestAgeS !== null && inboxOldestAgeS > INBOX_STALL_S) {
    return { ok: false, redis: 'ok', workerHeartbeatAgeS, inboxOldestAgeS, reason: `the inbox pump moved nothing for ${inboxOldestAgeS} s` };
  }
  return { ok: true, redis: 'ok', workerHeartbeatAgeS, inboxOldestAgeS };
}
