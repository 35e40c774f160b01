/**
 * `npm run bench:ingress`: valid Bitrix24 ONCRMDEALUPDATE events POSTed at full speed for a fixed
 * time to the real edge (verify → validate → enqueue), and the same load against a bare express
 * handler that only parses the body, in alternating rounds (app, bare, bare, app, …) so that both
 * meet the same neighbours on a shared machine. Prints requests/s, p50/p99 latency, and checks that every
 * accepted request became a job: the edge appends to the event inbox, and after the load the
 * inbox pump (what the workers run) moves it into the queue, timed on its own (`pumped_per_s`).
 * Last line: one JSON object.
 *
 * BENCH_SECONDS (default 10, per side, split into BENCH_ROUNDS rounds, default 5) and BENCH_CONNECTIONS (default 10:
 * concurrent deliveries from the CRM's queue servers) tune the run. p99 is the worst round's.
 * Redis: a private redis-server of its own (so other work on a shared Redis does not slow the enqueue it
 * measures); BENCH_REDIS=shared uses REDIS_URL or 127.0.0.1:6379 instead.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { stringify } from 'qs';
import { connectRedis, resolveRedis, startPrivateRedis } from '../src/infra/redis';
import { escapeGlob } from '../src/infra/keys';
import { scanKeys } from '../src/installations/redis-installation-store';
import { bullPrefix, EVENTS_QUEUE } from '../src/pipeline/queues';
import { freePort } from '../src/infra/free-port';
import { inboxKeys } from '../src/pipeline/event-inbox';
import { InboxPump } from '../src/pipeline/inbox-pump';
import { EventQueue } from '../src/pipeline/queues';
import { createLogger } from '../src/log';

/** What the workers' inbox pump does, run once after the load: every accepted event into the queue. */
async function pumpInbox(conn: ReturnType<typeof connectRedis>, prefix: string): Promise<number> {
  const events = new EventQueue({ connection: conn, prefix, attempts: 1, backoffMs: 1000 });
  try {
    return await new InboxPump({ redis: conn, prefix, events, log: createLogger('silent') }).drain();
  } finally {
    await events.close();
  }
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const memberId = randomBytes(16).toString('hex');
const applicationToken = randomBytes(16).toString('hex');

/** The documented ONCRMDEALUPDATE body; every request names a different deal, so none is coalesced. */
function eventBody(dealId: number): string {
  return stringify({
    event: 'ONCRMDEALUPDATE',
    event_handler_id: '201',
    data: { FIELDS: { ID: String(dealId) } },
    ts: String(Math.floor(Date.now() / 1000)),
    auth: {
      access_token: 's6p6eclrvim6da22ft9ch94ekreb52lv',
      expires_in: '3600',
      scope: 'crm',
      domain: 'bench.bitrix24.ru',
      server_endpoint: 'https://oauth.bitrix.info/rest/',
      status: 'F',
      client_endpoint: 'https://bench.bitrix24.ru/rest/',
      member_id: memberId,
      application_token: applicationToken,
    },
  });
}

function startServer(mode: 'app' | 'bare', port: number, redisUrl: string, prefix: string): Promise<ChildProcess> {
  const child = fork(path.join(__dirname, 'ingress-server.ts'), [mode, String(port), redisUrl, prefix, memberId, applicationToken], {
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [])],
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

function cpuOf(child: ChildProcess, message: 'cpu-start' | 'cpu-stop'): Promise<number> {
  return new Promise((resolve) => {
    if (message === 'cpu-start') {
      child.send(message);
      return resolve(0);
    }
    child.once('message', (answer) => resolve((answer as { cpuMicros: number }).cpuMicros));
    child.send(message);
  });
}

let nextDeal = 1;

/** One round of load: `seconds` at full speed against one server. */
async function round(port: number, server: ChildProcess, seconds: number) {
  await cpuOf(server, 'cpu-start');
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/bitrix24/events`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requests: [{ setupRequest: (req) => ({ ...req, body: eventBody(nextDeal++) }) }],
  });
  const cpuMicros = await cpuOf(server, 'cpu-stop');
  return { cpuMicros, accepted: result['2xx'], rejected: result.non2xx + result.errors + result.timeouts, p50: result.latency.p50, p99: result.latency.p99, seconds };
}

type Round = Awaited<ReturnType<typeof round>>;

/** A side's rounds summed: requests/s over its whole time, CPU per request, median p50 and the worst p99. */
function total(rounds: Round[]) {
  const accepted = rounds.reduce((a, r) => a + r.accepted, 0);
  const seconds = rounds.reduce((a, r) => a + r.seconds, 0);
  const p50s = rounds.map((r) => r.p50).sort((a, b) => a - b);
  return {
    cpuPerRequestMicros: Math.round(rounds.reduce((a, r) => a + r.cpuMicros, 0) / Math.max(1, accepted)),
    accepted,
    rejected: rounds.reduce((a, r) => a + r.rejected, 0),
    rps: accepted / seconds,
    p50: p50s[Math.floor(p50s.length / 2)]!,
    p99: Math.max(...rounds.map((r) => r.p99)),
    p99Rounds: rounds.map((r) => r.p99),
  };
}

async function main() {
  const redis = process.env.BENCH_REDIS === 'shared' ? await resolveRedis() : await startPrivateRedis();
  const prefix = `reglament-bench-${randomBytes(3).toString('hex')}`;
  const conn = connectRedis(redis.url);
  try {
    const appPort = await freePort();
    const barePort = await freePort();
    const app = await startServer('app', appPort, redis.url, prefix);
    const bare = await startServer('bare', barePort, redis.url, prefix);
    const appRounds: Round[] = [];
    const bareRounds: Round[] = [];
    const perRound = SECONDS / ROUNDS;
    console.log(`app edge and bare express (parse only): ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${perRound}s each …`);
    for (let i = 0; i < ROUNDS; i++) {
      // app, bare, bare, app, app, bare…: neither side always goes first.
      const order = i % 2 === 0 ? (['app', 'bare'] as const) : (['bare', 'app'] as const);
      for (const side of order) {
        if (side === 'app') appRounds.push(await round(appPort, app, perRound));
        else bareRounds.push(await round(barePort, bare, perRound));
      }
    }
    await stopChild(app);
    await stopChild(bare);
    const appRun = total(appRounds);
    const bareRun = total(bareRounds);
    // The edge appended to the inbox; the workers' pump moves it into the queue. Timed here, alone.
    const inInbox = await conn.llen(inboxKeys(prefix).inbox);
    const pumpStarted = Date.now();
    const pumped = await pumpInbox(conn, prefix);
    const pumpSeconds = (Date.now() - pumpStarted) / 1000;
    const queue = new Queue(EVENTS_QUEUE, { connection: conn, prefix: bullPrefix(prefix) });
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
    await queue.close();


    // Requests still in flight when the load stopped were enqueued but not counted as accepted.
    const lost = Math.max(0, appRun.accepted - jobs);
    const inFlightAtStop = Math.max(0, jobs - appRun.accepted);
    console.log(`app:  ${appRun.rps.toFixed(0)} req/s accepted, p50 ${appRun.p50} ms, p99 ${appRun.p99} ms, ${appRun.rejected} rejected`);
    console.log(`bare: ${bareRun.rps.toFixed(0)} req/s, p50 ${bareRun.p50} ms, p99 ${bareRun.p99} ms`);
    console.log(`server CPU per request: app ${appRun.cpuPerRequestMicros} µs, bare ${bareRun.cpuPerRequestMicros} µs`);
    console.log(`inbox pump: ${pumped} of ${inInbox} entries into the queue in ${pumpSeconds.toFixed(1)} s (${Math.round(pumped / Math.max(pumpSeconds, 0.001))}/s)`);
    console.log(`jobs enqueued ${jobs} ≥ requests accepted ${appRun.accepted} (${inFlightAtStop} answered after the load stopped): ${lost === 0 ? 'none lost' : `${lost} LOST`}`);
    console.log(
      JSON.stringify({
        bench: 'ingress',
        redis: process.env.BENCH_REDIS === 'shared' ? 'shared' : 'private',
        seconds: SECONDS,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        app_rps: Math.round(appRun.rps),
        bare_rps: Math.round(bareRun.rps),
        ratio: Number((appRun.rps / bareRun.rps).toFixed(2)),
        p50_ms: appRun.p50,
        p99_ms: appRun.p99,
        p99_ms_rounds: appRun.p99Rounds,
        bare_p99_ms: bareRun.p99,
        app_cpu_us_per_req: appRun.cpuPerRequestMicros,
        bare_cpu_us_per_req: bareRun.cpuPerRequestMicros,
        accepted: appRun.accepted,
        jobs,
        pumped_per_s: Math.round(pumped / Math.max(pumpSeconds, 0.001)),
        in_flight_at_stop: inFlightAtStop,
        lost,
      }),
    );
  } finally {
    const keys = await scanKeys(conn, `${escapeGlob(prefix)}:*`);
    for (let i = 0; i < keys.length; i += 1000) await conn.del(...keys.slice(i, i + 1000));
    await conn.quit();
    await redis.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
