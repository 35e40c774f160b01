import { UnrecoverableError, Worker } from 'bullmq';
import request from 'supertest';
import { escapeGlob, installationKey, installationKeysPattern } from '../../src/infra/keys';
import { connectRedis } from '../../src/infra/redis';
import { InvalidInstallationIdError, type Installation } from '../../src/installations/installation';
import { RedisInstallationState } from '../../src/installations/installation-state';
import { scanKeys } from '../../src/installations/redis-installation-store';
import { processInboundEvent } from '../../src/pipeline/process-event';
import { RedisSettingsHistory } from '../../src/settings/settings-history';
import { bullPrefix, EVENTS_QUEUE } from '../../src/pipeline/queues';
import { createWebApp } from '../../webhooks/server';
import { documentedAmocrmInstallation, documentedBitrix24Installation, documentedPortal, fixture, someTokens } from '../helpers/fixtures';
import { createTestServices, eventually, redisUrl } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;
const FORM = 'application/x-www-form-urlencoded';

/**
 * An outside probe installed `member_id=*` and uninstalled it: every other portal's data went
 * with it. These tests keep a real portal next to crafted and look-alike installations and show
 * that removing one never touches another's keys or jobs.
 */
describe('tenant isolation', () => {
  let services: TestServices;
  const real = documentedBitrix24Installation();
  const amo = (accountId: string): Installation => ({ ...documentedAmocrmInstallation(), id: `amo:${accountId}`, accountId });

  beforeEach(async () => {
    services = await createTestServices();
    await services.store.save(real, someTokens());
  });
  afterEach(() => services.cleanup());

  /** Gives an installation one of every kind of key the app keeps, and a failed job and a pending timer. */
  async function populate(id: string): Promise<void> {
    const deal = { entity: 'deal' as const, id: '5' };
    await services.tracker.set(id, deal, 'NEW');
    await services.ownWrites.record(id, deal, 'title', '5 / Иванов Иван');
    const state = new RedisInstallationState(services.redis, services.prefix, id);
    await state.set('meeting:deal:5', '1');
    await state.increment('violations:deal:5', 3600);
    await services.limiter.acquire(installationKey(services.prefix, id, 'rate'), { burst: 50, perSecond: 2 });
    await services.redis.set(installationKey(services.prefix, id, 'refresh-lock'), 'owner', 'PX', 60_000);
    await services.redis.set(installationKey(services.prefix, id, 'amocrm-blocked'), '1', 'EX', 600);
    await services.actions.record({ installationId: id, robot: 'dealRenamer', target: deal, summary: 'renamed', before: 'Сделка', after: '5 / Иванов Иван', at: new Date().toISOString() });
    await new RedisSettingsHistory(services.redis, services.prefix).record(id, { at: new Date().toISOString(), by: { kind: 'operator' }, via: 'cli', changes: [{ path: 'locale', after: 'en' }] });
    await services.timers.schedule({ installationId: id, robot: 'probe', key: 'deal-5', data: { contact: 'Иванов Иван' } }, 60 * 60_000);
    await services.events.enqueue({ installationId: id, crm: id.startsWith('b24') ? 'bitrix24' : 'amocrm', kind: 'updated', entity: 'deal', entityId: '5', receivedAt: Date.now() });
  }

  /** Every key of an installation with its serialized value (DUMP), plus its jobs by state. */
  async function snapshot(id: string) {
    const keys = (await scanKeys(services.redis, installationKeysPattern(services.prefix, id))).sort();
    const values = await Promise.all(keys.map(async (k) => [k, (await services.redis.dumpBuffer(k))?.toString('base64')] as const));
    const jobs = await Promise.all(
      [services.events.queue, services.timers.queue].map(async (q) =>
        (await q.getJobs(['waiting', 'prioritized', 'delayed', 'failed', 'completed'])).filter((j) => j.data.installationId === id).map((j) => j.id),
      ),
    );
    return { values: Object.fromEntries(values), jobs: jobs.flat().sort() };
  }

  /** Runs every waiting event job through the worker's path with the CRM failing for good, so failed jobs exist too. */
  async function failWaitingEventJobs(): Promise<void> {
    services.clients.forInstallation = async () => Promise.reject(new UnrecoverableError('CRM refuses (test)'));
    // A worker blocks on a connection of its own (BullMQ requires one without a command timeout).
    const connection = connectRedis(redisUrl());
    const worker = new Worker(EVENTS_QUEUE, async (job) => processInboundEvent(job.data, services, job.id), {
      connection,
      prefix: bullPrefix(services.prefix),
    });
    await eventually(async () => expect(await services.events.queue.getJobCounts('waiting', 'prioritized', 'active', 'failed')).toEqual({ waiting: 0, prioritized: 0, active: 0, failed: 3 }));
    await worker.close();
    await connection.quit();
  }

  it('refuses member_id=* at the edge with 400 and stores nothing', async () => {
    await populate(real.id);
    const before = await snapshot(real.id);
    const app = createWebApp(services);
    const installPage = await request(app)
      .post('/bitrix24/install?DOMAIN=evil.example.com&PROTOCOL=1&LANG=ru')
      .type(FORM)
      .send('AUTH_ID=a&AUTH_EXPIRES=3600&REFRESH_ID=r&member_id=*&APPLICATION_TOKEN=t&SERVER_ENDPOINT=https%3A%2F%2Foauth.bitrix.info%2Frest%2F');
    expect(installPage.status).toBe(400);
    expect(installPage.body.reason).toMatch(/member_id.*32 hex/);
    const onAppInstall = fixture('bitrix24/ONAPPUNINSTALL.form')
      .replace('event=ONAPPUNINSTALL', 'event=ONAPPINSTALL')
      .replace(documentedPortal.memberId, '%2A');
    expect((await request(app).post('/bitrix24/install').type(FORM).send(`${onAppInstall}&auth%5Baccess_token%5D=a&auth%5Brefresh_token%5D=r`)).status).toBe(400);
    const uninstall = fixture('bitrix24/ONAPPUNINSTALL.form').replace(documentedPortal.memberId, '%2A');
    expect((await request(app).post('/bitrix24/events').type(FORM).send(uninstall)).status).toBe(400);
    const amoHook = fixture('amocrm/status_lead.form').replace(/account%5Bid%5D=\d+/, 'account%5Bid%5D=%2A');
    expect((await request(app).post('/amocrm/webhook/some-secret').type(FORM).send(amoHook)).status).toBe(400);

    expect((await services.store.list()).map((i) => i.id)).toEqual([real.id]);
    expect(await snapshot(real.id)).toEqual(before);
  });

  it.each(['b24:*', 'b24:?', 'b24:[a-f]*', `b24:${documentedPortal.memberId}:*`, 'amo:1*', 'amo:*'])(
    'the store and the worker refuse the crafted id %j, and the real portal keeps all its keys',
    async (crafted) => {
      await populate(real.id);
      const before = await snapshot(real.id);
      await expect(services.store.save({ ...real, id: crafted }, someTokens())).rejects.toThrow();
      await expect(services.store.delete(crafted)).rejects.toThrow(InvalidInstallationIdError);
      await expect(services.timers.cancelAllOf(crafted)).rejects.toThrow(InvalidInstallationIdError);
      const removal = { installationId: crafted, crm: 'bitrix24' as const, kind: 'removed' as const, entity: 'installation' as const, entityId: '*', receivedAt: Date.now() };
      await expect(services.events.enqueue(removal)).rejects.toThrow(InvalidInstallationIdError);
      expect(await snapshot(real.id)).toEqual(before);
      expect(await services.store.find(real.id)).toMatchObject({ id: real.id, status: 'active' });
    },
  );

  it("uninstalling an installation removes all of its keys and jobs, and nothing of its neighbours'", async () => {
    // amo:12 is a prefix of amo:123; both sit next to the real Bitrix24 portal.
    await services.store.save(amo('12'), someTokens());
    await services.store.save(amo('123'), someTokens());
    for (const id of [real.id, 'amo:12', 'amo:123']) await populate(id);
    await failWaitingEventJobs();
    const realBefore = await snapshot(real.id);
    const neighbourBefore = await snapshot('amo:123');
    const leaving = await snapshot('amo:12');
    expect(Object.keys(leaving.values).map((k) => k.split(':').slice(4, 5)[0]).sort()).toEqual(
      ['actions', 'amocrm-blocked', 'installation', 'jobs', 'jobs', 'own', 'rate', 'refresh-lock', 'settings-history', 'stage', 'state', 'state'].sort(),
    );
    expect(leaving.jobs).toHaveLength(2); // the failed event job and the pending timer

    const outcome = await processInboundEvent({ installationId: 'amo:12', crm: 'amocrm', kind: 'removed', entity: 'installation', entityId: '12', receivedAt: Date.now() }, services);

    expect(outcome).toBe('removed');
    expect(await snapshot('amo:12')).toEqual({ values: {}, jobs: [] });
    const everyKey = await scanKeys(services.redis, `${escapeGlob(services.prefix)}:*`);
    expect(everyKey.filter((k) => k.includes('{amo:12}'))).toEqual([]);
    expect(await snapshot(real.id)).toEqual(realBefore);
    expect(await snapshot('amo:123')).toEqual(neighbourBefore);
    expect((await services.store.list()).map((i) => i.id).sort()).toEqual(['amo:123', real.id].sort());
    expect(await services.actions.latest('amo:123', 10)).toHaveLength(1);
  });
});
