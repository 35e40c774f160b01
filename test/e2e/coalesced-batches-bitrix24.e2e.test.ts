import { redisUrl } from '../helpers/test-services';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';

describe('Bitrix24 end to end: an import of many deals at once travels in shared batches', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    // The documented plan (50 burst, 2/s); enough concurrent jobs for their commands to meet.
    // Coalescing is the default (BITRIX24_COALESCE_BATCHES=on).
    stack = await startLocalStack({ redisUrl: redisUrl(), portalRateLimit: { burst: 50, drainPerSecond: 2 }, workerConcurrency: 20 });
  });
  afterEach(() => stack.stop());

  it('sixty new deals are each renamed with their own client, in far fewer HTTP calls than commands, the shared bucket keeping the pace', async () => {
    const contacts = Array.from({ length: 60 }, (_, i) => stack.portal.userAddContact({ name: `Клиент${i}`, lastName: 'Импортов' }));
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    await stack.idle();
    const fromCall = stack.portal.calls.length;
    const fromRest = stack.portal.stats.restCalls;

    const deals = contacts.map((contactId, i) => stack.portal.userAddDeal({ title: `Импорт ${i}`, contactId } as never));
    await stack.idle(60_000);

    // Every job got its own deal and its own contact back, though they shared batches.
    deals.forEach((id, i) => expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Импортов Клиент${i}`));
    const calls = stack.portal.calls.slice(fromCall);
    const commands = calls.filter((c) => c.viaBatch || c.method !== 'batch').length;
    const httpCalls = stack.portal.stats.restCalls - fromRest;
    expect(calls.filter((c) => c.method === 'crm.item.update')).toHaveLength(60);
    expect(commands / httpCalls).toBeGreaterThanOrEqual(5);
    // The shared bucket keeps the pace (with headroom for uneven arrival): the portal refuses nothing.
    expect(stack.portal.stats.rateLimited).toBe(0);
    // A new deal's read carries no stage history (nothing can use it): none is read before the deal is renamed.
    for (const id of deals) {
      const renamedAt = calls.findIndex((c) => c.method === 'crm.item.update' && Number(c.params.id) === id);
      const historyAt = calls.findIndex((c) => c.method === 'crm.stagehistory.list' && Number((c.params.filter as { OWNER_ID?: unknown } | undefined)?.OWNER_ID) === id);
      expect(historyAt === -1 || historyAt > renamedAt).toBe(true);
    }
  }, 90_000);

  it('QUERY_LIMIT_EXCEEDED in the middle of the burst: the refused batch is sent again, every job gets its own answer, no deal is written twice', async () => {
    const contacts = Array.from({ length: 30 }, (_, i) => stack.portal.userAddContact({ name: `Клиент${i}`, lastName: 'Лимитов' }));
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    await stack.idle();
    const fromCall = stack.portal.calls.length;
    const fromLimited = stack.portal.stats.rateLimited;

    // Requests the app's bucket never saw fill the portal's: the burst's second batch is refused.
    stack.portal.exhaustRateLimitAt(2);
    const deals = contacts.map((contactId, i) => stack.portal.userAddDeal({ title: `Импорт ${i}`, contactId } as never));
    await stack.idle(60_000);

    // At least the planted refusal; a batch already in flight beside it may meet the full bucket too.
    const refused = stack.portal.stats.rateLimited - fromLimited;
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(3);
    deals.forEach((id, i) => expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Лимитов Клиент${i}`));
    const calls = stack.portal.calls.slice(fromCall);
    for (const id of deals) expect(calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id)).toHaveLength(1);
    expect(await stack.services.events.queue.getJobCounts('failed')).toEqual({ failed: 0 });
  }, 90_000);
});
