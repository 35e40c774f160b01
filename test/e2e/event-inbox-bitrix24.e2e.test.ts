import { inboxKeys } from '../../src/pipeline/event-inbox';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

describe('Bitrix24 end to end through the event inbox: edge → inbox → pump → queue → robot', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
  });
  afterEach(() => stack.stop());

  it('a deal event the edge accepted reaches the renamer by way of the inbox, and the inbox is left empty', async () => {
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    const contactId = stack.portal.userAddContact({ name: 'Пётр', lastName: 'Петров' });
    const dealId = stack.portal.userAddDeal({ title: 'Сделка с сайта', contactId } as never);
    await stack.idle();

    expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / Петров Пётр`);
    // Every job the edge's deliveries made carries the id the inbox gave it on arrival (`e<process>.<n>`).
    const completed = await stack.services.events.queue.getCompleted(0, -1);
    const dealJobs = completed.filter((job) => job.data.entity === 'deal' && job.data.entityId === String(dealId));
    expect(dealJobs.length).toBeGreaterThanOrEqual(1);
    for (const job of dealJobs) expect(job.id).toMatch(/^e[0-9a-f]{12}\.[0-9a-z]+$/);
    const keys = inboxKeys(stack.services.prefix);
    expect(await stack.services.redis.llen(keys.inbox)).toBe(0);
    expect(await stack.services.redis.llen(keys.pumping)).toBe(0);
  });
});
