import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

/** A worker beats every 10 s; `/ready` wants a beat younger than 30 s (the key's TTL). */
export const HEARTBEAT_EVERY_MS = 10_000;
export const HEARTBEAT_TTL_S = 30;

export const heartbeatKey = (prefix: string) => `${prefix}:worker-heartbeat`;

export interface Heartbeat {
  at: number;
  worker: string;
}

/** Starts beating now and every HEARTBEAT_EVERY_MS; a missed beat (Redis away) is simply the next one. */
export function startHeartbeat(redis: Redis, prefix: string): () => void {
  const worker = `${hostname()}:${process.pid}`;
  const beat = () => {
    const value: Heartbeat = { at: Date.now(), worker };
    void redis.set(heartbeatKey(prefix), JSON.stringify(value), 'EX', HEARTBEAT_TTL_S).catch(() => undefined);
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The latest beat of any worker, or null when none beat within the last HEARTBEAT_TTL_S seconds. */
export async function lastHeartbeat(redis: Redis, prefix: string): Promise<Heartbeat | null> {
  const raw = await redis.get(heartbeatKey(prefix));
  if (!raw) return null;
  try {
    const beat = JSON.parse(raw) as Heartbeat;
    return Date.now() - beat.at <= HEARTBEAT_TTL_S * 1000 ? beat : null;
  } catch {
    return null;
  }
}
