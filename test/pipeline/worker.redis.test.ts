import nock from 'nock';
import { z } from 'zod';
import { defineRobot, ReglamentApp } from '../../src/app';
import { InstallationRevokedError, TransientError } from '../../src/errors';
import { documentedAmocrmInstallation, someTokens } from '../helpers/fixtures';
import { createTestServices, eventually, runWorkers, type RunningWorkers } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

describe('the worker: retries, failures kept for inspection, revoked installations, timers', () => {
  let services: TestServices;
  let workers: RunningWorkers | undefined;
  const installation = documentedAmocrmInstallation();
  const seen: string[] = [];
  let failuresLeft = 0;
  let failWith: () => Error = () => new TransientError('amoCRM answered 503', 'HTTP_503');

  const probe = defineRobot({
    name: 'probe',
    settings: z.object({ enabled: z.boolean().default(true) }),
    register(app) {
      app.on('deal.updated', async (ctx) => {
        seen.push(`updated:${ctx.payload.deal.id}`);
        if (failuresLeft-- > 0) throw failWith();
      });
      app.onTimer(async (ctx) => {
        seen.push(`timer:${ctx.key}:${String(ctx.data.n)}`);
      });
    },
  });

  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  });
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    seen.length = 0;
    failuresLeft = 0;
    failWith = () => new TransientError('amoCRM answered 503', 'HTTP_503');
    services = await createTestServices();
    services.app = new ReglamentApp([probe]);
    await services.store.save(installation, someTokens());
    await services.tracker.set(installation.id, { entity: 'deal', id: '5' }, '100');
    nock(installation.baseUrl)
      .persist()
      .get('/api/v4/leads/5')
      .query(true)
      .reply(200, { id: 5, name: 'Сделка', status_id: 100, pipeline_id: 1, responsible_user_id: 2, custom_fields_values: null, _embedded: { contacts: [] } });
  });
  afterEach(async () => {
    await workers?.close();
    workers = undefined;
    nock.cleanAll();
    await services.cleanup();
  });

  /** Waits for the one job that ended in the failed list. */
  async function theFailedJob() {
    const [failed] = await eventually(async () => {
      const jobs = await services.events.queue.getFailed();
      expect(jobs).toHaveLength(1);
      return jobs;
    });
    return failed;
  }

  const dealUpdated = { installationId: installation.id, crm: 'amocrm' as const, kind: 'updated' as const, entity: 'deal' as const, entityId: '5', receivedAt: Date.now() };

  it('retries a transient failure with backoff and then succeeds', async () => {
    failuresLeft = 2;
    workers = runWorkers(services, 2);
    await services.events.enqueue(dealUpdated);
    await eventually(async () => expect(await services.events.queue.getJobCounts('completed')).toMatchObject({ completed: 1 }));
    expect(seen).toEqual(['updated:5', 'updated:5', 'updated:5']);
  });

  it('keeps a job that ran out of attempts in the failed list, with its error', async () => {
    failuresLeft = 99;
    workers = runWorkers(services, 2);
    await services.events.enqueue(dealUpdated);
    const failed = await theFailedJob();
    expect(failed!.attemptsMade).toBe(3);
    expect(failed!.failedReason).toMatch(/503/);
  });

  it('stops at once for a revoked installation: no retries, the installation is marked', async () => {
    failuresLeft = 99;
    failWith = () => new InstallationRevokedError(installation.id, 'refresh token rejected');
    workers = runWorkers(services, 2);
    await services.events.enqueue(dealUpdated);
    const failed = await theFailedJob();
    expect(failed!.attemptsMade).toBe(1);
    await eventually(async () => expect(await services.store.find(installation.id)).toMatchObject({ status: 'revoked' }));
  });

  it('fires a delayed timer once; a cancelled timer never fires; scheduling again replaces it', async () => {
    workers = runWorkers(services, 2);
    const timer = (key: string, n: number) => ({ installationId: installation.id, robot: 'probe', key, data: { n } });
    await services.timers.schedule(timer('lead-1', 1), 300);
    await services.timers.schedule(timer('lead-2', 1), 300);
    await services.timers.schedule(timer('lead-1', 2), 400);
    expect(await services.timers.cancel(installation.id, 'probe', 'lead-2')).toBe(true);
    await eventually(() => expect(seen).toEqual(['timer:lead-1:2']));
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toEqual(['timer:lead-1:2']);
  });

  it("runs a deal's events one at a time: notifications during a run make one follow-up run", async () => {
    const runs: Array<{ start: number; end: number }> = [];
    const slow = defineRobot({
      name: 'slow',
      settings: z.object({ enabled: z.boolean().default(true) }),
      register(app) {
        app.on('deal.updated', async () => {
          const start = Date.now();
          await new Promise((r) => setTimeout(r, 200));
          runs.push({ start, end: Date.now() });
        });
      },
    });
    services.app = new ReglamentApp([slow]);
    workers = runWorkers(services, 4);
    await services.events.enqueue(dealUpdated);
    await eventually(async () => expect(await services.events.queue.getJobCounts('active')).toMatchObject({ active: 1 }));
    for (let i = 0; i < 5; i++) await services.events.enqueue({ ...dealUpdated, receivedAt: Date.now() + i });
    await eventually(() => expect(runs).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 400));
    expect(runs).toHaveLength(2);
    expect(runs[1]!.start).toBeGreaterThanOrEqual(runs[0]!.end);
  });

  it("removing an installation's timers leaves those of an installation whose id starts the same", async () => {
    const [ABC, ABCD] = ['amo:12', 'amo:123'];
    const timer = (installationId: string) => ({ installationId, robot: 'probe', key: 'lead-1', data: {} });
    await services.timers.schedule(timer(ABC), 60_000);
    await services.timers.schedule(timer(ABCD), 60_000);
    await services.timers.cancelAllOf(ABC);
    const left = (await services.timers.queue.getDelayed()).map((j) => j.data.installationId);
    expect(left).toEqual([ABCD]);
  });

  it('closes gracefully: a running job finishes before the worker stops', async () => {
    const slow = defineRobot({
      name: 'slow',
      settings: z.object({ enabled: z.boolean().default(true) }),
      register(app) {
        app.on('deal.updated', async () => {
          await new Promise((r) => setTimeout(r, 400));
          seen.push('slow-done');
        });
      },
    });
    services.app = new ReglamentApp([slow]);
    workers = runWorkers(services, 1);
    await services.events.enqueue(dealUpdated);
    await eventually(async () => expect(await services.events.queue.getJobCounts('active')).toMatchObject({ active: 1 }));
    await workers.close();
    workers = undefined;
    expect(seen).toEqual(['slow-done']);
    expect(await services.events.queue.getJobCounts('completed')).toMatchObject({ completed: 1 });
  });
});
