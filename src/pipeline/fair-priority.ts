/**
 * Fair sharing of the workers between installations (issue 11, item 4): a portal with a
 * 10,000-event backlog must not delay a quiet portal's events.
 *
 * Design: virtual-time fair queuing on BullMQ's own `priority` (the open-source BullMQ has no
 * groups). The producer keeps, per installation, an estimate of how many of its events are still
 * queued: a leaky bucket that gains 1 per event and drains at `drainPerSecond` (the service an
 * installation is entitled to). An event's priority is its position in that estimated backlog:
 * a quiet portal's event gets 1, the noisy portal's thousandth event gets ~1000. BullMQ serves
 * the lowest priority first and, within one priority, in arrival order, so the workers take every
 * installation's 1st queued event, then every 2nd, ...: round-robin between installations with
 * work, and arrival order within one installation.
 *
 * Why this and not per-installation queues with a dispatcher:
 * - the estimate lives in the producer's memory, so the edge's append stays one Redis call
 *   (event-inbox.ts: the priority travels with the event to the inbox pump's addBulk); a
 *   dispatcher would need a "has work" set written per webhook and a process choosing between
 *   per-installation queues;
 * - deduplication per entity (`deduplication.id` with `keepLastIfActive`), retries with backoff,
 *   the stall check and uninstall all keep working on the one `events` queue unchanged;
 * - a job's priority only orders it: nothing is dropped if the estimate is wrong.
 *
 * What the estimate gets wrong, and why it is harmless:
 * - several web processes each see a share of an installation's events: every installation's
 *   level is divided alike, so the order between them holds;
 * - when the real service is slower than `drainPerSecond`, an installation's new events may pass
 *   its own older ones (other deals; events of one deal never run out of order, see `entityKey`);
 *   when it is faster, its new events queue behind its old ones, which is plain FIFO.
 */

/** BullMQ's largest priority (2^21 - 1: the score is priority * 2^32 + a counter, within 2^53). */
export const PRIORITY_LIMIT = 2 ** 21 - 1;

/**
 * An installation's events per second that count as "not noisy". About what one portal can be
 * served at anyway: Bitrix24 drains 2 requests/s per portal, and an event costs one or two.
 */
export const DEFAULT_DRAIN_PER_SECOND = 2;

/** Estimated events of one installation still queued, as of `at` (ms). */
export interface Backlog {
  level: number;
  at: number;
}

export interface Scheduled {
  /** BullMQ priority of the event: 1 = next in the round, larger = later. */
  priority: number;
  backlog: Backlog;
}

/** The pure decision: the priority of an installation's next event, from its backlog estimate. */
export function scheduleEvent(previous: Backlog | undefined, now: number, drainPerSecond: number): Scheduled {
  const level = drainedLevel(previous, now, drainPerSecond) + 1;
  const capped = Math.min(level, PRIORITY_LIMIT);
  // A clock that steps back does not refill the bucket: time only moves forward here.
  return { priority: Math.max(1, Math.ceil(capped)), backlog: { level: capped, at: Math.max(now, previous?.at ?? now) } };
}

/** What is left of a backlog at `now` (never below zero, never more than it was). */
export function drainedLevel(backlog: Backlog | undefined, now: number, drainPerSecond: number): number {
  if (!backlog) return 0;
  const elapsedSeconds = Math.max(0, now - backlog.at) / 1000;
  return Math.max(0, backlog.level - elapsedSeconds * drainPerSecond);
}

/** Below this many installations the map is never swept. */
const MIN_PRUNE_AT = 1024;

/**
 * The backlog estimates of one producer process (the edge, or the worker's catch-up). In memory
 * on purpose: no Redis round trip per webhook. Drained entries are pruned once the map doubles,
 * so it holds about the installations active in the last few minutes.
 */
export class InstallationBacklogs {
  private readonly backlogs = new Map<string, Backlog>();
  private pruneAt = MIN_PRUNE_AT;

  constructor(
    private readonly drainPerSecond = DEFAULT_DRAIN_PER_SECOND,
    private readonly now: () => number = Date.now,
  ) {
    if (!(drainPerSecond >= 0)) throw new Error(`drainPerSecond must be 0 (fairness off) or positive, got ${drainPerSecond}`);
  }

  /** Counts one event of the installation and returns its priority (always 1 with fairness off: arrival order). */
  priorityOf(installationId: string): number {
    if (this.drainPerSecond === 0) return 1;
    const now = this.now();
    const { priority, backlog } = scheduleEvent(this.backlogs.get(installationId), now, this.drainPerSecond);
    this.backlogs.set(installationId, backlog);
    if (this.backlogs.size >= this.pruneAt) this.prune(now);
    return priority;
  }

  /** Installations with an estimated backlog (tests, diagnostics). */
  get size(): number {
    return this.backlogs.size;
  }

  private prune(now: number): void {
    for (const [id, backlog] of this.backlogs) {
      if (drainedLevel(backlog, now, this.drainPerSecond) === 0) this.backlogs.delete(id);
    }
    this.pruneAt = Math.max(MIN_PRUNE_AT, this.backlogs.size * 2);
  }
}
