import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { inboxPumped } from '../observability/metrics';
import { RateLimitedLog } from '../observability/rate-limited-log';
import { sleep } from '../infra/sleep';
import { decodeEntry, inboxKeys, type InboxKeys } from './event-inbox';
import type { AcceptedEvent, EventQueue } from './queues';

/** Entries moved into the queue per addBulk (one round trip; BullMQ runs one add script per entry). */
export const PUMP_BATCH = 500;
/** The leader lock's lifetime: a pump that died is replaced within this (plus PUMP_RETRY_MS). */
export const PUMP_LOCK_MS = 5000;
/** How often a pump that is not the leader looks whether the lock is free. */
export const PUMP_RETRY_MS = 1000;
/** How long the leader blocks waiting for the inbox's next entry before renewing its lock. */
const PUMP_WAIT_S = 1;

/**
 * Takes the next batch, as the leader only: tops the in-flight list up from the inbox's head to
 * `batch` entries and returns its first `batch`. Entries a previous pass left in flight (its
 * pump died before acknowledging) come first, so they are re-added before anything newer.
 * Renews the lock; nil when the caller no longer holds it.
 */
const CLAIM = `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return false end
redis.call('PEXPIRE', KEYS[3], ARGV[3])
local batch = tonumber(ARGV[2])
local want = batch - redis.call('LLEN', KEYS[2])
if want > 0 then
  local items = redis.call('LRANGE', KEYS[1], 0, want - 1)
  if #items > 0 then
    redis.call('RPUSH', KEYS[2], unpack(items))
    redis.call('LTRIM', KEYS[1], #items, -1)
  end
end
return redis.call('LRANGE', KEYS[2], 0, batch - 1)`;

/** Removes the acknowledged entries from the in-flight list (its head, or wherever they are). */
const ACK = `
local n = #ARGV
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
local same = #head == n
if same then
  for i = 1, n do
    if head[i] ~= ARGV[i] then same = false break end
  end
end
if same then
  redis.call('LTRIM', KEYS[1], n, -1)
  return n
end
local removed = 0
for i = 1, n do removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[i]) end
return removed`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface InboxPumpOptions {
  /** Bounded connection for the scripts and the lock. */
  redis: Redis;
  /** A connection of its own for the blocking wait (unbounded, like BullMQ workers'); the pump closes it. Needed by `start` only. */
  blocking?: Redis;
  prefix: string;
  events: Pick<EventQueue, 'addAccepted'>;
  log: Logger;
  batch?: number;
  lockMs?: number;
}

/**
 * Moves the edge's inbox into the events queue (event-inbox.ts). Every worker process runs one;
 * a Redis lock (`SET NX PX`, renewed by every pass) lets one of them move at a time, so the
 * queue gets the inbox's order. A pass, with the reliable-queue pattern:
 *   1. claim: the inbox's head moves to the in-flight list (one script, so nothing is in neither);
 *   2. `addBulk` of those entries, with the job ids and priorities the edge gave them;
 *   3. ack: they leave the in-flight list.
 * A pump killed after 1 leaves its entries in flight; the next leader's first claim returns them
 * and adds them (re-adding what was already added is a no-op: the job id exists). A pump that
 * lost its lock without noticing (a long pause) can at most add entries a second time, the same
 * no-op; its next claim fails, as the lock is checked in the claim script.
 */
export class InboxPump {
  private readonly keys: InboxKeys;
  private readonly token = randomBytes(12).toString('hex');
  private readonly batch: number;
  private readonly lockMs: number;
  private readonly errors: RateLimitedLog;
  private stopped = false;
  private leader = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: InboxPumpOptions) {
    this.keys = inboxKeys(options.prefix);
    this.batch = options.batch ?? PUMP_BATCH;
    this.lockMs = options.lockMs ?? PUMP_LOCK_MS;
    this.errors = new RateLimitedLog(options.log);
  }

  /** Whether this pump holds the lock (as of its last pass). */
  get isLeader(): boolean {
    return this.leader;
  }

  start(): this {
    if (!this.options.blocking) throw new Error('inbox pump: start() needs a blocking connection');
    this.loop ??= this.run();
    return this;
  }

  /** Stops after the current pass, gives up the lock and closes the blocking connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Ends a blocking wait at once; an entry it moved in the meantime stays in flight for the next leader.
    this.options.blocking?.disconnect();
    await this.loop;
    await this.release();
  }

  /**
   * Moves everything now in the inbox into the queue and returns how many entries it added
   * (tests and benches, with no worker running; waits for the lock up to `timeoutMs`).
   */
  async drain(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.acquire())) {
      if (Date.now() > deadline) throw new Error('inbox pump: another pump holds the lock');
      await sleep(50);
    }
    let added = 0;
    try {
      for (let moved = await this.pass(); moved !== null && moved > 0; moved = await this.pass()) added += moved;
    } finally {
      await this.release();
    }
    return added;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.leader && !(await this.acquire())) {
          await sleep(PUMP_RETRY_MS);
          continue;
        }
        const moved = await this.pass();
        if (moved === 0 && !this.stopped) await this.waitForEntry();
      } catch (err) {
        if (this.stopped) break;
        this.errors.warn('inbox-pump', { err }, 'inbox pump pass failed; the entries stay in the inbox and the next pass retries');
        await sleep(PUMP_RETRY_MS);
      }
    }
  }

  /** One claim → addBulk → ack. Returns the entries it handled, or null when it is not the leader. */
  private async pass(): Promise<number | null> {
    const { redis } = this.options;
    const raw = (await redis.eval(CLAIM, 3, this.keys.inbox, this.keys.pumping, this.keys.lock, this.token, this.batch, this.lockMs)) as string[] | null;
    if (raw === null) {
      this.leader = false;
      return null;
    }
    this.leader = true;
    if (raw.length === 0) return 0;
    const accepted: AcceptedEvent[] = [];
    for (const entry of raw) {
      const decoded = decodeEntry(entry);
      if (decoded) accepted.push(decoded);
      else this.errors.warn('inbox-entry', { entry: entry.slice(0, 200) }, 'inbox entry is not an event the edge writes; dropped');
    }
    await this.options.events.addAccepted(accepted);
    await redis.eval(ACK, 1, this.keys.pumping, ...raw);
    inboxPumped.inc(accepted.length);
    return raw.length;
  }

  /** Blocks until an entry arrives (it moves straight to the in-flight list) or PUMP_WAIT_S passes. */
  private async waitForEntry(): Promise<void> {
    await this.options.blocking!.blmove(this.keys.inbox, this.keys.pumping, 'LEFT', 'RIGHT', PUMP_WAIT_S).catch((err) => {
      if (!this.stopped) throw err;
    });
  }

  private async acquire(): Promise<boolean> {
    this.leader = (await this.options.redis.set(this.keys.lock, this.token, 'PX', this.lockMs, 'NX')) === 'OK';
    return this.leader;
  }

  private async release(): Promise<void> {
    this.leader = false;
    await this.options.redis.eval(RELEASE, 1, this.keys.lock, this.token).catch(() => undefined);
  }
}
