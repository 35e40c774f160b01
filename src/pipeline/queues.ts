import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueuedEvent } from '../events';
import { installationKey } from '../infra/keys';
import { withinDeadline } from '../infra/redis-health';
import { InstallationBacklogs } from './fair-priority';

export const EVENTS_QUEUE = 'events';
export const TIMERS_QUEUE = 'timers';

export interface QueueSettings {
  connection: ConnectionOptions;
  /** Redis key prefix of the app; BullMQ keys go under `<prefix>:{bull}` (see `bullPrefix`). */
  prefix: string;
  attempts: number;
  backoffMs: number;
  /** The edge's enqueue gives up after this (503 to the CRM) instead of waiting for Redis. */
  deadlineMs?: number;
  /** Events per second per installation that fair scheduling counts as served (see fair-priority.ts). */
  fairDrainPerSecond?: number;
}

/**
 * BullMQ's key prefix: `<prefix>:{bull}`. The braces are a Redis Cluster hash tag: BullMQ's Lua
 * scripts touch several keys of a queue at once (wait, active, delayed, the job hash…), which a
 * cluster only allows within one slot, so every queue's keys share the slot of `bull`. (The app's
 * own per-installation keys spread over the cluster by their own tag, see `installationKey`.)
 */
export const bullPrefix = (prefix: string) => `${prefix}:{bull}`;

/** The prefix of versions before the hash tag; its queues are drained by `moveLegacyQueueJobs`. */
export const legacyBullPrefix = (prefix: string) => `${prefix}:bull`;

const FAILED_JOBS_KEEP_DAYS = 14;

/** Kept an hour after success (for the demo page), failed jobs are kept for inspection for two weeks. */
function jobOptions(settings: QueueSettings): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: FAILED_JOBS_KEEP_DAYS * 24 * 3600 },
  };
}

/**
 * Which jobs belong to an installation: a sorted set of job ids per installation and queue
 * (`<prefix>:i:{<id>}:jobs:<queue>`, scored by time), so uninstalling removes exactly that
 * installation's jobs, in whatever state, without walking every tenant's jobs. Entries live as
 * long as BullMQ keeps a job (failed: two weeks) and are capped in number; an entry whose job
 * BullMQ already removed costs a no-op remove.
 *
 * Timers are indexed when scheduled (their data is robots' own and may name people). Event jobs
 * carry only ids and are indexed by the worker when it starts one, not by the HTTP edge: an
 * extra Redis round trip per webhook doubled the enqueue time. So an event job still waiting at
 * uninstall is not removed with it: it runs once, finds no installation, and BullMQ removes it
 * an hour after it completes.
 */
const JOB_INDEX_KEEP_MS = (FAILED_JOBS_KEEP_DAYS + 1) * 24 * 3600 * 1000;
const JOB_INDEX_KEEP_COUNT = 20_000;

class InstallationJobIndex {
  constructor(
    private readonly queue: Queue,
    /** The queues' own ioredis connection (services wire one that fails fast when Redis is away). */
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  /** Throws for anything but a valid installation id: call it before adding the job. */
  key(installationId: string) {
    return installationKey(this.prefix, installationId, 'jobs', this.queue.name);
  }

  async add(key: string, jobId: string | undefined): Promise<void> {
    if (!jobId) return;
    const now = Date.now();
    const client = this.client;
    await client
      .multi()
      .zadd(key, now, jobId)
      .zremrangebyscore(key, '-inf', `(${now - JOB_INDEX_KEEP_MS}`)
      .zremrangebyrank(key, 0, -(JOB_INDEX_KEEP_COUNT + 1))
      .pexpire(key, JOB_INDEX_KEEP_MS)
      .exec();
  }

  /** Removes every job of the installation this queue still holds (a running one is left to finish). */
  async removeAll(installationId: string): Promise<number> {
    const key = this.key(installationId);
    const client = this.client;
    const ids = await client.zrange(key, 0, -1);
    let removed = 0;
    for (const id of ids) removed += await this.queue.remove(id).catch(() => 0);
    await client.del(key);
    return removed;
  }
}

/**
 * Deduplication key of an event: one entity of one installation. Bitrix24 events only say
 * "deal 759 changed", so two notifications about one deal waiting in the queue are one job
 * (the job reads the current state anyway). With `keepLastIfActive`, a notification arriving
 * while that deal's job runs makes exactly one follow-up job: a deal's events never run in
 * parallel and run in arrival order.
 */
/** An event the edge accepted: its job id and fairness priority are decided there, when it arrives. */
export interface AcceptedEvent {
  jobId: string;
  priority: number;
  event: QueuedEvent;
}

export const entityKey = (e: Pick<QueuedEvent, 'installationId' | 'entity' | 'entityId'>) => `${e.installationId}|${e.entity}|${e.entityId}`;

/**
 * The producer side of the events queue: the catch-up adds here directly, the HTTP edge through
 * the event inbox and its pump (event-inbox.ts, inbox-pump.ts). Fails fast when Redis is away.
 *
 * Every event job carries a priority from its installation's estimated backlog (fair-priority.ts),
 * so installations are served round-robin. How that meets BullMQ's other mechanisms:
 * - deduplication: a second event for a queued deal is dropped and the job keeps its place; one
 *   arriving while the deal's job runs becomes its follow-up with the newest event's priority;
 * - retries: a failed job waits its backoff, then returns among the prioritized jobs at its own
 *   priority;
 * - a job of a killed worker goes back to the plain wait list, which BullMQ serves before any
 *   prioritized job: it was already due, and it is not lost.
 */
export class EventQueue {
  readonly queue: Queue<QueuedEvent>;
  private readonly index: InstallationJobIndex;
  private readonly backlogs: InstallationBacklogs;

