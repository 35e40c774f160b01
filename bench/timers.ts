/**
 * `npm run bench:timers`: 100,000 pending takeover timers in Redis, scheduled through the app's
 * own TimerQueue (one delayed BullMQ job per lead, as the takeover robot makes them).
 *
 * 1. Schedule BENCH_TIMERS timers. Most are due 15–30 minutes later (the takeover timeout: they
 *    stay pending through the bench); BENCH_OBSERVED of them are due over the next
 *    BENCH_WINDOW_S seconds, the rate at which 100,000 timers spread over 15 minutes fall due.
 * 2. Measure Redis memory per pending timer (MEMORY USAGE of the queue's keys; used_memory delta).
 * 3. A worker like the app's (trivial handler: the bench measures the timer machinery, not the
 *    CRM) records how late each observed timer fires: p50 / p99 / max, with 100,000 pending.
 * 4. Burst: BENCH_BURST pending timers are made due at once; fires/s is how fast they drain.
 * Last line: one JSON object. Own key prefix; every key it made is removed.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { connectRedis, resolveRedis } from '../src/infra/redis';
import { scanKeys } from '../src/installations/redis-installation-store';
import { bullPrefix, TIMERS_QUEUE, TimerQueue, type TimerJob } from '../src/pipeline/queues';

const TIMERS = Number(process.env.BENCH_TIMERS ?? 100_000);
const OBSERVED = Number(process.env.BENCH_OBSERVED ?? 5_000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_S ?? 45) * 1000;
const BURST = Number(process.env.BENCH_BURST ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const PARALLEL = 200;
const MINUTE = 60_000;

async function main() {
  const resolved = await resolveRedis();
  const prefix = `reglament-bench-timers-${randomBytes(4).toString('hex')}`;
  const redis = connectRedis(resolved.url);
  const queueConnection = connectRedis(resolved.url);
  const timers = new TimerQueue({ connection: queueConnection, prefix, attempts: 3, backoffMs: 1000 });
  const job = (i: number, dueAt: number): TimerJob => ({ installationId: `b24:${'0'.repeat(31)}${i % 10}`, robot: 'takeoverTimer', key: `lead:${100000 + i}:1`, data: { seq: 1, dueAt } });
  const observed: number[] = [];
  const burst: number[] = [];
  let worker: Worker<TimerJob> | null = null;
  try {
    const usedBefore = await usedMemory(redis);
    const background = TIMERS - OBSERVED;
    const scheduleStart = Date.now();
    await parallel(background, async (i) => {
      const dueAt = scheduleStart + 15 * MINUTE + Math.floor((i / background) * 15 * MINUTE);
      await timers.schedule(job(i, dueAt), dueAt - Date.now());
    });
    const windowStart = Date.now() + 5_000;
    await parallel(OBSERVED, async (i) => {
      const dueAt = windowStart + Math.floor((i / OBSERVED) * WINDOW_MS);
      await timers.schedule(job(background + i, dueAt), dueAt - Date.now());
    });
    const scheduleMs = Date.now() - scheduleStart;
    const scheduledPerSecond = Math.round((TIMERS / scheduleMs) * 1000);
    if (Date.now() > windowStart) console.warn('warning: scheduling the observed timers overran their first due time');
    const pending = await timers.queue.getDelayedCount();
    const keys = await scanKeys(redis, `${bullPrefix(prefix)}:*`);
    const bytes = await memoryUsage(redis, keys);
    const bytesPerTimer = Math.round(bytes / pending);
    const usedDeltaPerTimer = Math.round(((await usedMemory(redis)) - usedBefore) / pending);
    console.log(`scheduled ${TIMERS} timers in ${scheduleMs} ms (${scheduledPerSecond}/s); pending ${pending}`);
    console.log(`redis: ${keys.length} keys, ${(bytes / 1048576).toFixed(1)} MiB by MEMORY USAGE = ${bytesPerTimer} B/timer; used_memory delta ${usedDeltaPerTimer} B/timer (shared server: indicative)`);

    let burstStarted = 0;
    let burstDone: () => void = () => undefined;
    const burstFinished = new Promise<void>((r) => (burstDone = r));
    let observedDone: () => void = () => undefined;
    const observedFinished = new Promise<void>((r) => (observedDone = r));
    worker = new Worker<TimerJob>(
      TIMERS_QUEUE,
      async (j) => {
        const now = Date.now();
        const dueAt = Number(j.data.data.dueAt);
        if (!burstStarted || dueAt < burstStarted) {
          observed.push(now - dueAt);
          if (observed.length === OBSERVED) observedDone();
        } else {
          burst.push(now);
          if (burst.length === BURST) burstDone();
        }
      },
      { connection: connectRedis(resolved.url), prefix: bullPrefix(prefix), concurrency: CONCURRENCY },
    );
    await Promise.race([observedFinished, sleep(windowStart + WINDOW_MS + 30_000 - Date.now())]);
    const pendingDuringWindow = await timers.queue.getDelayedCount();

    // Burst: the next BURST background timers fall due at once (promoted, as if their time had come).
    burstStarted = Date.now();
    const toPromote = (await timers.queue.getJobs(['delayed'], 0, BURST - 1, true)).filter(Boolean);
    let k = 0;
    await parallel(toPromote.length, async () => {
      const j = toPromote[k++]!;
      j.data.data.dueAt = burstStarted; // the handler tells burst fires by their due time
      await j.updateData(j.data);
      await j.promote();
    });
    await Promise.race([burstFinished, sleep(60_000)]);
    const burstMs = (burst[burst.length - 1] ?? burstStarted) - burstStarted;
    const firesPerSecond = Math.round((burst.length / Math.max(1, burstMs)) * 1000);

    observed.sort((a, b) => a - b);
    const q = (p: number) => observed[Math.min(observed.length - 1, Math.floor(p * observed.length))] ?? NaN;
    const result = {
      bench: 'timers',
      timers: TIMERS,
      pending,
      pendingWhileObserved: pendingDuringWindow,
      observed: observed.length,
      dueRatePerSecond: Math.round(OBSERVED / (WINDOW_MS / 1000)),
      workerConcurrency: CONCURRENCY,
      scheduledPerSecond,
      latenessMs: { p50: q(0.5), p99: q(0.99), max: observed[observed.length - 1] ?? NaN },
      burst: burst.length,
      firesPerSecond,
      redisBytesPerTimer: bytesPerTimer,
      redisUsedMemoryDeltaPerTimer: usedDeltaPerTimer,
      goalP99Met: q(0.99) <= 1000,
    };
    console.log(`observed ${observed.length}/${OBSERVED} fires with ${pendingDuringWindow} still pending: lateness p50 ${result.latenessMs.p50} ms, p99 ${result.latenessMs.p99} ms, max ${result.latenessMs.max} ms`);
    console.log(`burst: ${burst.length} timers due at once drained at ${firesPerSecond} fires/s (worker concurrency ${CONCURRENCY}, one process)`);
    console.log(JSON.stringify(result));
  } finally {
    await worker?.close();
    await timers.queue.obliterate({ force: true }).catch(() => undefined);
    const left = await scanKeys(redis, `${prefix}:*`);
    for (let i = 0; i < left.length; i += 500) await redis.del(...left.slice(i, i + 500));
    await timers.close();
    await queueConnection.quit().catch(() => undefined);
    await redis.quit().catch(() => undefined);
    await resolved.stop();
  }
}

async function parallel(n: number, run: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(PARALLEL, n) }, async () => {
    for (let i = next++; i < n; i = next++) await run(i);
  }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function usedMemory(redis: ReturnType<typeof connectRedis>): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function memoryUsage(redis: ReturnType<typeof connectRedis>, keys: string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const key of keys.slice(i, i + 1000)) pipeline.memory('USAGE', key);
    for (const [, v] of (await pipeline.exec()) ?? []) total += Number(v ?? 0);
  }
  return total;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
