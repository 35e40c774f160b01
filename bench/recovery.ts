/**
 * `npm run bench:recovery`: kill -9 of a worker process while its jobs wait on a slow portal,
 * then a new worker process; prints how long after the restart the killed worker's jobs were
 * all completed, and how often each deal was written. Two cases: the writes were applied and
 * the worker died waiting for the answer (`crm.item.update`), and it died reading (`batch`).
 * Last line: one JSON object.
 *
 * BENCH_DEALS (default 6) jobs in flight. BENCH_DEFAULTS=1 also runs BullMQ's defaults
 * (30 s lock, 30 s stall check, one stall allowed) for comparison.
 */
import { resolveRedis } from '../src/infra/redis';
import { runCrashRecovery, type CrashRecoveryResult, type SlowMethod } from '../test/helpers/crash-recovery';

const DEALS = Number(process.env.BENCH_DEALS ?? 6);

async function main() {
  const redis = await resolveRedis();
  const runs: Array<CrashRecoveryResult & { settings: string }> = [];
  const settings: Array<[string, NodeJS.ProcessEnv]> = [['app', {}]];
  if (process.env.BENCH_DEFAULTS === '1') settings.push(['bullmq-defaults', { JOB_LOCK_MS: '30000', JOB_STALLED_CHECK_MS: '30000', JOB_MAX_STALLED: '1' }]);
  try {
    for (const [name, workerEnv] of settings) {
      for (const slowMethod of ['crm.item.update', 'batch'] as SlowMethod[]) {
        const result = await runCrashRecovery({ redisUrl: redis.url, deals: DEALS, slowMethod, workerEnv, recoveryTimeoutMs: 240_000 });
        runs.push({ ...result, settings: name });
        console.log(
          `${name.padEnd(16)} killed in ${slowMethod.padEnd(15)} in flight ${result.inFlightAtKill}, all completed ${(result.recoveryMs / 1000).toFixed(1)} s after the restart (process start ${(result.startupMs / 1000).toFixed(1)} s), writes per deal ${JSON.stringify(result.writesPerDeal)}, wrong titles ${result.wrongTitles}`,
        );
      }
    }
  } finally {
    await redis.stop();
  }
  const app = runs.filter((r) => r.settings === 'app');
  const summary: Record<string, unknown> = {
    bench: 'recovery',
    deals: DEALS,
    target_ms: 15000,
    write_in_flight_ms: app.find((r) => r.slowMethod === 'crm.item.update')?.recoveryMs,
    read_in_flight_ms: app.find((r) => r.slowMethod === 'batch')?.recoveryMs,
    process_start_ms: Math.max(...app.map((r) => r.startupMs)),
    max_writes_per_deal: Math.max(...app.flatMap((r) => r.writesPerDeal)),
    lost: app.reduce((n, r) => n + r.writesPerDeal.filter((w) => w === 0).length + r.wrongTitles, 0),
  };
  const defaults = runs.filter((r) => r.settings === 'bullmq-defaults');
  if (defaults.length) summary.bullmq_defaults_ms = defaults.map((r) => r.recoveryMs);
  console.log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
