import { Worker, type Job } from 'bullmq';
import { connectRedis } from '../../src/infra/redis';
import type { InboundEvent } from '../../src/events';
import { bullPrefix, EVENTS_QUEUE, EventQueue } from '../../src/pipeline/queues';
import { fastLaneProcessor } from '../../src/pipeline/fast-lane';
import { dealEvent, label, NOISY, OTHER_NOISY, QUIET } from '../helpers/two-portals';
import { createTestServices, eventually, redisUrl } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;


describe('fair scheduling between installations on the events queue (real Redis)', () => {
  let services: TestServices;
  let worker: Worker | undefined;
  let connection: ReturnType<typeof connectRedis> | undefined;
  const processed: string[] = [];

  beforeEach(async () => {
    processed.length = 0;
    services = await createTestServices();
  });
  afterEach(async () => {
    await worker?.close();
    await connection?.quit();
    worker = undefined;
    connection = undefined;
    await services.cleanup();
  });

  /** One worker taking one job at a time, recording which installation's event it got. */
  function startRecordingWorker(): void {
    connection = connectRedis(redisUrl());
    worker = new Worker(
      EVENTS_QUEUE,
      async (job: Job<InboundEvent>) => {
        processed.push(label(job.data));
      },
      { connection, prefix: bullPrefix(services.prefix), concurrency: 1 },
    );
  }

  it("a quiet portal's event is not delayed by a noisy portal's backlog", async () => {
    const BACKLOG = 300;
    for (let deal = 1; deal <= BACKLOG; deal++) await services.events.enqueue(dealEvent(NOISY, deal));
    await services.events.enqueue(dealEvent(QUIET, 7));
    startRecordingWorker();
    await eventually(() => expect(processed).toHaveLength(BACKLOG + 1), 30_000);

    // Served among the first, not after the 300 events queued before it (priorities follow each portal's
    // rate per second, so a slow machine enqueueing the backlog over several seconds lets a few noisy ones in first).
    expect(processed.indexOf('quiet:7')).toBeGreaterThanOrEqual(0);
    expect(processed.indexOf('quiet:7')).toBeLessThanOrEqual(10);
    // The noisy portal's own events keep their arrival order.
    const noisy = processed.filter((p) => p.startsWith('noisy:')).map((p) => Number(p.split(':')[1]));
    expect(noisy).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
  });

  it('installations with work are served in turn: one event of each per round', async () => {
    // A fair share so small that nothing drains while the test enqueues: the rounds are exact.
    const events = new EventQueue({ connection: services.redis, prefix: services.prefix, attempts: 1, backoffMs: 100, fairDrainPerSecond: 0.001 });
    try {
      for (let deal = 1; deal <= 20; deal++) await events.enqueue(dealEvent(NOISY, deal));
      for (let deal = 1; deal <= 20; deal++) await events.enqueue(dealEvent(OTHER_NOISY, 100 + deal));
      for (let deal = 1; deal <= 3; deal++) await events.enqueue(dealEvent(QUIET, 500 + deal));
      startRecordingWorker();
      await eventually(() => expect(processed).toHaveLength(43), 30_000);
    } finally {
      await events.close();
    }
    expect(processed.slice(0, 11)).toEqual([
      'noisy:1', 'other:101', 'quiet:501',
      'noisy:2', 'other:102', 'quiet:502',
      'noisy:3', 'other:103', 'quiet:503',
      'noisy:4', 'other:104',
    ]);
    expect(processed.slice(11).filter((_, i) => i % 2 === 0)).toEqual(Array.from({ length: 16 }, (_, i) => `noisy:${i + 5}`));
  });

  it('a second notification about a queued deal stays one job at its first place', async () => {
    await services.events.enqueue(dealEvent(NOISY, 1));
    await services.events.enqueue(dealEvent(NOISY, 2));
    await services.events.enqueue(dealEvent(NOISY, 1));
    await services.events.enqueue(dealEvent(QUIET, 9));
    const jobs = await services.events.queue.getJobs(['prioritized']);
    expect(jobs.map((j) => `${label(j.data)}@${j.opts.priority}`).sort()).toEqual(['noisy:1@1', 'noisy:2@2', 'quiet:9@1']);
    startRecordingWorker();
    await eventually(() => expect(processed).toEqual(['noisy:1', 'quiet:9', 'noisy:2']));
  });

  it("an uninstall goes ahead of the installation's own backlog", async () => {
    for (let deal = 1; deal <= 5; deal++) await services.events.enqueue(dealEvent(NOISY, deal));
    await services.events.enqueue({ installationId: NOISY, crm: 'bitrix24', kind: 'removed', entity: 'installation', entityId: NOISY, receivedAt: Date.now() });
    startRecordingWorker();
    await eventually(() => expect(processed).toHaveLength(6));
    expect(processed.indexOf(`noisy:${NOISY}`)).toBeLessThanOrEqual(1);
  });
  it("a quiet portal's event runs while the noisy portal's jobs hold every regular slot", async () => {
    for (let deal = 1; deal <= 8; deal++) await services.events.enqueue(dealEvent(NOISY, deal));
    // The regular worker's one slot stays busy with the noisy portal's first job until released.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const record = async (job: Job<InboundEvent>) => {
      processed.push(label(job.data));
      if (job.data.entityId === '1' && job.data.installationId === NOISY) await released;
    };
    connection = connectRedis(redisUrl());
    const fastConnection = connectRedis(redisUrl());
    worker = new Worker(EVENTS_QUEUE, record, { connection, prefix: bullPrefix(services.prefix), concurrency: 1 });
    await eventually(() => expect(processed).toEqual(['noisy:1']));
    const fastLane = new Worker(EVENTS_QUEUE, fastLaneProcessor(record, 20), { connection: fastConnection, prefix: bullPrefix(services.prefix), concurrency: 1 });
    try {
      // The fast lane takes the noisy portal's events of the first rounds (priority ≤ 4), then gives the rest back.
      await eventually(() => expect(processed).toEqual(['noisy:1', 'noisy:2', 'noisy:3', 'noisy:4']));
      await services.events.enqueue(dealEvent(QUIET, 7));
      await eventually(() => expect(processed).toEqual(['noisy:1', 'noisy:2', 'noisy:3', 'noisy:4', 'quiet:7']));
      await new Promise((r) => setTimeout(r, 300));
      expect(processed).toHaveLength(5); // the backlog waits for the regular slot
      release();
      // Nothing given back is lost. (A job in the middle of being given back may be passed by the
      // next one of its portal: other deals, so no deal's events change order.)
      await eventually(() => expect(processed).toHaveLength(9));
      expect([...processed.slice(5)].sort()).toEqual(['noisy:5', 'noisy:6', 'noisy:7', 'noisy:8']);
      expect(await services.events.queue.getJobCounts('completed', 'failed', 'delayed', 'prioritized')).toEqual({ completed: 9, failed: 0, delayed: 0, prioritized: 0 });
    } finally {
      release();
      await fastLane.close();
      await fastConnection.quit();
    }
  });
});
