/**
 * `npm run bench:memory`: resident memory of the web and the worker process, each its own OS
 * process (`bin/web.ts`, `bin/worker.ts`, as the Procfile runs them), with 1,000 installations
 * stored and the Bitrix24 burst of `bench:burst` running (1,000 new deals at once on a portal at
 * 2 requests/s, burst 50, coalesced batches on).
 *
 * Besides the one real portal, 999 more Bitrix24 installations are stored, and each sends the web
 * process a verified event during the burst (one it acknowledges without a job), so the edge holds
 * all 1,000 installations in its cache. Peak RSS is the kernel's high-water mark (VmHWM) of each
 * process, also sampled every 250 ms. Goal: ≤ 200 MB each. Each role runs with the NODE_OPTIONS its
 * Procfile line sets (BENCH_CHILD_NODE_OPTIONS overrides them). Last line: one JSON object.
 *
 * The catch-up sweep is off (RECONCILE_INTERVAL_S=0): it would call the 999 portals that exist only
 * as records here. BENCH_DEALS (1000), BENCH_INSTALLATIONS (1000), BENCH_CONCURRENCY (50) tune the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'qs';
import { bitrix24InstallationRecord } from '../test/helpers/fixtures';
import { resolveRedis } from '../src/infra/redis';
import { startLocalStack, type LocalStack } from '../test/helpers/local-stack';

const DEALS = Number(process.env.BENCH_DEALS ?? 1_000);
const INSTALLATIONS = Number(process.env.BENCH_INSTALLATIONS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const RATE = { burst: 50, drainPerSecond: 2 };
const GIVE_UP_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);
const GOAL_MB = 200;
const ROOT = path.join(__dirname, '..');

type Role = 'web' | 'worker';

/** Resident and peak resident memory of a process, in MB, from /proc (Linux). */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

/**
 * The V8 heap flags the Procfile gives the role: without a limit V8 grows the heap lazily (the
 * worker reached 514 MB RSS in this burst while a 96 MB heap limit was enough for it to finish).
 */
function procfileNodeOptions(role: Role): string {
  const line = readFileSync(path.join(ROOT, 'Procfile'), 'utf8').split('\n').find((l) => l.startsWith(`${role}:`));
  return /NODE_OPTIONS="([^"]*)"/.exec(line ?? '')?.[1] ?? '';
}

function startRole(role: Role, env: NodeJS.ProcessEnv): ChildProcess {
  const nodeOptions = process.env.BENCH_CHILD_NODE_OPTIONS ?? procfileNodeOptions(role);
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', `${role}.ts`)], {
    cwd: ROOT,
    env: { ...env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopRole(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitForWeb(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/health`).then((r) => r.ok).catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the web process did not start');
}

/** The environment the in-process stack was built from, for the two child processes. */
function envOf(stack: LocalStack, redisUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl, RECONCILE_INTERVAL_S: '0', WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: 'error' };
  for (const [key, value] of Object.entries(stack.services.config)) {
    if (value === undefined || key in { REDIS_URL: 1, RECONCILE_INTERVAL_S: 1, WORKER_CONCURRENCY: 1, LOG_LEVEL: 1, METRICS_PORT: 1 }) continue;
    env[key] = typeof value === 'string' ? value : String(value);
  }
  return env;
}

/** 999 more Bitrix24 portals: records only (their events are acknowledged, never processed). */
async function storeOtherInstallations(stack: LocalStack): Promise<Array<{ memberId: string; token: string }>> {
  const others = Array.from({ length: INSTALLATIONS - 1 }, () => ({ memberId: randomBytes(16).toString('hex'), token: randomBytes(16).toString('hex') }));
  for (const { memberId, token } of others) {
    await stack.services.store.save(
      bitrix24InstallationRecord({ memberId, applicationToken: token, domain: `p${memberId.slice(0, 8)}.bitrix24.ru`, adminUserIds: ['1'] }),
      { accessToken: randomBytes(16).toString('hex'), refreshToken: randomBytes(16).toString('hex'), expiresAt: Date.now() + 3600_000 },
    );
  }
  return others;
}

/** One verified event per other installation that the edge answers without a job (it still finds the installation). */
async function touchEveryInstallation(url: string, others: Array<{ memberId: string; token: string }>): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < others.length; i += 20) {
    const answers = await Promise.all(
      others.slice(i, i + 20).map(({ memberId, token }) =>
        fetch(`${url}/bitrix24/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: stringify({ event: 'ONCRMCOMPANYUPDATE', data: { FIELDS: { ID: '1' } }, ts: String(Math.floor(Date.now() / 1000)), auth: { domain: 'x.bitrix24.ru', member_id: memberId, application_token: token } }),
        }).then((r) => r.status),
      ),
    );
    accepted += answers.filter((s) => s === 200).length;
  }
  return accepted;
}

