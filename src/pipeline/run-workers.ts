import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import { connectRedis } from '../infra/redis';
import { InstallationRevokedError } from '../errors';
import { queuedEventSchema } from '../events';
import { applyCatalogChange } from './catalog-changes';
import { jobsFinished } from '../observability/metrics';
import type { Services } from '../services';
import { startCatchUp } from './catch-up/catch-up-queue';
import { runMonthlyRating } from '../rating/monthly-rating-job';
import { runInventoryWorker } from '../inventory/inventory-jobs';
import { processInboundEvent, servicesFor } from './process-event';
import { recordOwnWrites } from './own-write-recorder';
import { ALERT_DIGEST_TIMER } from '../alerts/process-alerts';
import { installationAlertTexts } from '../alerts/failure-alerts';
import { localeOfInstallation, raiseInstallationAlert, runDigestTimer } from '../alerts/installation-alerts';
import { bullPrefix, EVENTS_QUEUE, TIMERS_QUEUE, type TimerJob } from './queues';
import { startHeartbeat } from './worker-heartbeat';
import { runAutomationWorker } from '../automation/automation-worker';
import { moveLegacyQueueJobs } from './legacy-queue-migration';
import { InboxPump } from './inbox-pump';

/** How often workers look for jobs an old web process of a rolling deploy enqueued under the legacy prefix. */
const LEGACY_QUEUE_CHECK_MS = 60_000;
import { fastLaneProcessor } from './fast-lane';

/** Fast-lane slots per worker process: a quiet portal's events rarely need more than one at a time. */
const FAST_LANE_SLOTS = 2;

export interface RunningWorkers {
  close(): Promise<void>;
}

/**
 * Lock and stall check of every worker (README, Operations: crash recovery). A job's lock is
 * renewed every lockDuration / 2 while it runs, however long it runs; when its worker dies the
 * lock expires and the next stall check (any worker, every stalledInterval) puts the job back.
 */
export function recoveryOptions(config: Services['config']): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'> {
  return { lockDuration: config.JOB_LOCK_MS, stalledInterval: config.JOB_STALLED_CHECK_MS, maxStalledCount: config.JOB_MAX_STALLED };
}

/**
 * The worker process: CRM events and fired timers. A revoked installation is marked once
 * and its jobs fail without retrying; everything else retries with backoff and, when the
 * attempts run out, stays in the failed list for inspection.
 */
