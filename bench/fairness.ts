/**
 * `npm run bench:fairness`: one noisy Bitrix24 portal has a backlog of 10,000 queued events (an
 * import: ONCRMDEALADD for 10,000 deals with wrong titles), and meanwhile a quiet portal's managers
 * create a deal now and then. Measures the quiet portal's event → write latency: from the deal's
 * creation on the quiet portal (its ONCRMDEALADD goes through the app's HTTP edge) until the deal
 * renamer's new title is visible on that portal. Both portals at the documented limit (a leaky
 * bucket of 50 draining 2 requests/s). Also prints the noisy backlog's throughput meanwhile.
 * Last line: one JSON object.
 *
 * The backlog is put in the queue with the app's own `EventQueue.enqueue` (the edge's path minus
 * HTTP), so it is all queued before the first quiet event; the noisy portal's echoes and every
 * quiet event arrive over HTTP.
 *
 * BENCH_BACKLOG (10000), BENCH_QUIET_EVENTS (60), BENCH_QUIET_INTERVAL_MS (2000: at ~3 HTTP calls
 * per deal, echo included, the quiet portal stays within its own 2 requests/s), BENCH_CONCURRENCY
 * (jobs per worker process, 50), BENCH_COALESCE (on), and BENCH_FAIR_SHARE
 * (EVENT_FAIR_SHARE_PER_SECOND; 0 = plain arrival order, for comparison).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { InboundEvent } from '../src/events';
import { bitrix24InstallationId } from '../src/installations/installation';
import { resolveRedis } from '../src/infra/redis';
import { Bitrix24PortalEmulator } from '../test/emulators/bitrix24-portal';
import { BITRIX24_APP, startLocalStack, type LocalStack } from '../test/helpers/local-stack';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 10_000);
const QUIET_EVENTS = Number(process.env.BENCH_QUIET_EVENTS ?? 60);
const QUIET_INTERVAL_MS = Number(process.env.BENCH_QUIET_INTERVAL_MS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const COALESCE = process.env.BENCH_COALESCE === 'off' ? 'off' : 'on';
const FAIR_SHARE = process.env.BENCH_FAIR_SHARE;
const RATE = { burst: 50, drainPerSecond: 2 };
const ENQUEUE_CHUNK = 100;
const GIVE_UP_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 120_000);

async function main() {
  const redis = await resolveRedis();
  const stack = await startLocalStack({
    redisUrl: redis.url,
    prefix: `reglament-bench-fairness-${process.pid}`,
    portalRateLimit: RATE,
    env: {
      BITRIX24_RATE_BURST: String(RATE.burst),
      BITRIX24_RATE_PER_SECOND: String(RATE.drainPerSecond),
      BITRIX24_COALESCE_BATCHES: COALESCE,
      ...(FAIR_SHARE ? { EVENT_FAIR_SHARE_PER_SECOND: FAIR_SHARE } : {}),
    },
    workerConcurrency: CONCURRENCY,
    logLevel: 'error',
  });
  const quiet = await Bitrix24PortalEmulator.start({ ...BITRIX24_APP, rateLimit: RATE });
  try {
    const f = await run(stack, quiet);
    const fairShare = stack.services.config.EVENT_FAIR_SHARE_PER_SECOND;
    console.log(`two portals at ${RATE.drainPerSecond} requests/s, burst ${RATE.burst}; ${CONCURRENCY} jobs per worker; coalesced batches ${COALESCE}; fair share ${fairShare} events/s per installation`);
    console.log(`noisy portal: ${BACKLOG} events queued in ${f.enqueueSeconds} s; ${f.noisyRenamed} deals renamed while the quiet portal was measured (${f.windowSeconds} s): ${f.noisyPerSecond} deals/s; ${f.noisyLeft} still waiting`);
    console.log(`quiet portal: ${f.samples}/${QUIET_EVENTS} deals renamed, one every ${QUIET_INTERVAL_MS} ms (${f.quietCallsPerDeal} HTTP calls each, echo included); event → write p50 ${f.p50} ms, p95 ${f.p95} ms, p99 ${f.p99} ms, max ${f.max} ms`);
    console.log(`quiet portal's jobs: waiting for a worker p50 ${f.queueWaitP50} ms, p99 ${f.queueWaitP99} ms; running p50 ${f.runP50} ms, p99 ${f.runP99} ms; event-loop delay of the process (app and emulators) p99 ${f.loopDelayP99} ms`);
    console.log(
      JSON.stringify({
        bench: 'fairness',
        crm: 'bitrix24',
        noisy_backlog: BACKLOG,
        quiet_events: QUIET_EVENTS,
        quiet_interval_ms: QUIET_INTERVAL_MS,
        quiet_calls_per_deal: f.quietCallsPerDeal,
        worker_concurrency: CONCURRENCY,
        coalesce_batches: COALESCE,
        fair_share_per_second: fairShare,
        quiet_renamed: f.samples,
        quiet_p50_ms: f.p50,
        quiet_p95_ms: f.p95,
        quiet_p99_ms: f.p99,
        quiet_max_ms: f.max,
        quiet_queue_wait_p99_ms: f.queueWaitP99,
        quiet_job_run_p99_ms: f.runP99,
        event_loop_delay_p99_ms: f.loopDelayP99,
        noisy_renamed_during_window: f.noisyRenamed,
        noisy_deals_per_second: f.noisyPerSecond,
        noisy_left: f.noisyLeft,
        window_seconds: f.windowSeconds,
      }),
    );
  } finally {
    await stack.stop();
    await quiet.stop();
    await redis.stop();
  }
}

async function run(stack: LocalStack, quiet: Bitrix24PortalEmulator) {
  const noisy = stack.portal;
  // Clients and deals exist before the installs (no events for them yet).
  const noisyDeals: number[] = [];
  for (let i = 0; i < BACKLOG; i++) {
    const contactId = noisy.userAddContact({ name: `Клиент${i}`, lastName: 'Импортов', phones: [`+7999${String(10_000_000 + i).slice(1)}`] }, 2);
    noisyDeals.push(noisy.userAddDeal({ title: `Импорт ${i}`, contactId } as never, 2));
    // Let the app's Redis connections breathe: a long synchronous loop makes their timeouts fire.
    if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
  }
  const quietContacts = Array.from({ length: QUIET_EVENTS }, (_, i) => quiet.userAddContact({ name: `Покупатель${i}`, lastName: 'Тихонов' }, 2));
  await noisy.install(`${stack.appUrl}/bitrix24/install`);
  await quiet.install(`${stack.appUrl}/bitrix24/install`);
  await stack.idle(60_000);
  await quiet.settle();

  // The import's backlog: every ONCRMDEALADD queued before the quiet portal's first event.
  const noisyId = bitrix24InstallationId(noisy.memberId);
  const enqueueStarted = Date.now();
  // In chunks, as concurrent webhooks would arrive (each event's priority is set in arrival order).
  for (let i = 0; i < noisyDeals.length; i += ENQUEUE_CHUNK) {
    await Promise.all(
      noisyDeals
        .slice(i, i + ENQUEUE_CHUNK)
        .map((id) => enqueueAsTheCrmRetries(stack, { installationId: noisyId, crm: 'bitrix24', kind: 'created', entity: 'deal', entityId: String(id), receivedAt: Date.now() })),
    );
  }
  const enqueueSeconds = (Date.now() - enqueueStarted) / 1000;
  const renamedNoisy = () => noisyDeals.filter((id) => noisy.getDeal(id)?.title.startsWith(`${id} / `)).length;

  // App, emulators and bench share one process: its event-loop delay is part of every latency here.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const windowStarted = Date.now();
  const noisyAtStart = renamedNoisy();
  const quietCallsBefore = quiet.stats.restCalls;
  const latencies = await measureQuiet(quiet, quietContacts);
  const windowSeconds = (Date.now() - windowStarted) / 1000;
  loopDelay.disable();
  const noisyRenamed = renamedNoisy() - noisyAtStart;
  const sorted = [...latencies].sort((a, b) => a - b);
  const stages = await quietJobStages(stack, bitrix24InstallationId(quiet.memberId));
  return {
    quietCallsPerDeal: round((quiet.stats.restCalls - quietCallsBefore) / QUIET_EVENTS),
    loopDelayP99: Math.round(loopDelay.percentile(99) / 1e6),
    queueWaitP50: percentile(stages.queueWait, 50),
    queueWaitP99: percentile(stages.queueWait, 99),
    runP50: percentile(stages.run, 50),
    runP99: percentile(stages.run, 99),
    enqueueSeconds: round(enqueueSeconds),
    windowSeconds: round(windowSeconds),
    noisyRenamed,
    noisyPerSecond: round(noisyRenamed / windowSeconds),
    noisyLeft: BACKLOG - renamedNoisy(),
    samples: latencies.filter(Number.isFinite).length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? null,
  };
}

/** The edge answers 503 when Redis is slower than its deadline; the CRM then delivers again (so does this). */
async function enqueueAsTheCrmRetries(stack: LocalStack, event: InboundEvent, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await stack.services.events.enqueue(event);
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** Creates the quiet portal's deals one every QUIET_INTERVAL_MS; resolves with each one's creation → renamed time. */
async function measureQuiet(quiet: Bitrix24PortalEmulator, contacts: number[]): Promise<number[]> {
  const latencies: number[] = [];
  const pending = new Map<number, number>(); // deal id → created at
  const started = Date.now();
  let created = 0;
  while ((created < contacts.length || pending.size > 0) && Date.now() - started < GIVE_UP_MS + contacts.length * QUIET_INTERVAL_MS) {
    if (created < contacts.length && Date.now() - started >= created * QUIET_INTERVAL_MS) {
      const createdAt = Date.now();
      pending.set(quiet.userAddDeal({ title: `Заявка ${created}`, contactId: contacts[created] } as never, 2), createdAt);
      created++;
    }
    for (const [id, createdAt] of pending) {
      if (quiet.getDeal(id)?.title.startsWith(`${id} / `)) {
        latencies.push(Date.now() - createdAt);
        pending.delete(id);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // A deal never renamed counts as infinitely late (JSON null), not as a missing sample.
  for (let i = latencies.length; i < contacts.length; i++) latencies.push(Infinity);
  return latencies;
}

/** Where a quiet deal's time went, from BullMQ's own timestamps of its ONCRMDEALADD jobs: waiting for a worker, then running. */
async function quietJobStages(stack: LocalStack, installationId: string) {
  const jobs = await stack.services.events.queue.getJobs(['completed'], 0, 20_000);
  const created = jobs.filter((j) => j?.data.installationId === installationId && j.data.kind === 'created' && j.processedOn && j.finishedOn);
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  return {
    queueWait: sorted(created.map((j) => j.processedOn! - j.timestamp)),
    run: sorted(created.map((j) => j.finishedOn! - j.processedOn!)),
  };
}

/** Nearest-rank percentile of sorted samples (null without samples). */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
