import { Worker, type WorkerOptions } from 'bullmq';
import { connectRedis } from '../infra/redis';
import { jobsFinished } from '../observability/metrics';
import { bullPrefix } from '../pipeline/queues';
import type { Services } from '../services';
import { automationCallSchema } from './automation-call';
import { AUTOMATION_QUEUE } from './automation-queue';
import { runAutomationCall } from './run-automation-call';

/** Runs the CRM automation's robot calls (Bitrix24 robots, amoCRM Digital Pipeline actions), on a connection of its own. */
export function runAutomationWorker(services: Services, recovery: Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount'>): { close(): Promise<void> } {
  const connection = connectRedis(services.redisUrl);
  services.outage.watch(connection, 'automation worker');
  const worker = new Worker(AUTOMATION_QUEUE, async (job) => runAutomationCall(automationCallSchema.parse(job.data), services), {
    connection,
    prefix: bullPrefix(services.prefix),
    concurrency: services.config.WORKER_CONCURRENCY,
    ...recovery,
  });
  worker.on('completed', () => jobsFinished.inc({ queue: AUTOMATION_QUEUE, outcome: 'done' }));
  worker.on('failed', (job, err) => {
    const final = !job || job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError' || err.name === 'PermanentCrmError';
    jobsFinished.inc({ queue: AUTOMATION_QUEUE, outcome: final ? 'failed' : 'retrying' });
    services.log.warn({ job: job?.id, action: job?.name, attempts: job?.attemptsMade, err: err.message }, 'automation call failed');
  });
  worker.on('error', services.outage.errorHandler('worker automation'));
  return {
    async close() {
      await worker.close();
      await connection.quit().catch(() => undefined);
    },
  };
}
