/**
 * `npm run bench:burst`: 1,000 new deals with wrong titles land on a Bitrix24 portal at once
 * (1,000 ONCRMDEALADD events), the portal at its documented limit (a leaky bucket of 50 draining
 * 2 requests/s; a `batch` counts once). Prints the time until every deal is renamed, deals/s,
 * the HTTP calls the app sent, commands per call, and the QUERY_LIMIT_EXCEEDED answers.
 * Last line: one JSON object.
 *
 * BENCH_DEALS (1000) and BENCH_CONCURRENCY (jobs per worker process, 50) tune the run.
 */
import { resolveRedis } from '../src/infra/redis';
import { startLocalStack, type LocalStack } from '../test/helpers/local-stack';

const DEALS = Number(process.env.BENCH_DEALS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const RATE = { burst: 50, drainPerSecond: 2 };
const GIVE_UP_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);

async function main() {
  const redis = await resolveRedis();
  const stack = await startLocalStack({
    redisUrl: redis.url,
    prefix: `reglament-bench-burst-${process.pid}`,
    portalRateLimit: RATE,
    env: { BITRIX24_RATE_BURST: String(RATE.burst), BITRIX24_RATE_PER_SECOND: String(RATE.drainPerSecond), BITRIX24_COALESCE_BATCHES: 'on' },
    workerConcurrency: CONCURRENCY,
    logLevel: 'error',
  });
  try {
    const f = await run(stack);
    console.log(`portal at ${RATE.drainPerSecond} requests/s, burst ${RATE.burst}; ${DEALS} new deals with wrong titles at once; ${CONCURRENCY} jobs per worker`);
    console.log(`renamed ${f.renamed}/${DEALS} in ${f.seconds} s (${f.dealsPerSecond} deals/s); all events and echoes done in ${f.idleSeconds} s`);
    console.log(`HTTP calls ${f.httpCalls} (${f.batchCalls} batch), ${f.commands} commands, ${f.commandsPerCall} commands per call; QUERY_LIMIT_EXCEEDED ${f.limitErrors}`);
    console.log(`commands by method: ${Object.entries(f.byMethod).map(([m, n]) => `${m} ${n}`).join(', ')}; the portal delivered the ${DEALS} ONCRMDEALADD in ${f.addsDeliveredSeconds} s`);
    console.log(JSON.stringify({ bench: 'burst', crm: 'bitrix24', deals: DEALS, rate_per_second: RATE.drainPerSecond, burst: RATE.burst, worker_concurrency: CONCURRENCY, renamed: f.renamed, seconds_until_all_renamed: f.seconds, deals_per_second: f.dealsPerSecond, seconds_until_idle: f.idleSeconds, http_calls: f.httpCalls, batch_calls: f.batchCalls, commands: f.commands, commands_per_call: f.commandsPerCall, query_limit_exceeded: f.limitErrors }));
  } finally {
    await stack.stop();
    await redis.stop();
  }
}

async function run(stack: LocalStack) {
  const { portal } = stack;
  // The clients exist before the import (no events for them); the deals arrive all at once.
  const contacts = Array.from({ length: DEALS }, (_, i) => portal.userAddContact({ name: `Клиент${i}`, lastName: 'Импортов', phones: [`+7999${String(10_000_000 + i).slice(1)}`] }, 2));
  await portal.install(`${stack.appUrl}/bitrix24/install`);
  await stack.idle(60_000);
  // Start from a drained bucket, as a quiet portal would be.
  await new Promise((resolve) => setTimeout(resolve, 1000 * (RATE.burst / RATE.drainPerSecond)));

  const fromCall = portal.calls.length;
  const fromRest = portal.stats.restCalls;
  const fromLimited = portal.stats.rateLimited;
  const started = Date.now();
  const ids = contacts.map((contactId, i) => portal.userAddDeal({ title: `Импорт ${i}`, contactId } as never, 2));
  // Only the deals not renamed yet are looked at (reading a deal copies it: 1,000 every 100 ms would load the machine).
  const pending = new Set(ids);
  const renamedNow = () => {
    for (const id of pending) if (portal.getDeal(id)?.title.startsWith(`${id} / `)) pending.delete(id);
    return DEALS - pending.size;
  };
  let renamed = 0;
  while ((renamed = renamedNow()) < DEALS && Date.now() - started < GIVE_UP_MS) await new Promise((resolve) => setTimeout(resolve, 100));
  const seconds = (Date.now() - started) / 1000;
  await stack.idle(GIVE_UP_MS);
  const idleSeconds = (Date.now() - started) / 1000;

  const calls = portal.calls.slice(fromCall);
  // How fast the portal delivered the 1,000 ONCRMDEALADD (one at a time, as it does): a floor for the whole run.
  const adds = portal.deliveries.filter((d) => d.event === 'ONCRMDEALADD' && d.at >= started);
  const addsDeliveredSeconds = adds.length ? (Math.max(...adds.map((d) => d.at)) - started) / 1000 : 0;
  const httpCalls = portal.stats.restCalls - (fromRest ?? 0);
  const batchCalls = calls.filter((c) => !c.viaBatch && c.method === 'batch').length;
  const commands = calls.filter((c) => c.viaBatch || c.method !== 'batch').length;
  const byMethod: Record<string, number> = {};
  for (const c of calls) if (c.viaBatch || c.method !== 'batch') byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
  return {
    renamed,
    seconds: round(seconds),
    dealsPerSecond: round(renamed / seconds),
    idleSeconds: round(idleSeconds),
    httpCalls,
    batchCalls,
    commands,
    commandsPerCall: round(commands / Math.max(1, httpCalls)),
    limitErrors: portal.stats.rateLimited - fromLimited,
    byMethod,
    addsDeliveredSeconds: round(addsDeliveredSeconds),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
