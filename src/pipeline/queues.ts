import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { InboundEvent } from '../events';
import { withinDeadline } from '../infra/redis-health';

export const EVENTS_QUEUE = 'events';
export const TIMERS_QUEUE = 'timers';

export interface QueueSettings {
  connection: ConnectionOptions;
  /** Redis key prefix of the app; BullMQ keys go under `<prefix>:bull`. */
  prefix: string;
  attempts: number;
  backoffMs: number;
  /** The edge's enqueue gives up after this (503 to the CRM) instead of waiting for Redis. */
  deadlineMs?: number;
}

export const bullPrefix = (prefix: string) => `${prefix}:bull`;

/** Kept an hour after success (for the demo page), failed jobs are kept for inspection for two weeks. */
function jobOptions(settings: QueueSettings): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs },
    removeOnComplete: { age: 3600, count: 5000 },
    removeOnFail: { age: 14 * 24 * 3600 },
  };
}

/**
 * Deduplication key of an event: one entity of one installation. Bitrix24 events only say
 * "deal 759 changed", so two notifications about one deal waiting in the queue are one job
 * (the job reads the current state anyway). With `keepLastIfActive`, a notification arriving
 * while that deal's job runs makes exactly one follow-up job: a deal's events never run in
 * parallel and run in arrival order.
 */
export const entityKey = (e: Pick<InboundEvent, 'installationId' | 'entity' | 'entityId'>) => `${e.installationId}|${e.entity}|${e.entityId}`;

/** The producer side used by the HTTP edge. Fails fast when Redis is away, so the CRM sees an error. */
export class EventQueue {
  readonly queue: Queue<InboundEvent>;

  constructor(private readonly settings: QueueSettings) {
    this.queue = new Queue<InboundEvent>(EVENTS_QUEUE, { connection: settings.connection, prefix: bullPrefix(settings.prefix) });
  }

  async enqueue(event: InboundEvent): Promise<void> {
    const added = this.queue.add(`${event.entity}.${event.kind}`, event, {
      ...jobOptions(this.settings),
      deduplication: { id: entityKey(event), keepLastIfActive: true },
    });
    // BullMQ first waits for its connection to be ready; the deadline bounds that wait too. A job
    // added after the deadline is harmless: deduplicated, and the CRM's retry finds it queued.
    await (this.settings.deadlineMs ? withinDeadline(added, this.settings.deadlineMs, 'enqueue') : added);
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

  constructor(private readonly settings: QueueSettings) {
    this.queue = new Queue<TimerJob>(TIMERS_QUEUE, { connection: settings.connection, prefix: bullPrefix(settings.prefix) });
  }

  static jobId(installationId: string, robot: string, key: string): string {
    // BullMQ keeps ':' for its own key layout; ids use '|'.
    return ['timer', installationId, robot, key].join('|').replace(/:/g, '~');
  }

  async schedule(job: TimerJob, delayMs: number): Promise<void> {
    const jobId = TimerQueue.jobId(job.installationId, job.robot, job.key);
    await this.queue.remove(jobId);
    await this.queue.add(job.robot, job, { ...jobOptions(this.settings), jobId, delay: Math.max(0, delayMs) });
  }

  /** Returns true if a pending timer was removed. */
  async cancel(installationId: string, robot: string, key: string): Promise<boolean> {
    return (await this.queue.remove(TimerQueue.jobId(installationId, robot, key))) === 1;
  }

  async cancelAllOf(installationId: string): Promise<void> {
    // Ends at the separator: the timers of b24:abc are not those of b24:abcd.
    const prefix = TimerQueue.jobId(installationId, '', '').slice(0, -1);
    for (const job of await this.queue.getJobs(['delayed', 'waiting'])) {
      if (job?.id?.startsWith(prefix)) await job.remove().catch(() => undefined);
    }
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