export function runWorkers(services: Services, concurrency = services.config.WORKER_CONCURRENCY): RunningWorkers {
  const prefix = bullPrefix(services.prefix);
  // Each worker blocks on its own connection (unbounded, as BullMQ requires); BullMQ does not close connections it was given.
  const connections = [connectRedis(services.redisTarget), connectRedis(services.redisTarget), connectRedis(services.redisTarget), connectRedis(services.redisTarget)] as const;
  connections.forEach((c, i) => services.outage.watch(c, `worker ${i}`));
  // The name lands on every job it runs (`processedBy`): which process of a scaled-out deployment ran a job.
  const options = { prefix, concurrency, name: `${hostname()}:${process.pid}`, ...recoveryOptions(services.config) };
  const processEvent = async (job: Job) => {
    const event = queuedEventSchema.parse(job.data);
    return event.entity === 'catalog' ? applyCatalogChange(event, services) : processInboundEvent(event, services, job.id);
  };
  const events = new Worker(EVENTS_QUEUE, processEvent, { connection: connections[0], ...options });
  // Slots of their own for installations without a backlog, so an import filling every slot above
  // does not keep a quiet portal's event waiting for one (src/pipeline/fast-lane.ts).
  const fastLane = new Worker(EVENTS_QUEUE, fastLaneProcessor(processEvent), { connection: connections[3], ...options, concurrency: FAST_LANE_SLOTS });
  const timers = new Worker<TimerJob>(
    TIMERS_QUEUE,
    async (job) => {
      const installation = await services.store.find(job.data.installationId);
      if (!installation || installation.status !== 'active') return 'unknown-installation';
      // A timer's writes are the app's own too (the booking releaser moves deals): their echoes are recognised.
      const crm = recordOwnWrites(await services.clients.forInstallation(installation), installation.id, services.ownWrites, services.tracker, new Map());
      if (job.data.robot === ALERT_DIGEST_TIMER) {
        await runDigestTimer(services, installation, crm, job.data.data);
        return 'done';
      }
      await services.app.fireTimer(job.data.robot, job.data.key, job.data.data, installation, servicesFor(installation, crm, services));
      return 'done';
    },
    { connection: connections[1], ...options },
  );
  const inventory = runInventoryWorker(services);
  const automation = runAutomationWorker(services, recoveryOptions(services.config));
  for (const worker of [events, fastLane, timers]) {
    worker.on('completed', () => jobsFinished.inc({ queue: worker.name, outcome: 'done' }));
    worker.on('failed', (job, err) => {
      if (err instanceof InstallationRevokedError || err.name === 'InstallationRevokedError') {
        void markRevokedAndAlert(services, (err as InstallationRevokedError).installationId, err.message);
      }
      jobsFinished.inc({ queue: worker.name, outcome: isFinal(job, err) ? 'failed' : 'retrying' });
      services.log.warn({ job: job?.id, name: job?.name, attempts: job?.attemptsMade, err: err.message }, 'job failed');
    });
    worker.on('stalled', (jobId) => services.log.warn({ job: jobId, queue: worker.name }, 'job of a worker that stopped answering taken again'));
    worker.on('error', services.outage.errorHandler(`worker ${worker.name}`));
  }
  // Catch-up after downtime: at start and every RECONCILE_INTERVAL_S (src/pipeline/catch-up/).
  const catchUp = startCatchUp(services, connections[2]).catch((err) => {
    services.log.error({ err }, 'catch-up could not start: events missed while the app was down will not be replayed');
    return null;
  });
  const monthlyRating = runMonthlyRating(services);
  const stopHeartbeat = startHeartbeat(services.redis, services.prefix);
  // Every worker process runs a pump; a lock lets one move the edge's inbox into the queue at a time (inbox-pump.ts).
  const pump = startInboxPump(services);
  const stopLegacyDrain = drainLegacyQueues(services);
  return {
    async close() {
      stopHeartbeat();
      await pump.stop();
      await stopLegacyDrain();
      await Promise.all([events.close(), fastLane.close(), timers.close(), catchUp.then((c) => c?.close()), monthlyRating.close(), inventory.close(), automation.close()]);
      await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    },
  };
}

/** The pump moving the edge's inbox into the events queue, on a blocking connection of its own. */
export function startInboxPump(services: Services): InboxPump {
  const blocking = services.outage.watch(connectRedis(services.redisTarget), 'inbox pump');
  return new InboxPump({ redis: services.redis, blocking, prefix: services.prefix, events: services.events, log: services.log }).start();
}

/** Moves jobs queued under the pre-hash-tag BullMQ prefix now and every minute (see moveLegacyQueueJobs). */
function drainLegacyQueues(services: Services): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const pass = () =>
    (running = moveLegacyQueueJobs(services.redis, services.queueSettings.connection, services.prefix, services.log).catch((err) =>
      services.log.error({ err }, 'could not move jobs from the legacy BullMQ prefix; the next pass retries'),
    ));
  void pass();
  const timer = setInterval(() => void running.then(pass), LEGACY_QUEUE_CHECK_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Seed 001: losing the CRM is a process failure too; it cannot be told in the CRM, so it is logged (see raiseInstallationAlert). */
async function markRevokedAndAlert(services: Services, installationId: string, reason: string): Promise<void> {
  try {
    const before = await services.store.find(installationId);
    await services.store.markRevoked(installationId, reason);
    if (before?.status === 'active') {
      await raiseInstallationAlert(services, installationId, 'installation.revoked', installationAlertTexts.revoked(reason, localeOfInstallation(before)));
    }
  } catch (err) {
    services.log.error({ err, installation: installationId }, 'could not record a revoked installation');
  }
}

function isFinal(job: Job | undefined, err: Error): boolean {
  return err instanceof UnrecoverableError || !job || job.attemptsMade >= (job.opts.attempts ?? 1);
}
