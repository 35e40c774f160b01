import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { InboundEvent } from '../../src/events';
import { connectRedis } from '../../src/infra/redis';
import request from 'supertest';
import { encodeEntry, inboxKeys, EventInbox } from '../../src/pipeline/event-inbox';
import { startHeartbeat } from '../../src/pipeline/worker-heartbeat';
import { createWebApp } from '../../webhooks/server';
import { InboxPump } from '../../src/pipeline/inbox-pump';
import { bullPrefix, EVENTS_QUEUE, EventQueue, type AcceptedEvent } from '../../src/pipeline/queues';
import { dealEvent, label, NOISY, OTHER_NOISY, QUIET } from '../helpers/two-portals';
import { createTestServices, eventually, redisUrl } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;


/** An addAccepted that never returns until told to: the pump holding it is as good as dead (its lock is not renewed). */
function frozenAdd(real: EventQueue) {
  let wake: () => void = () => {};
  const woken = new Promise<void>((resolve) => (wake = resolve));
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    wake: () => wake(),
    events: {
      async addAccepted(accepted: AcceptedEvent[]) {
        calls++;
        await woken;
        await real.addAccepted(accepted);
      },
    },
  };
}

describe('the event inbox between the edge and the events queue (real Redis)', () => {
  let services: TestServices;
  const closers: Array<() => Promise<unknown>> = [];
  const keys = () => inboxKeys(services.prefix);

  beforeEach(async () => {
    services = await createTestServices();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await services.cleanup();
  });

  function pump(events: Pick<EventQueue, 'addAccepted'> = services.events, lockMs = 400): InboxPump {
    const blocking = connectRedis(redisUrl());
    const started = new InboxPump({ redis: services.redis, blocking, prefix: services.prefix, events, log: services.log, lockMs }).start();
    closers.push(() => started.stop());
    return started;
  }

  /** A pump that will die mid-pass: at the end its blocking connection is closed, nothing else (a dead process stops nothing). */
  function doomedPump(events: Pick<EventQueue, 'addAccepted'>): void {
    const blocking = connectRedis(redisUrl());
    new InboxPump({ redis: services.redis, blocking, prefix: services.prefix, events, log: services.log, lockMs: 400 }).start();
    closers.push(async () => blocking.disconnect());
  }

  const queuedJobs = () => services.events.queue.getJobs(['waiting', 'prioritized', 'active', 'completed']);
  const inFlight = () => services.redis.llen(keys().pumping);

  it('answers once Redis holds the event: every request of one event-loop turn is one append, in arrival order', async () => {
    // What the edge's connection sends to Redis.
    const producer = services.queueSettings.connection as Redis;
    const sent = jest.spyOn(producer, 'sendCommand');
    await Promise.all([1, 2, 3, 4, 5].map((deal) => services.inbox.accept(dealEvent(NOISY, deal))));
    const stored = await services.redis.lrange(keys().inbox, 0, -1);
    expect(stored.map((raw) => JSON.parse(raw).e.entityId)).toEqual(['1', '2', '3', '4', '5']);
    expect(sent.mock.calls.filter(([command]) => command.args[0] === keys().inbox).map(([command]) => command.name)).toEqual(['rpush']);
    sent.mockRestore();
    // Nothing reaches the queue until a pump moves it.
    expect(await services.events.queue.count()).toBe(0);
  });

  it('installations with work are served in turn, exactly as with a direct add: the pump keeps the priorities given on arrival', async () => {
    // A fair share so small that nothing drains while the test accepts: the rounds are exact.
    const events = new EventQueue({ connection: services.redis, prefix: services.prefix, attempts: 1, backoffMs: 100, fairDrainPerSecond: 0.001 });
    closers.push(() => events.close());
    const inbox = new EventInbox(services.redis, services.prefix, events);
    for (let deal = 1; deal <= 20; deal++) await inbox.accept(dealEvent(NOISY, deal));
    for (let deal = 1; deal <= 20; deal++) await inbox.accept(dealEvent(OTHER_NOISY, 100 + deal));
    for (let deal = 1; deal <= 3; deal++) await inbox.accept(dealEvent(QUIET, 500 + deal));
    // A small batch: the 43 events reach the queue in several addBulk calls, order kept across them.
    const pumped = new InboxPump({ redis: services.redis, prefix: services.prefix, events, log: services.log, batch: 7 });
    expect(await pumped.drain()).toBe(43);

    const processed: string[] = [];
    const connection = connectRedis(redisUrl());
    const worker = new Worker(EVENTS_QUEUE, async (job: Job<InboundEvent>) => void processed.push(label(job.data)), { connection, prefix: bullPrefix(services.prefix), concurrency: 1 });
    closers.push(() => connection.quit(), () => worker.close());
    await eventually(() => expect(processed).toHaveLength(43), 30_000);
    expect(processed.slice(0, 11)).toEqual([
      'noisy:1', 'other:101', 'quiet:501',
      'noisy:2', 'other:102', 'quiet:502',
      'noisy:3', 'other:103', 'quiet:503',
      'noisy:4', 'other:104',
    ]);
    expect(processed.slice(11).filter((_, i) => i % 2 === 0)).toEqual(Array.from({ length: 16 }, (_, i) => `noisy:${i + 5}`));
  });

  it('a second notification about a queued deal stays one job at its first place, as with a direct add', async () => {
    for (const event of [dealEvent(NOISY, 1), dealEvent(NOISY, 2), dealEvent(NOISY, 1), dealEvent(QUIET, 9)]) await services.inbox.accept(event);
    pump();
    await eventually(async () => expect(await services.inbox.depth()).toBe(0));
    const jobs = await services.events.queue.getJobs(['prioritized']);
    expect(jobs.map((j) => `${label(j.data)}@${j.opts.priority}`).sort()).toEqual(['noisy:1@1', 'noisy:2@2', 'quiet:9@1']);
  });

  it('a pump that dies after taking a batch and before adding it loses nothing: the next pump adds the batch, once', async () => {
    for (let deal = 1; deal <= 30; deal++) await services.inbox.accept(dealEvent(NOISY, deal));
    const dying = frozenAdd(services.events);
    pump(dying.events);
    // The batch left the inbox and waits in flight; the queue has none of it.
    await eventually(async () => expect(dying.calls).toBe(1));
    expect(await services.redis.llen(keys().inbox)).toBe(0);
    expect(await inFlight()).toBe(30);
    expect(await services.events.queue.count()).toBe(0);

    // Its lock expires; another worker's pump takes over and starts with what was in flight.
    const next = pump();
    await eventually(async () => expect((await queuedJobs()).map((j) => j.data.entityId).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1))), 10_000);
    expect(next.isLeader).toBe(true);
    expect(await inFlight()).toBe(0);

    // The dead one wakes (a long pause, not a death) and adds its batch again: no job twice.
    dying.wake();
    await new Promise((r) => setTimeout(r, 600));
    expect(await queuedJobs()).toHaveLength(30);
    // And it is no longer the leader, so it takes nothing more.
    await services.inbox.accept(dealEvent(NOISY, 31));
    await eventually(async () => expect(await queuedJobs()).toHaveLength(31));
    expect(dying.calls).toBe(1);
  });

  it('a pump that dies after adding and before acknowledging duplicates nothing, even once the jobs ran', async () => {
    for (let deal = 1; deal <= 10; deal++) await services.inbox.accept(dealEvent(QUIET, deal));
    // Adds, then never acknowledges (dies in between).
    let added = 0;
    doomedPump({
      async addAccepted(accepted) {
        await services.events.addAccepted(accepted);
        added += accepted.length;
        await new Promise(() => {});
      },
    });
    await eventually(() => expect(added).toBe(10));
    expect(await inFlight()).toBe(10);
    const done: string[] = [];
    const connection = connectRedis(redisUrl());
    const worker = new Worker(EVENTS_QUEUE, async (job: Job<InboundEvent>) => void done.push(job.data.entityId), { connection, prefix: bullPrefix(services.prefix), concurrency: 4 });
    closers.push(() => connection.quit(), () => worker.close());
    await eventually(() => expect(done).toHaveLength(10));

    pump();
    await eventually(async () => expect(await inFlight()).toBe(0), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(done.sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 1)));
    expect(await services.events.queue.getJobCounts('completed', 'waiting', 'prioritized', 'active')).toEqual({ completed: 10, waiting: 0, prioritized: 0, active: 0 });
  });

  it('with a pump in every worker, one moves at a time; when it stops, another carries on', async () => {
    const first = pump();
    const second = pump();
    for (let deal = 1; deal <= 100; deal++) await services.inbox.accept(dealEvent(OTHER_NOISY, deal));
    await eventually(async () => expect(await services.events.queue.count()).toBe(100));
    expect([first.isLeader, second.isLeader].filter(Boolean)).toHaveLength(1);
    const [leader, other] = first.isLeader ? [first, second] : [second, first];
    await leader.stop();
    for (let deal = 101; deal <= 150; deal++) await services.inbox.accept(dealEvent(OTHER_NOISY, deal));
    await eventually(async () => expect(await services.events.queue.count()).toBe(150), 5_000);
    expect(other.isLeader).toBe(true);
    await eventually(async () => expect(await services.inbox.depth()).toBe(0));
  });

  it('/ready says 503 when the oldest inbox entry waited over 30 s (no pump runs), and 200 once a pump moved it', async () => {
    const stopHeartbeat = startHeartbeat(services.redis, services.prefix);
    closers.push(async () => stopHeartbeat());
    const app = createWebApp(services);
    await services.redis.rpush(keys().inbox, encodeEntry({ jobId: 'e0a.1', priority: 1, event: dealEvent(QUIET, 1) }, Date.now() - 31_000));
    const stalled = await request(app).get('/ready');
    expect(stalled.status).toBe(503);
    expect(stalled.body).toMatchObject({ ok: false, redis: 'ok', reason: expect.stringMatching(/inbox pump/) });
    pump();
    await eventually(async () => expect((await request(app).get('/ready')).body).toMatchObject({ ok: true, inboxOldestAgeS: 0 }));
    expect(await services.events.queue.count()).toBe(1);
  });

  it('refuses an event with an invalid installation id before anything is appended', async () => {
    await expect(services.inbox.accept({ ...dealEvent(NOISY, 1), installationId: 'b24:*' })).rejects.toThrow();
    expect(await services.inbox.depth()).toBe(0);
  });
});

export type { Redis };
