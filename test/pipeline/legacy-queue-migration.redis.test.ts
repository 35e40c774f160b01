import { Queue, Worker } from 'bullmq';
import type { InboundEvent } from '../../src/events';
import { connectRedis } from '../../src/infra/redis';
import { createLogger } from '../../src/log';
import { moveLegacyQueueJobs } from '../../src/pipeline/legacy-queue-migration';
import { bullPrefix, entityKey, EVENTS_QUEUE, legacyBullPrefix, TIMERS_QUEUE, TimerQueue, type TimerJob } from '../../src/pipeline/queues';
import { createTestServices, eventually, runWorkers } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

const INSTALLATION = 'b24:0123456789abcdef0123456789abcdef';
const event = (entityId: string): InboundEvent => ({ installationId: INSTALLATION, crm: 'bitrix24', kind: 'updated', entity: 'deal', entityId, receivedAt: Date.now() });
const timer: TimerJob = { installationId: INSTALLATION, robot: 'bookingReleaser', key: 'expire:deal:7', data: { dueAt: 'later' } };

describe('upgrading to the hash-tagged BullMQ prefix loses no queued job', () => {
  let services: TestServices;
  let legacy: { events: Queue; timers: Queue; catchUp: Queue };
  const log = createLogger('silent');

  beforeEach(async () => {
    services = await createTestServices();
    const opts = { connection: services.queueSettings.connection, prefix: legacyBullPrefix(services.prefix) };
    legacy = { events: new Queue(EVENTS_QUEUE, opts), timers: new Queue(TIMERS_QUEUE, opts), catchUp: new Queue('catch-up', opts) };
  });
  afterEach(async () => {
    for (const queue of Object.values(legacy)) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    await services.cleanup();
  });

  /** What the previous version left in Redis when it was stopped for the upgrade. */
  async function queueLikeThePreviousVersion() {
    await legacy.events.add('deal.updated', event('41'), { attempts: 4, deduplication: { id: entityKey(event('41')), keepLastIfActive: true } });
    await legacy.events.add('deal.updated', event('42'), { attempts: 4, deduplication: { id: entityKey(event('42')), keepLastIfActive: true } });
    const timerId = TimerQueue.jobId(timer.installationId, timer.robot, timer.key);
    await legacy.timers.add(timer.robot, timer, { jobId: timerId, delay: 3 * 86_400_000, attempts: 4 });
    await legacy.catchUp.upsertJobScheduler('catch-up-sweep', { every: 300_000 }, { name: 'sweep', data: { kind: 'sweep' } });
    return timerId;
  }

  it('waiting events and a booking timer due in three days move to the new queues, the timer under its own id and due time', async () => {
    const timerId = await queueLikeThePreviousVersion();
    const dueAt = (await legacy.timers.getJob(timerId))!.timestamp + 3 * 86_400_000;

    const result = await moveLegacyQueueJobs(services.redis, services.queueSettings.connection, services.prefix, log);

    expect(result).toEqual({ moved: 3, lockedActive: 0, failedLeft: 0 });
    const waiting = await services.events.queue.getWaiting();
    expect(waiting.map((job) => job.data.entityId).sort()).toEqual(['41', '42']);
    expect(waiting.every((job) => job.opts.attempts === 4)).toBe(true);
    const moved = await services.timers.queue.getJob(timerId);
    expect(moved?.data).toEqual(timer);
    expect(await moved?.isDelayed()).toBe(true);
    // The due time is kept (within the run of this test), not restarted.
    expect(Math.abs(moved!.timestamp + moved!.delay - dueAt)).toBeLessThan(5_000);
    // Cancelling still finds it: robots cancel timers by id.
    expect(await services.timers.cancel(timer.installationId, timer.robot, timer.key)).toBe(true);
    // Nothing is left to run under the legacy prefix, and the legacy schedule is gone (workers create their own).
    for (const queue of Object.values(legacy)) expect(await queue.count()).toBe(0);
    expect(await legacy.catchUp.getJobSchedulersCount()).toBe(0);
  });

  it('a second pass (another worker, the next minute) moves nothing twice', async () => {
    await queueLikeThePreviousVersion();
    await moveLegacyQueueJobs(services.redis, services.queueSettings.connection, services.prefix, log);
    expect(await moveLegacyQueueJobs(services.redis, services.queueSettings.connection, services.prefix, log)).toEqual({ moved: 0, lockedActive: 0, failedLeft: 0 });
    expect(await services.events.queue.getWaitingCount()).toBe(2);
    expect(await services.timers.queue.getDelayedCount()).toBe(1);
  });

  it('a job an old worker was running when it was killed moves once its lock expires; a job still locked is left to its worker', async () => {
    await legacy.events.add('deal.updated', event('43'));
    const connection = connectRedis(services.redisUrl);
    const oldWorker = new Worker(EVENTS_QUEUE, null, { connection, prefix: legacyBullPrefix(services.prefix), lockDuration: 60_000 });
    try {
      const running = await oldWorker.getNextJob('old-worker-token');
      expect(running?.data.entityId).toBe('43');

      expect(await moveLegacyQueueJobs(services.redis, services.queueSettings.connection, services.prefix, log)).toMatchObject({ moved: 0, lockedActive: 1 });
      expect(await services.events.queue.count()).toBe(0);

      // The old worker died: nobody renews its lock.
      await services.redis.del(`${legacyBullPrefix(services.prefix)}:${EVENTS_QUEUE}:${running!.id}:lock`);
      expect(await moveLegacyQueueJobs(services.redis, services.queueSettings.connection, services.prefix, log)).toMatchObject({ moved: 1, lockedActive: 0 });
      expect((await services.events.queue.getWaiting()).map((job) => job.data.entityId)).toEqual(['43']);
    } finally {
      await oldWorker.close(true);
      await connection.quit();
    }
  });

  it('the upgraded worker runs what the previous version had queued, from its start', async () => {
    await legacy.events.add('deal.updated', event('44'));
    const workers = runWorkers(services, 1);
    try {
      // The installation does not exist here: the job completes doing nothing, which is enough to see it ran.
      await eventually(async () => expect(await services.events.queue.getCompletedCount()).toBe(1), 15_000, 100);
      expect(await legacy.events.count()).toBe(0);
    } finally {
      await workers.close();
    }
  });

  it('BullMQ keys carry a Redis Cluster hash tag, so every key of a queue falls in one slot', () => {
    expect(bullPrefix('reglament')).toBe('reglament:{bull}');
  });
});
