import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Services } from '../../services';
import { bullPrefix, type QueueSettings } from '../queues';
import { reconcileInstallation, type ReconcileResult } from './reconcile';

export const CATCH_UP_QUEUE = 'catch-up';
const SCHEDULER_ID = 'catch-up-sweep';

export type CatchUpJob = { kind: 'sweep' } | { kind: 'installation'; installationId: string };

/**
 * Catch-up runs as jobs, so it is crash-safe, retried with backoff, and shared by any number of
 * worker processes:
 * - a BullMQ job scheduler adds a `sweep` every RECONCILE_INTERVAL_S (one scheduler in Redis,
 *   whatever the number of workers), and every worker adds one when it starts;
 * - a sweep adds one `installation` job per active installation, deduplicated by installation:
 *   while one is waiting or running, another is not added, so two processes never catch up the
 *   same installation at once.
 */
export class CatchUpQueue {
  readonly queue: Queue<CatchUpJob>;

  constructor(private readonly settings: QueueSettings) {
    this.queue = new Queue<CatchUpJob>(CATCH_UP_QUEUE, { connection: settings.connection, prefix: bullPrefix(settings.prefix) });
  }

  private get jobOptions() {
    return {
      attempts: this.settings.attempts,
      backoff: { type: 'exponential' as const, delay: this.settings.backoffMs },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 14 * 24 * 3600 },
    };
  }

  /** Creates or updates the one schedule shared by all workers. */
  async schedule(intervalSeconds: number): Promise<void> {
    await this.queue.upsertJobScheduler(SCHEDULER_ID, { every: intervalSeconds * 1000 }, { name: 'sweep', data: { kind: 'sweep' }, opts: this.jobOptions });
  }

  async unschedule(): Promise<void> {
    await this.queue.removeJobScheduler(SCHEDULER_ID);
  }

  async sweepNow(): Promise<void> {
    await this.queue.add('sweep', { kind: 'sweep' }, { ...this.jobOptions, deduplication: { id: 'sweep' } });
  }

  async catchUp(installationId: string): Promise<void> {
    // Deduplication ids go into Redis key names; installation ids carry ':'.
    const id = `installation|${installationId.replace(/:/g, '~')}`;
    await this.queue.add('installation', { kind: 'installation', installationId }, { ...this.jobOptions, deduplication: { id } });
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface RunningCatchUp {
  queue: CatchUpQueue;
  close(): Promise<void>;
}

/**
 * The worker side: schedules the sweep, runs one now (catch-up on start), and processes
 * sweeps and installation catch-ups. With RECONCILE_INTERVAL_S = 0 it removes the schedule and returns null.
 */
export async function startCatchUp(services: Services, connection: ConnectionOptions): Promise<RunningCatchUp | null> {
  const interval = services.config.RECONCILE_INTERVAL_S;
  const queue = new CatchUpQueue(services.queueSettings);
  if (interval <= 0) {
    // Turned off: a schedule left by an earlier configuration would add sweeps nobody runs.
    await queue.unschedule().catch(() => undefined);
    await queue.close();
    return null;
  }
  const worker = new Worker<CatchUpJob, ReconcileResult | { installations: number }>(
    CATCH_UP_QUEUE,
    async (job) => {
      if (job.data.kind === 'sweep') {
        const installations = (await services.store.list()).filter((i) => i.status === 'active');
        for (const installation of installations) await queue.catchUp(installation.id);
        return { installations: installations.length };
      }
      return reconcileInstallation(job.data.installationId, services);
    },
    { connection, prefix: bullPrefix(services.prefix), concurrency: 2 },
  );
  worker.on('failed', (job, err) => services.log.warn({ job: job?.id, data: job?.data, attempts: job?.attemptsMade, err: err.message }, 'catch-up job failed'));
  worker.on('error', (err) => services.log.error({ err }, 'catch-up worker error'));
  await queue.schedule(interval);
  await queue.sweepNow();
  return {
    queue,
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
