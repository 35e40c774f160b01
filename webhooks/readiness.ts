import { withinDeadline } from '../src/infra/redis-health';
import { HEARTBEAT_TTL_S, lastHeartbeat } from '../src/pipeline/worker-heartbeat';
import type { Services } from '../src/services';

const PING_TIMEOUT_MS = 500;

export interface Readiness {
  ok: boolean;
  redis: 'ok' | 'unavailable';
  /** Seconds since the latest worker heartbeat; null when none within HEARTBEAT_TTL_S. */
  workerHeartbeatAgeS: number | null;
  reason?: string;
}

/** Ready = Redis answers a PING within 500 ms and some worker beat within the last 30 s. */
export async function readiness(services: Services): Promise<Readiness> {
  try {
    await withinDeadline(services.redis.ping(), PING_TIMEOUT_MS, 'ping');
  } catch (err) {
    services.outage.failed('ready', err);
    return { ok: false, redis: 'unavailable', workerHeartbeatAgeS: null, reason: 'Redis does not answer' };
  }
  const beat = await withinDeadline(lastHeartbeat(services.redis, services.prefix), PING_TIMEOUT_MS, 'heartbeat').catch(() => null);
  if (!beat) return { ok: false, redis: 'ok', workerHeartbeatAgeS: null, reason: `no worker heartbeat within ${HEARTBEAT_TTL_S} s` };
  return { ok: true, redis: 'ok', workerHeartbeatAgeS: Math.round((Date.now() - beat.at) / 1000) };
}
