import { Worker } from 'bullmq';
import { connectRedis } from '../infra/redis';
import { InstallationRevokedError } from '../errors';
import { inboundEventSchema } from '../events';
import { runInventoryWorker } from '../inventory/inventory-jobs';
import type { Services } from '../services';
import { recordOwnWrites } from './own-write-recorder';
import { processInboundEvent, servicesFor } from './process-event';
import { bullPrefix, EVENTS_QUEUE, TIMERS_QUEUE, type TimerJob } from './queues';

export interface RunningWorkers {
  close(): Promise<void>;
}

/**
 * The worker process: CRM events and fired timers. A revoked installation is marked once
 * and its jobs fail without retrying; everything else retries with backoff and, when the
 * attempts run out, stays in the failed list for inspection.
 */
export function runWorkers(services: Services, concurrency = services.config.WORKER_CONCURRENCY): RunningWorkers {
  const prefix = bullPrefix(services.prefix);
  // Each worker blocks on its own connection; BullMQ does not close connections it was given.
  const connections = [connectRedis(services.redisUrl), connectRedis(services.redisUrl)] as const;
  const events = new Worker(
    EVENTS_QUEUE,
    async (job) => processInboundEvent(inboundEventSchema.parse(job.data), services),
    { connection: connections[0], prefix, concurrency },
  );
  const timers = new Worker<TimerJob>(
    TIMERS_QUEUE,
    async (job) => {
      const installation = await services.store.find(job.data.installationId);
      if (!installation || installation.status !== 'active') return 'unknown-installation';
      // A timer's writes are the app's own too (the booking releaser moves deals): their echoes are recognised.
      const crm = recordOwnWrites(await services.clients.forInstallation(installation), installation.id, services.ownWrites, services.tracker, new Map());
      await services.app.fireTimer(job.data.robot, job.data.key, job.data.data, installation, servicesFor(installation, crm, services));
      return 'done';
    },
    { connection: connections[1], prefix, concurrency },
  );
  const inventory = runInventoryWorker(services);
  for (const worker of [events, timers]) {
    worker.on('failed', (job, err) => {
      if (err instanceof InstallationRevokedError || err.name === 'InstallationRevokedError') {
        void services.store.markRevoked((err as InstallationRevokedError).installationId, err.message).catch(() => undefined);
      }
      services.log.warn({ job: job?.id, name: job?.name, attempts: job?.attemptsMade, err: err.message }, 'job failed');
    });
    worker.on('error', (err) => services.log.error({ err }, 'worker error'));
  }
  return {
    async close() {
      await Promise.all([events.close(), timers.close(), inventory.close()]);
      await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    },
  };
}
