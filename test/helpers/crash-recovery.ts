import { childEnvOf } from './child-env';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { AppConfig } from '../../src/config';
import { freePort } from '../../src/infra/free-port';
import { startLocalStack } from './local-stack';

/**
 * kill -9 of the worker while its jobs wait on a slow portal, then a new worker: the scenario
 * of `test/ops/crash-recovery.test.ts` and `npm run bench:recovery`.
 *
 * The web edge runs in this process (with the emulated portal); workers are real child
 * processes started like the Procfile's `worker:` (`bin/worker.ts` through tsx).
 */
export interface CrashRecoveryResult {
  /** `crm.item.update`: the writes were applied and the worker died waiting for the answer; `batch`: it died reading. */
  slowMethod: SlowMethod;
  deals: number;
  /** Jobs that were active (locked by the killed worker) at the kill. */
  inFlightAtKill: number;
  /** The deals' jobs among them. */
  dealJobsInFlightAtKill: number;
  /** Deals whose write the portal had applied before the kill (the `crm.item.update` scenario: all). */
  writtenBeforeKill: number;
  /** Deals the portal had been asked to read before the kill (the `batch` scenario: all). */
  readBeforeKill: number;
  /** From starting the new worker process to the last of those jobs completed. */
  recoveryMs: number;
  /** `crm.item.update` calls per deal over the whole run (1 = written once). */
  writesPerDeal: number[];
  /** Deals whose title is not the expected one at the end. */
  wrongTitles: number;
  /** From starting the new worker process to its start line (loading the code). */
  startupMs: number;
  /** The new worker's start line (its configuration, secrets redacted). */
  workerStartLine: Record<string, unknown> | null;
  /** What the new worker process serves on METRICS_PORT at the end. */
  workerMetrics: string;
}

export type SlowMethod = 'crm.item.update' | 'batch';

export async function runCrashRecovery(options: { redisUrl: string; deals: number; slowMethod: SlowMethod; workerEnv?: NodeJS.ProcessEnv; recoveryTimeoutMs?: number }): Promise<CrashRecoveryResult> {
  const stack = await startLocalStack({ redisUrl: options.redisUrl, workers: false });
  const workers: WorkerProcess[] = [];
  try {
    const install = await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    if (install.status !== 200) throw new Error(`install answered ${install.status}`);
    const first = await WorkerProcess.start(stack.services.config, options.redisUrl, true, options.workerEnv);
    workers.push(first);

    const fromCall = stack.portal.calls.length; // after the install's own calls
    stack.portal.slowDown(options.slowMethod, 120_000);
    const dealIds: number[] = [];
    for (let i = 0; i < options.deals; i++) {
      const contactId = stack.portal.userAddContact({ name: 'Клиент', lastName: `Номер${i + 1}` });
      dealIds.push(stack.portal.userAddDeal({ title: `Сделка ${i + 1}`, contactId, ufCrmUnit: `кв. ${i + 1}` } as never));
    }
    // Every event is queued and every deal's job is mid-flight, holding its lock, waiting for the slow
    // answer: its write applied (`crm.item.update`), or its read received (`batch`). Jobs share HTTP
    // calls (coalesced batches), so the portal's side is checked per deal, not per call.
    const touched = (method: string, id: number) =>
      stack.portal.calls.slice(fromCall).some((c) => c.method === method && Number(c.params.id) === id && Number(c.params.entityTypeId) === 2);
    const written = () => dealIds.filter((id) => touched('crm.item.update', id)).length;
    const read = () => dealIds.filter((id) => touched('crm.item.get', id)).length;
    await stack.portal.settle();
    await until(
      async () => {
        const counts = await stack.services.events.queue.getJobCounts('waiting', 'prioritized');
        const dealJobs = (await stack.services.events.queue.getActive()).filter((job) => (job.data as { entity?: string }).entity === 'deal').length;
        const reached = options.slowMethod === 'crm.item.update' ? written() : read();
        return counts.waiting === 0 && counts.prioritized === 0 && dealJobs === options.deals && reached === options.deals;
      },
      60_000,
      'every deal job reached the slow portal call',
    );
    const active = await stack.services.events.queue.getActive();
    const inFlight = active.map((job) => job.id!);
    const dealJobsInFlight = active.filter((job) => (job.data as { entity?: string }).entity === 'deal').length;
    const [writtenBeforeKill, readBeforeKill] = [written(), read()];
    first.kill();
    await first.exited;
    stack.portal.slowDown(options.slowMethod, 0);

    const metricsPort = await freePort();
    const restartedAt = Date.now();
    const second = await WorkerProcess.start(stack.services.config, options.redisUrl, false, { METRICS_PORT: String(metricsPort), ...options.workerEnv });
    workers.push(second);
    await until(async () => (await Promise.all(inFlight.map((id) => stack.services.events.queue.getJobState(id)))).every((s) => s === 'completed'), options.recoveryTimeoutMs ?? 60_000, 'the jobs of the killed worker completed');
    const recoveryMs = Date.now() - restartedAt;
    const startLine = await second.startLine;
    const workerMetrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    await stack.idle(30_000);

    const writes = (id: number) => stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id).length;
    const expectedTitle = (id: number, i: number) => `${id} / Номер${i + 1} Клиент / кв. ${i + 1}`;
    return {
      slowMethod: options.slowMethod,
      deals: options.deals,
      inFlightAtKill: inFlight.length,
      dealJobsInFlightAtKill: dealJobsInFlight,
      writtenBeforeKill,
      readBeforeKill,
      recoveryMs,
      writesPerDeal: dealIds.map(writes),
      wrongTitles: dealIds.filter((id, i) => stack.portal.getDeal(id)?.title !== expectedTitle(id, i)).length,
      startupMs: typeof startLine?.time === 'number' ? startLine.time - restartedAt : NaN,
      workerStartLine: startLine,
      workerMetrics,
    };
  } finally {
    for (const worker of workers) worker.kill();
    await Promise.all(workers.map((w) => w.exited));
    await stack.stop();
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** `bin/worker.ts` as its own process, with the stack's configuration. */
class WorkerProcess {
  readonly exited: Promise<void>;
  readonly startLine: Promise<Record<string, unknown> | null>;
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.startLine = new Promise((resolve) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk;
        const line = this.output.split('\n').find((l) => l.includes('"worker starting"'));
        if (line) {
          child.stdout?.off('data', onData);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      };
      child.stdout?.on('data', onData);
      void this.exited.then(() => resolve(null));
    });
  }

  /** Starts the process; with `waitUntilReady`, resolves once its workers are running (its start line). */
  static async start(config: AppConfig, redisUrl: string, waitUntilReady = true, extraEnv: NodeJS.ProcessEnv = {}): Promise<WorkerProcess> {
    const root = path.join(__dirname, '..', '..');
    // Room for every job of the scenario at once (deals and their contacts).
    const env = childEnvOf(config, redisUrl, { WORKER_CONCURRENCY: '32', ...extraEnv });
    // Node itself with tsx's loader (not the tsx CLI, which would run the worker in a grandchild
    // that a kill -9 of the CLI leaves running).
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bin', 'worker.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const worker = new WorkerProcess(child);
    if (waitUntilReady && !(await worker.startLine)) throw new Error('the worker process exited before it started');
    return worker;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