  constructor(private readonly settings: QueueSettings) {
    this.queue = new Queue<QueuedEvent>(EVENTS_QUEUE, { connection: settings.connection, prefix: bullPrefix(settings.prefix) });
    this.index = new InstallationJobIndex(this.queue as Queue, settings.connection as Redis, settings.prefix);
    this.backlogs = new InstallationBacklogs(settings.fairDrainPerSecond);
  }

  /**
   * The event's fairness priority (fair-priority.ts), counting it in its installation's backlog.
   * The removal job goes first: the installation's queued events then find no installation and
   * end at once, instead of each failing against a CRM whose tokens are revoked.
   */
  priorityOf(event: QueuedEvent): number {
    return event.entity === 'installation' ? 1 : this.backlogs.priorityOf(event.installationId);
  }

  private optionsFor(event: QueuedEvent, priority: number): JobsOptions {
    return {
      ...jobOptions(this.settings),
      // The removal job outlives the installation it removes: it leaves nothing behind either.
      ...(event.entity === 'installation' ? { removeOnComplete: true } : {}),
      priority,
      deduplication: { id: entityKey(event), keepLastIfActive: true },
    };
  }

  /** Adds one event now (the catch-up; the HTTP edge appends to the inbox instead, see event-inbox.ts). */
  async enqueue(event: QueuedEvent): Promise<void> {
    this.index.key(event.installationId); // refuses an invalid id before anything is queued
    const added = this.queue.add(`${event.entity}.${event.kind}`, event, this.optionsFor(event, this.priorityOf(event)));
    // BullMQ first waits for its connection to be ready; the deadline bounds that wait too. A job
    // added after the deadline is harmless: deduplicated, and the CRM's retry finds it queued.
    await (this.settings.deadlineMs ? withinDeadline(added, this.settings.deadlineMs, 'enqueue') : added);
  }

  /**
   * Adds events the edge accepted into the inbox, in one round trip (the inbox pump), with the
   * priority and job id the edge gave them. Adding one again is a no-op while BullMQ keeps its
   * job (its job id exists, or its deal's job is still queued: deduplication), so a pump that
   * died after adding and before acknowledging may add its batch again.
   */
  async addAccepted(accepted: AcceptedEvent[]): Promise<void> {
    if (accepted.length === 0) return;
    await this.queue.addBulk(
      accepted.map(({ jobId, priority, event }) => ({ name: `${event.entity}.${event.kind}`, data: event, opts: { ...this.optionsFor(event, priority), jobId } })),
    );
  }

  /** Records that a job belongs to an installation (the worker calls it when it starts the job). */
  track(installationId: string, jobId: string): Promise<void> {
    return this.index.add(this.index.key(installationId), jobId);
  }

  /** Removes the installation's event jobs, finished and failed ones included (uninstall). */
  removeAllOf(installationId: string): Promise<number> {
    return this.index.removeAll(installationId);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface TimerJob {
  installationId: string;
  robot: string;
  key: string;
  data: Record<string, unknown>;
}

/** Delayed, cancellable jobs: one per (installation, robot, key); scheduling again replaces it. */
export class TimerQueue {
  readonly queue: Queue<TimerJob>;
  private readonly index: InstallationJobIndex;

  constructor(private readonly settings: QueueSettings) {
    this.queue = new Queue<TimerJob>(TIMERS_QUEUE, { connection: settings.connection, prefix: bullPrefix(settings.prefix) });
    this.index = new InstallationJobIndex(this.queue as Queue, settings.connection as Redis, settings.prefix);
  }

  static jobId(installationId: string, robot: string, key: string): string {
    // BullMQ keeps ':' for its own key layout; ids use '|'.
    return ['timer', installationId, robot, key].join('|').replace(/:/g, '~');
  }

  /**
   * A timer's two job ids: a timer that schedules its own next run (a reminder, the next call
   * attempt) runs under one id while the next waits under the other, since BullMQ can neither
   * remove nor reuse the id of a running job.
   */
  private static slots(installationId: string, robot: string, key: string): [string, string] {
    const id = TimerQueue.jobId(installationId, robot, key);
    return [id, `${id}|next`];
  }

  async schedule(job: TimerJob, delayMs: number): Promise<void> {
    const indexKey = this.index.key(job.installationId);
    const slots = TimerQueue.slots(job.installationId, job.robot, job.key);
    for (const id of slots) await this.queue.remove(id).catch(() => 0);
    let jobId = slots[0];
    for (const id of slots) {
      if (!(await this.queue.getJob(id))) {
        jobId = id;
        break;
      }
    }
    await this.queue.add(job.robot, job, { ...jobOptions(this.settings), jobId, delay: Math.max(0, delayMs) });
    await this.index.add(indexKey, jobId);
  }

  /** Returns true if a pending timer was removed. */
  async cancel(installationId: string, robot: string, key: string): Promise<boolean> {
    let removed = false;
    for (const id of TimerQueue.slots(installationId, robot, key)) removed = (await this.queue.remove(id)) === 1 || removed;
    return removed;
  }

  /** The timer waiting under `key`, if any (tests and the demo inspect it). */
  async pending(installationId: string, robot: string, key: string) {
    for (const id of TimerQueue.slots(installationId, robot, key)) {
      const job = await this.queue.getJob(id);
      if (job && (await job.isDelayed())) return job;
    }
    return null;
  }

  /** Removes every timer job of the installation, pending, fired or failed (uninstall). */
  async cancelAllOf(installationId: string): Promise<void> {
    await this.index.removeAll(installationId);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
