import { randomBytes } from 'node:crypto';
import { Command, type Redis } from 'ioredis';
import { queuedEventSchema, type QueuedEvent } from '../events';
import { installationKey } from '../infra/keys';
import { RedisUnavailableError } from '../infra/redis-health';
import type { AcceptedEvent, EventQueue } from './queues';

/**
 * The event inbox (issue 11, throughput): what the HTTP edge writes instead of adding a BullMQ
 * job per webhook. A BullMQ add is a Lua script with several keys and a JS-side job object per
 * request; an inbox append is one RPUSH shared by every request of an event-loop turn. The inbox
 * pump (inbox-pump.ts, in the worker processes) moves the entries into the events queue in bulk.
 *
 * Keys: `<prefix>:{inbox}:events` (the inbox) and `<prefix>:{inbox}:events:*` (the pump's
 * in-flight list and leader lock). One hash tag, so the pump's scripts touching several of them
 * run on a Redis Cluster (BullMQ's own keys share the `{bull}` tag the same way).
 *
 * Guarantees, as with the direct add before:
 * - the edge answers 200 only after Redis acknowledged the append (nothing accepted is lost), and
 *   503 when Redis does not answer within the deadline (the producer connection has no offline
 *   queue, so a Redis that is down fails at once);
 * - the fairness priority is computed here, when the event arrives, by the same in-memory
 *   backlog estimate as before (fair-priority.ts), and the inbox is FIFO, so the queue sees the
 *   events in arrival order with the priorities they had on arrival;
 * - every entry carries a job id unique to it, so the pump adding an entry twice (killed between
 *   adding and acknowledging) makes no second job while BullMQ keeps the first.
 */
export interface InboxKeys {
  inbox: string;
  /** Entries the pump took and has not yet acknowledged (re-added by the next pass). */
  pumping: string;
  /** Which pump may move entries (one at a time, see InboxPump). */
  lock: string;
}

export const inboxKeys = (prefix: string): InboxKeys => ({
  inbox: `${prefix}:{inbox}:events`,
  pumping: `${prefix}:{inbox}:events:pumping`,
  lock: `${prefix}:{inbox}:events:pump-lock`,
});

/** One inbox entry as stored: the accepted event plus when it was appended (`t`, epoch ms). */
interface StoredEntry {
  id: string;
  p: number;
  t: number;
  e: QueuedEvent;
}

export function encodeEntry(accepted: AcceptedEvent, at: number): string {
  const stored: StoredEntry = { id: accepted.jobId, p: accepted.priority, t: at, e: accepted.event };
  return JSON.stringify(stored);
}

/** The entry back, validated (null for anything the edge would not have written). */
export function decodeEntry(raw: string): (AcceptedEvent & { appendedAt: number }) | null {
  try {
    const stored = JSON.parse(raw) as Partial<StoredEntry>;
    const event = queuedEventSchema.safeParse(stored.e);
    if (!event.success || typeof stored.id !== 'string' || !/^e[0-9a-f]+\.[0-9a-z]+$/.test(stored.id)) return null;
    if (typeof stored.p !== 'number' || !Number.isInteger(stored.p) || stored.p < 1) return null;
    return { jobId: stored.id, priority: stored.p, event: event.data, appendedAt: typeof stored.t === 'number' ? stored.t : 0 };
  } catch {
    return null;
  }
}

/** When the entry was appended (epoch ms), or null: what /ready reads of the inbox's head. */
export function appendedAtOf(raw: string | null): number | null {
  if (!raw) return null;
  try {
    const at = (JSON.parse(raw) as Partial<StoredEntry>).t;
    return typeof at === 'number' ? at : null;
  } catch {
    return null;
  }
}

/** The appends of one event-loop turn: one RPUSH, one deadline, one answer for all of them. */
interface Batch {
  entries: string[];
  appended: Promise<void>;
}

/**
 * The edge's side: `accept` resolves once Redis holds the event. Requests of one event-loop turn
 * share one RPUSH (sent on setImmediate) and one deadline timer, so a burst costs Redis one
 * command per turn, not one script per webhook. Job ids: `e<process tag>.<counter>`, unique
 * without a Redis round trip.
 */
export class EventInbox {
  private readonly keys: InboxKeys;
  private readonly tag = `e${randomBytes(6).toString('hex')}.`;
  private counter = 0;
  private open: Batch | null = null;
  /** Until the connection was first ready: appends wait for it (bounded by the deadline), as BullMQ's add did. */
  private firstReady: Promise<void> | null;

  constructor(
    /** The producers' connection: bounded commands, no offline queue (fails fast when Redis is away). */
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly events: Pick<EventQueue, 'priorityOf'>,
    private readonly deadlineMs?: number,
  ) {
    this.keys = inboxKeys(prefix);
    this.firstReady =
      redis.status === 'ready'
        ? null
        : new Promise<void>((resolve) => redis.once('ready', () => resolve())).then(() => {
            this.firstReady = null;
          });
    // Afterwards a connection that is not ready fails at once (no offline queue): 503, the CRM retries.
  }

  async accept(event: QueuedEvent): Promise<void> {
    installationKey(this.prefix, event.installationId); // refuses an invalid id before anything is queued
    const accepted: AcceptedEvent = { jobId: this.tag + (this.counter++).toString(36), priority: this.events.priorityOf(event), event };
    const batch = this.open ?? this.openBatch();
    batch.entries.push(encodeEntry(accepted, Date.now()));
    await batch.appended;
  }

  private openBatch(): Batch {
    let settle: (err?: unknown) => void = () => {};
    const appended = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
    const batch: Batch = { entries: [], appended };
    this.open = batch;
    let expired = false;
    // Past the deadline the requests are answered 503 and their events dropped (never appended later):
    // the CRM retries them. (A frozen Redis may still apply an RPUSH already sent: deduplicated with the retry.)
    const timer = this.deadlineMs
      ? setTimeout(() => {
          expired = true;
          if (this.open === batch) this.open = null;
          settle(new RedisUnavailableError(`enqueue: Redis did not answer within ${this.deadlineMs} ms`));
        }, this.deadlineMs)
      : undefined;
    const send = () => {
      if (this.open === batch) this.open = null;
      if (expired) return;
      // Sent as is: the batch is already one command, ioredis' auto-pipelining would only wrap it in a pipeline.
      const rpush = new Command('rpush', [this.keys.inbox, ...batch.entries], { replyEncoding: 'utf8' });
      (this.redis.sendCommand(rpush) as Promise<unknown>).then(
        () => settle(),
        (err: unknown) => settle(err),
      ).finally(() => clearTimeout(timer));
    };
    if (this.firstReady) void this.firstReady.then(() => setImmediate(send));
    else setImmediate(send);
    return batch;
  }

  /** Entries waiting for the pump, in-flight ones included (metrics, tests). */
  async depth(): Promise<number> {
    await this.firstReady;
    const [waiting, pumping] = await Promise.all([this.redis.llen(this.keys.inbox), this.redis.llen(this.keys.pumping)]);
    return waiting + pumping;
  }

  /** When the oldest entry still waiting for the pump was appended (epoch ms), or null when none waits. */
  async oldestAppendedAt(): Promise<number | null> {
    await this.firstReady;
    return appendedAtOf(await this.redis.lindex(this.keys.inbox, 0));
  }
}