async function main() {
  const redis = await resolveRedis();
  const stack = await startLocalStack({
    redisUrl: redis.url,
    prefix: `reglament-bench-memory-${process.pid}`,
    portalRateLimit: RATE,
    env: { BITRIX24_RATE_BURST: String(RATE.burst), BITRIX24_RATE_PER_SECOND: String(RATE.drainPerSecond), BITRIX24_COALESCE_BATCHES: 'on', RECONCILE_INTERVAL_S: '0' },
    workers: false,
    logLevel: 'error',
  });
  const children: Partial<Record<Role, ChildProcess>> = {};
  const peak: Record<Role, number> = { web: 0, worker: 0 };
  let sampler: NodeJS.Timeout | undefined;
  try {
    const { portal } = stack;
    const contacts = Array.from({ length: DEALS }, (_, i) => portal.userAddContact({ name: `Клиент${i}`, lastName: 'Импортов', phones: [`+7999${String(10_000_000 + i).slice(1)}`] }, 2));
    // The real install flow needs the app: the in-process web serves it, then hands its port to the web process.
    await portal.install(`${stack.appUrl}/bitrix24/install`);
    await stack.idle(60_000);
    const others = await storeOtherInstallations(stack);
    await stack.stopWeb();

    const env = envOf(stack, redis.url);
    children.web = startRole('web', env);
    children.worker = startRole('worker', env);
    await waitForWeb(stack.appUrl);
    const sample = () => {
      for (const role of ['web', 'worker'] as const) {
        const child = children[role];
        if (!child?.pid || child.exitCode !== null || child.signalCode !== null) throw new Error(`the ${role} process is not running`);
        peak[role] = Math.max(peak[role], memoryOf(child.pid).peakMb);
      }
    };
    let sampleError: unknown;
    sampler = setInterval(() => {
      try {
        sample();
      } catch (err) {
        sampleError ??= err;
      }
    }, 250);
    const before = { web: memoryOf(children.web.pid!).rssMb, worker: memoryOf(children.worker.pid!).rssMb };

    const started = Date.now();
    const ids = contacts.map((contactId, i) => portal.userAddDeal({ title: `Импорт ${i}`, contactId } as never, 2));
    const touched = await touchEveryInstallation(stack.appUrl, others);
    const renamedNow = () => ids.filter((id) => portal.getDeal(id)?.title.startsWith(`${id} / `)).length;
    let renamed = 0;
    while ((renamed = renamedNow()) < DEALS && Date.now() - started < GIVE_UP_MS) {
      if (sampleError) throw sampleError;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    await stack.idle(GIVE_UP_MS);
    sample();
    const after = { web: memoryOf(children.web.pid!).rssMb, worker: memoryOf(children.worker.pid!).rssMb };

    console.log(`${INSTALLATIONS} installations stored; ${touched} of the ${others.length} others verified at the edge during the burst`);
    console.log(`burst: ${renamed}/${DEALS} deals renamed in ${seconds} s (portal at ${RATE.drainPerSecond}/s, burst ${RATE.burst}; ${CONCURRENCY} jobs per worker)`);
    for (const role of ['web', 'worker'] as const) {
      console.log(`${role.padEnd(6)} RSS before ${before[role]} MB, after ${after[role]} MB, peak ${peak[role]} MB (goal ≤ ${GOAL_MB} MB: ${peak[role] <= GOAL_MB ? 'met' : 'MISSED'})`);
    }
    console.log(
      JSON.stringify({
        bench: 'memory',
        installations: INSTALLATIONS,
        deals: DEALS,
        renamed,
        seconds_until_all_renamed: seconds,
        worker_concurrency: CONCURRENCY,
        node_options: { web: process.env.BENCH_CHILD_NODE_OPTIONS ?? procfileNodeOptions('web'), worker: process.env.BENCH_CHILD_NODE_OPTIONS ?? procfileNodeOptions('worker') },
        web_rss_before_mb: before.web,
        web_peak_rss_mb: peak.web,
        worker_rss_before_mb: before.worker,
        worker_peak_rss_mb: peak.worker,
        goal_mb: GOAL_MB,
        met: peak.web <= GOAL_MB && peak.worker <= GOAL_MB,
      }),
    );
  } finally {
    if (sampler) clearInterval(sampler);
    for (const child of Object.values(children)) if (child) await stopRole(child);
    await stack.stop();
    await redis.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
