/**
 * Two worker processes (bin/worker.ts) share one Bitrix24 portal's limit through the Redis
 * bucket, while each process coalesces its own jobs' commands into its own batches.
 */
import { freePort } from '../../src/infra/free-port';
import { AppProcess } from '../helpers/app-processes';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

// A tight plan, so the import outruns the burst and only the shared bucket keeps the pace.
const PLAN = { burst: 10, drainPerSecond: 2 };
const DEALS = 60;

describe('two worker processes against one Bitrix24 portal', () => {
  let stack: LocalStack;
  const workers: Array<{ process: AppProcess; metricsPort: number }> = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      redisUrl: redisUrl(),
      workers: false,
      portalRateLimit: PLAN,
      env: { BITRIX24_COALESCE_BATCHES: 'on', BITRIX24_RATE_BURST: String(PLAN.burst), BITRIX24_RATE_PER_SECOND: String(PLAN.drainPerSecond) },
    });
    for (let i = 0; i < 2; i++) {
      const metricsPort = await freePort();
      workers.push({ metricsPort, process: await AppProcess.start('worker', stack.services.config, redisUrl(), { WORKER_CONCURRENCY: '16', METRICS_PORT: String(metricsPort) }) });
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.process.stop()));
    await stack.stop();
  });

  /** HTTP calls the process made to Bitrix24 (its own /metrics). */
  async function bitrix24CallsOf(metricsPort: number): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('reglament_crm_calls_total{') && line.includes('crm="bitrix24"'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  }

  it('an import of sixty deals never exceeds the portal\'s bucket (0 QUERY_LIMIT_EXCEEDED), and each process batches its own jobs', async () => {
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    await stack.idle();
    const restBefore = stack.portal.stats.restCalls;
    const started = Date.now();

    const deals = Array.from({ length: DEALS }, (_, i) => stack.portal.userAddDeal({ title: `Импорт ${i}`, contactId: stack.portal.userAddContact({ name: `Клиент${i}`, lastName: 'Лимитов' }) } as never));
    await stack.idle(120_000);
    const seconds = (Date.now() - started) / 1000;

    deals.forEach((id, i) => expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Лимитов Клиент${i}`));
    expect(stack.portal.stats.rateLimited).toBe(0);
    // The import needed more calls than the burst: the pace was the bucket's, shared by both processes.
    const httpCalls = stack.portal.stats.restCalls - restBefore;
    expect(httpCalls).toBeGreaterThan(PLAN.burst);
    expect(seconds).toBeGreaterThanOrEqual((httpCalls - PLAN.burst) / PLAN.drainPerSecond - 1);

    // Each process ran jobs and made fewer HTTP calls than it ran jobs (each job sends at least one command).
    const completed = await stack.services.events.queue.getCompleted(0, -1);
    for (const worker of workers) {
      const jobs = completed.filter((job) => Number(job.processedBy?.split(':').pop()) === worker.process.pid).length;
      const calls = await bitrix24CallsOf(worker.metricsPort);
      expect(jobs).toBeGreaterThan(0);
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThan(jobs);
    }
  }, 150_000);
});
