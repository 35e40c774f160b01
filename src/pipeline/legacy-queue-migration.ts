import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { bullPrefix, EVENTS_QUEUE, legacyBullPrefix, TIMERS_QUEUE } from './queues';

/**
 * Every queue the app has ever used. Kept as literals here (not imported from the modules that
 * run them) so this module stays a leaf: it must know old queues even if a module goes away.
 */
export const APP_QUEUES = [EVENTS_QUEUE, TIMERS_QUEUE, 'catch-up', 'inventory', 'schedules'] as const;

/** Keys a BullMQ queue holds whenever it has any job or scheduler (each checked alone: no cross-slot command). */
const QUEUE_STATE_KEYS = ['wait', 'paused', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'repeat'];

const PENDING_STATES = ['waiting', 'prioritized', 'delayed'] as const;

export interface LegacyDrainResult {
  /** Jobs re-added under the current prefix and removed from the legacy queue. */
  moved: number;
  /** Active legacy jobs still locked by a running old worker: moved by a later pass once it lets go. */
  lockedActive: number;
  /** Failed legacy jobs left where they are for inspection (they would not run again anyway). */
  failedLeft: number;
}

/**
 * Upgrading from the `<prefix>:bull` layout to the hash-tagged `<prefix>:{bull}` one must not lose
 * queued work: events waiting for a worker, timers due in days (a booking's release, the 8-week
 * call cadence). Each worker runs this at start and every minute after (old web processes of a
 * rolling deploy may still enqueue under the legacy prefix for a while):
 * - a queue whose legacy keys do not exist costs a few single-key EXISTS and nothing else, which
 *   also keeps it harmless on Redis Cluster, where the legacy layout never existed;
 * - waiting (a paused queue's too), prioritized and delayed jobs are re-added to the current queue with their
 *   name, data and options (a delayed job keeps its due time; a timer keeps its job id, so it can
 *   still be cancelled), then removed from the legacy queue. Added first, removed second: a crash
 *   in between leaves a copy that the next pass skips (same timer id) or that deduplication and
 *   idempotent robots absorb (event jobs, whose ids BullMQ numbers itself);
 * - an active job whose lock expired (its old worker is gone) is moved like a waiting one; one
 *   still locked is left to its worker;
 * - legacy job schedulers are removed: the current workers create their own at start;
 * - once nothing is pending or active, finished jobs are cleaned; failed ones stay for inspection.
 */
export async function moveLegacyQueueJobs(redis: Redis, connection: ConnectionOptions, prefix: string, log: Logger): Promise<LegacyDrainResult> {
  const total: LegacyDrainResult = { moved: 0, lockedActive: 0, failedLeft: 0 };
  for (const name of APP_QUEUES) {
    if (!(await hasLegacyKeys(redis, prefix, name))) continue;
    const legacy = new Queue(name, { connection, prefix: legacyBullPrefix(prefix) });
    const current = new Queue(name, { connection, prefix: bullPrefix(prefix) });
    try {
      const result = await drainQueue(legacy, current, redis, prefix);
      total.moved += result.moved;
      total.lockedActive += result.lockedActive;
      total.failedLeft += result.failedLeft;
    } finally {
      await Promise.all([legacy.close(), current.close()]);
    }
  }
  if (total.moved || total.lockedActive) log.info({ ...total }, 'moved queued jobs from the legacy BullMQ prefix to the hash-tagged one');
  return total;
}

async function hasLegacyKeys(redis: Redis, prefix: string, name: string): Promise<boolean> {
  for (const suffix of QUEUE_STATE_KEYS) if (await redis.exists(`${legacyBullPrefix(prefix)}:${name}:${suffix}`)) return true;
  return false;
}

async function drainQueue(legacy: Queue, current: Queue, redis: Redis, prefix: string): Promise<LegacyDrainResult> {
  for (const scheduler of await legacy.getJobSchedulers()) if (scheduler.key) await legacy.removeJobScheduler(scheduler.key);
  let moved = 0;
  for (const job of await legacy.getJobs([...PENDING_STATES])) if (job && (await moveJob(job, legacy, current))) moved++;
  let lockedActive = 0;
  for (const job of await legacy.getActive()) {
    if (!job?.id) continue;
    if (await redis.exists(`${legacyBullPrefix(prefix)}:${legacy.name}:${job.id}:lock`)) lockedActive++;
    else if (await moveJob(job, legacy, current)) moved++;
  }
  const left = await legacy.getJobCounts(...PENDING_STATES, 'active', 'failed');
  const pendingLeft = PENDING_STATES.reduce((n, state) => n + (left[state] ?? 0), 0) + (left.active ?? 0);
  if (pendingLeft === 0) await legacy.clean(0, 0, 'completed');
  return { moved, lockedActive, failedLeft: left.failed ?? 0 };
}

async function moveJob(job: Job, legacy: Queue, current: Queue): Promise<boolean> {
  // A scheduler's own next run: the current workers schedule their own.
  if (job.repeatJobKey || job.id?.startsWith('repeat:')) {
    await job.remove().catch(() => undefined);
    return false;
  }
  await current.add(job.name, job.data, carriedOptions(job));
  await legacy.remove(job.id!);
  return true;
}

/** The job's own options, with its remaining delay and (unless BullMQ numbered it) its id. */
function carriedOptions(job: Job): JobsOptions {
  const { jobId: _jobId, delay: _delay, ...rest } = job.opts;
  const dueAt = job.timestamp + (job.opts.delay ?? job.delay ?? 0);
  const custom = job.id !== undefined && !/^\d+$/.test(job.id);
  return { ...rest, ...(custom ? { jobId: job.id } : {}), delay: Math.max(0, dueAt - Date.now()) };
}
