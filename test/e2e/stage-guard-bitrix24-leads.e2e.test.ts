import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupBitrix24LeadFunnel } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

const MANAGER = 2;

describe('stage guard on Bitrix24 leads (seed 004 lead funnel)', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    setupBitrix24LeadFunnel(stack.portal);
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    const installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-leads-004' }])).toMatchObject({ ok: true });
  });
  afterEach(() => stack.stop());

  async function newLead(): Promise<number> {
    const id = stack.portal.userAddLead({ title: 'Звонок с сайта', stageId: 'NEW', assignedById: MANAGER, name: 'Анна' } as never, MANAGER);
    await stack.idle();
    return id;
  }
  const comments = (id: number) => stack.portal.comments('lead', id).map((c) => String((c as { comment?: string }).comment));

  it('«Забраковать» needs a reason: the lead is put back and the manager told which field to fill', async () => {
    const id = await newLead();
    stack.portal.userUpdateLead(id, { stageId: 'JUNK' } as never, MANAGER);
    await stack.idle();
    expect(stack.portal.getLead(id)?.stageId).toBe('NEW');
    expect(comments(id)[0]).toContain('«Причина брака»');
  });

  it('«Новые контакты у активного клиента» is its own reason: the move stands', async () => {
    const id = await newLead();
    stack.portal.userUpdateLead(id, { stageId: 'UC_ACTIVE' } as never, MANAGER);
    await stack.idle();
    expect(stack.portal.getLead(id)?.stageId).toBe('UC_ACTIVE');
    expect(comments(id)).toEqual([]);
  });

  it('the working path stands: «Принять в работу» → «Попытки связаться» → «Качественный лид»', async () => {
    const id = await newLead();
    for (const to of ['PROCESSED', 'CONVERTED']) {
      stack.portal.userUpdateLead(id, { stageId: to } as never, MANAGER);
      await stack.idle();
    }
    expect(stack.portal.getLead(id)?.stageId).toBe('CONVERTED');
    expect(comments(id)).toEqual([]);
  });
});
