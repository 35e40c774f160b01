import { DelayedError, type Job } from 'bullmq';
import { sleep } from '../infra/sleep';

/**
 * The fast lane: a few worker slots kept for installations without a backlog.
 *
 * Priorities put a quiet portal's event at the head of the queue (fair-priority.ts), but a head
 * waits for a free slot, and during an import every regular slot holds one of the importing
 * portal's jobs, waiting for that portal's CRM bucket. With coalesced batches those jobs finish in
 * cohorts about once a second, so the quiet event would wait up to that long for a slot.
 *
 * The fast lane is a second BullMQ worker on the same queue with a few slots of its own. It runs
 * only an installation's first queued events (priority up to FAST_LANE_MAX_PRIORITY, or none: a
 * job a killed worker left returns without one). Any other job it gives straight back, to the
 * prioritized set at its own priority (`moveToDelayed` to now, which counts no attempt), then that
 * slot pauses a moment before fetching again, so a backlog costs a few fetches a second, not a
 * spin. Both workers are ordinary BullMQ workers: locks, stall checks and retries are the same.
 */
/** Up to 4: a portal without a backlog may queue a few events at once (a deal, its contact, an echo). */
export const FAST_LANE_MAX_PRIORITY = 4;

/** The slot's pause after giving a job back, ms: how late the fast lane may notice a quiet event. */
export const FAST_LANE_PAUSE_MS = 100;

/** Whether the fast lane runs a job of this priority (0 or none: not prioritized, e.g. back from a stall). */
export function runsInFastLane(priority: number | undefined): boolean {
  return !priority || priority <= FAST_LANE_MAX_PRIORITY;
}

/** Wraps the events processor for the fast-lane worker. */
export function fastLaneProcessor<T, R>(process: (job: Job<T>, token?: string) => Promise<R>, pauseMs = FAST_LANE_PAUSE_MS) {
  return async (job: Job<T>, token?: string): Promise<R> => {
    if (runsInFastLane(job.priority)) return process(job, token);
    await job.moveToDelayed(Date.now(), token);
    await sleep(pauseMs);
    // Tells BullMQ the job was moved, not finished: no completion, no failure, no attempt counted.
    throw new DelayedError();
  };
}
