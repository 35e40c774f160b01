import { CatchUpState } from '../../src/pipeline/catch-up/catch-up-state';
import { sleep } from '../../src/infra/sleep';
import { reconcileInstallation } from '../../src/pipeline/catch-up/reconcile';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

/**
 * Bitrix24 never resends an event. Deals changed while the app is down must still reach the
 * robots: the catch-up reads `crm.item.list` by `updatedTime` since its watermark and enqueues
 * them through the normal path, at worker start and every RECONCILE_INTERVAL_S.
 */
describe('Bitrix24 catch-up after downtime', () => {
  let stack: LocalStack;
  afterEach(() => stack.stop());

  const updatesSince = (from: number, id: number) =>
    stack.portal.calls.slice(from).filter((c) => c.method === 'crm.item.update' && Number(c.params.entityTypeId) === 2 && Number(c.params.id) === id);
  const expected = (id: number) => `${id} / кв. ${id}`;

  async function installWithDeals(count: number): Promise<number[]> {
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    const ids = Array.from({ length: count }, (_, i) => stack.portal.userAddDeal({ title: `Сделка ${i}` } as never));
    for (const id of ids) stack.portal.userUpdateDeal(id, { ufCrmUnit: `кв. ${id}` } as never);
    await stack.idle();
    for (const id of ids) expect(stack.portal.getDeal(id)?.title).toBe(expected(id));
    return ids;
  }

  it('20 deals renamed wrongly while web and worker were down are each fixed once, soon after the restart', async () => {
    // A portal on a big plan: this test is about what gets processed, not about the 2/s limit.
    stack = await startLocalStack({
      redisUrl: redisUrl(),
      portalRateLimit: { burst: 250, drainPerSecond: 5 },
      env: { BITRIX24_RATE_BURST: '250', BITRIX24_RATE_PER_SECOND: '5' },
    });
    const ids = await installWithDeals(20);
    await stack.stopApp();

    for (const id of ids) stack.portal.userUpdateDeal(id, { title: `Неверно ${id}` } as never);
    await stack.portal.settle();
    // Delivered to nobody, and never resent.
    const lost = stack.portal.deliveries.filter((d) => d.event === 'ONCRMDEALUPDATE' && d.status === 0);
    expect(lost.length).toBeGreaterThanOrEqual(20);

    const callsBefore = stack.portal.calls.length;
    const restartedAt = Date.now();
    await stack.startApp(); // the default interval (300 s): only the catch-up at worker start can fix them
    await eventually(() => {
      for (const id of ids) expect(stack.portal.getDeal(id)?.title).toBe(expected(id));
    }, 60_000, 100);
    expect(Date.now() - restartedAt).toBeLessThan(60_000);
    await stack.idle();
    for (const id of ids) expect(updatesSince(callsBefore, id)).toHaveLength(1);
    // It listed with crm.item.list inside a batch, ordered and filtered by updatedTime.
    const listing = stack.portal.calls.slice(callsBefore).find((c) => c.method === 'crm.item.list');
    expect(listing?.params).toMatchObject({ order: { updatedTime: 'ASC', id: 'ASC' } });
    expect(JSON.stringify(listing?.params.filter)).toContain('updatedTime');

    // Later catch-ups enqueue the deals at most once more (their last versions were read within the
    // second they changed, so not recorded as handled), write nothing, and then find nothing at all.
    await sleep(2100);
    await reconcileInstallation(`b24:${stack.portal.memberId}`, stack.services);
    await stack.idle();
    expect(await reconcileInstallation(`b24:${stack.portal.memberId}`, stack.services)).toMatchObject({ outcome: 'done', enqueued: 0 });
    for (const id of ids) expect(updatesSince(callsBefore, id)).toHaveLength(1);
  });

  it('with the web process unreachable, the periodic catch-up brings deals and leads to the robots', async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), env: { RECONCILE_INTERVAL_S: '1' } });
    const ids = await installWithDeals(3);
    const installationId = `b24:${stack.portal.memberId}`;
    await stack.services.store.modify(installationId, (current) => ({ ...current, settings: { dealRenamer: { entities: ['deal', 'lead'] } } }));
    await stack.stopWeb();

    for (const id of ids) stack.portal.userUpdateDeal(id, { title: `Неверно ${id}` } as never);
    const leadId = stack.portal.userAddLead({ title: 'Лид с сайта' });
    const callsBefore = stack.portal.calls.length;
    await eventually(() => {
      for (const id of ids) expect(stack.portal.getDeal(id)?.title).toBe(expected(id));
      expect(stack.portal.getLead(leadId)?.title).toBe(String(leadId));
    }, 30_000, 100);
    for (const id of ids) expect(updatesSince(callsBefore, id)).toHaveLength(1);
    expect(stack.portal.deliveries.some((d) => d.event === 'ONCRMLEADADD' && d.status === 0)).toBe(true);

    const status = await new CatchUpState(stack.services.redis, stack.services.prefix).status(installationId);
    expect(status.watermarks.deal).toBeGreaterThan(0);
    expect(status.watermarks.lead).toBeGreaterThan(0);
    expect(status.reconciledAt).not.toBeNull();
    await stack.startWeb();
  });
});
