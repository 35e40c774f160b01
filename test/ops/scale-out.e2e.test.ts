/**
 * Scale-out: two web processes behind a load balancer and two worker processes (real child
 * processes, `bin/web.ts` and `bin/worker.ts`) share one Redis, with the emulated CRMs.
 */
import type { RecordedCall } from '../emulators/amocrm/api';
import { freePort } from '../../src/infra/free-port';
import { AppProcess, roundRobin } from '../helpers/app-processes';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

describe('two web and two worker processes on one Redis', () => {
  let stack: LocalStack;
  const processes: AppProcess[] = [];
  let balancer: ReturnType<typeof roundRobin>;

  beforeAll(async () => {
    const webPorts = [await freePort(), await freePort()];
    balancer = roundRobin(webPorts.map((port) => `http://127.0.0.1:${port}`));
    // The stack's address (PUBLIC_URL, where the CRMs deliver) is the load balancer.
    stack = await startLocalStack({ redisUrl: redisUrl(), workers: false, edge: balancer, env: { BITRIX24_COALESCE_BATCHES: 'on' } });
    const config = stack.services.config;
    const started = await Promise.all([
      ...webPorts.map((port) => AppProcess.start('web', config, redisUrl(), { PORT: String(port) })),
      AppProcess.start('worker', config, redisUrl(), { WORKER_CONCURRENCY: '4' }),
      AppProcess.start('worker', config, redisUrl(), { WORKER_CONCURRENCY: '4' }),
    ]);
    processes.push(...started);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await stack.stop();
  });

  const workerNames = () => processes.filter((p) => p.role === 'worker').map((p) => p.pid);
  const amoLeadWrites = (id: number) =>
    stack.amo.calls.filter(
      (c: RecordedCall) =>
        c.method === 'PATCH' && (c.path === `/api/v4/leads/${id}` || (c.path === '/api/v4/leads' && Array.isArray(c.body) && c.body.some((row) => (row as { id?: unknown }).id === id))),
    );

  it('installs through either web, every event reaches one of the webs, each is processed once, and no robot writes twice', async () => {
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    await stack.idle(30_000);
    const servedBefore = new Map(balancer.served);

    const deals = Array.from({ length: 30 }, (_, i) => stack.portal.userAddDeal({ title: `Импорт ${i}`, contactId: stack.portal.userAddContact({ name: `Клиент${i}`, lastName: 'Масштабов' }) } as never));
    const leads = Array.from({ length: 10 }, (_, i) => stack.amo.userAddLead({ name: `Заявка ${i}`, contactId: stack.amo.userAddContact({ name: `Покупатель${i} Сайтов` }) }));
    await stack.idle(90_000);

    // Both webs took the CRMs' deliveries (the balancer alternates; each answered its share).
    for (const [backend, count] of balancer.served) expect(count - (servedBefore.get(backend) ?? 0)).toBeGreaterThanOrEqual(10);
    // Every deal and lead renamed, each written exactly once whichever worker took its events and echoes.
    deals.forEach((id, i) => expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Масштабов Клиент${i}`));
    for (const id of deals) expect(stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id)).toHaveLength(1);
    leads.forEach((id, i) => expect(stack.amo.getLead(id)?.name).toBe(`${id} / Покупатель${i} Сайтов`));
    for (const id of leads) expect(amoLeadWrites(id)).toHaveLength(1);

    // Each deal's rename was done (and reported) once: no job ran twice in the two workers.
    const b24 = `b24:${stack.portal.memberId}`;
    const renames = (await stack.services.actions.latest(b24, 1000)).filter((a) => a.robot === 'dealRenamer');
    expect(renames.map((a) => Number(a.target.id)).sort((a, b) => a - b)).toEqual([...deals].sort((a, b) => a - b));

    // Both worker processes ran jobs, nothing failed.
    const completed = await stack.services.events.queue.getCompleted(0, -1);
    const ranBy = new Set(completed.map((job) => Number(job.processedBy?.split(':').pop())));
    expect([...ranBy].sort()).toEqual(workerNames().sort());
    expect(await stack.services.events.queue.getFailedCount()).toBe(0);
  }, 150_000);
});
