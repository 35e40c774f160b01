import { reconcileInstallation } from '../../src/pipeline/catch-up/reconcile';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

/**
 * "No wasted calls": the echo of the app's own write is known from the event and the own-write
 * ledger and costs no read; a person's change right after the app's write is still judged.
 */
describe('Bitrix24: the echo of the app\'s own write', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    await stack.idle();
  });
  afterEach(() => stack.stop());

  const installationId = () => `b24:${stack.portal.memberId}`;
  const reads = (id: number, from = 0) => stack.portal.calls.slice(from).filter((c) => c.method === 'crm.item.get' && Number(c.params.entityTypeId) === 2 && Number(c.params.id) === id).length;
  const updates = (id: number) => stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id).length;
  const updateEvents = (id: number) =>
    stack.portal.deliveries.filter((d) => d.event === 'ONCRMDEALUPDATE' && (d.payload.data as { FIELDS: { ID: string } }).FIELDS.ID === String(id) && d.status === 200).length;

  async function renamedDeal() {
    const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов' });
    const id = stack.portal.userAddDeal({ title: 'Сделка с сайта', contactId } as never);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Иванов Иван`);
    return id;
  }

  it('a new deal is read once and renamed once; the echo of the rename is delivered and costs no read at all', async () => {
    const id = await renamedDeal();
    expect(updateEvents(id)).toBe(1);
    expect(reads(id)).toBe(1);
    expect(updates(id)).toBe(1);
    // Nor any stage history: a new deal has no stage change to find.
    expect(stack.portal.calls.filter((c) => c.method === 'crm.stagehistory.list')).toHaveLength(0);
  });

  it("a person's change right after the app's write is read and judged: the wrong title is put right again", async () => {
    const id = await renamedDeal();
    const from = stack.portal.calls.length;
    stack.portal.userUpdateDeal(id, { title: 'Переименовал менеджер' });
    await stack.idle();
    expect(reads(id, from)).toBe(1);
    expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Иванов Иван`);
    expect(updates(id)).toBe(2);
  });

  it("an update whose stage is the last seen one reads no stage history; a stage move reads it once", async () => {
    const id = await renamedDeal();
    stack.portal.userUpdateDeal(id, { title: 'Переименовал менеджер' });
    await stack.idle();
    const history = () => stack.portal.calls.filter((c) => c.method === 'crm.stagehistory.list').length;
    expect(history()).toBe(0);
    stack.portal.userMoveDeal(id, 'PREPARATION');
    await stack.idle();
    expect(history()).toBe(1);
  });

  it('a person\'s edit taken for an echo (the real echo never came) is found by the next catch-up scan and judged', async () => {
    const id = await renamedDeal();
    // The app wrote the deal again and that write's echo was lost (Bitrix24 does not retry a
    // delivery) or absorbed by a queued job: the ledger still expects it.
    await stack.services.ownWrites.expectEcho(installationId(), { entity: 'deal', id: String(id) });
    const from = stack.portal.calls.length;
    stack.portal.userUpdateDeal(id, { title: 'Переименовал менеджер' });
    await stack.idle();
    // Inside the window, the person's event was taken for that echo: dropped unread.
    expect(reads(id, from)).toBe(0);
    expect(stack.portal.getDeal(id)?.title).toBe('Переименовал менеджер');
    // DATE_MODIFY moved past every version the app handled: the catch-up scan enqueues the deal.
    const scan = await reconcileInstallation(installationId(), stack.services);
    expect(scan.enqueued).toBeGreaterThanOrEqual(1);
    await stack.idle();
    expect(reads(id, from)).toBe(1);
    expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Иванов Иван`);
  });
});

describe('amoCRM: the echo of the app\'s own write', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    await stack.idle();
  });
  afterEach(() => stack.stop());

  const reads = (id: number, from = 0) => stack.amo.calls.slice(from).filter((c) => c.method === 'GET' && c.path === `/api/v4/leads/${id}`).length;
  const patches = (id: number) => stack.amo.calls.filter((c) => c.method === 'PATCH' && c.path === `/api/v4/leads/${id}`).length;

  async function renamedLead() {
    const contactId = stack.amo.userAddContact({ name: 'Петров Пётр' });
    const id = stack.amo.userAddLead({ name: 'Заявка с сайта', contactId });
    await stack.idle();
    expect(stack.amo.getLead(id)?.name).toBe(`${id} / Петров Пётр`);
    return id;
  }

  it('the echo of the rename shows the name the app wrote and the stage it last saw: dropped without a read', async () => {
    const id = await renamedLead();
    expect(stack.amo.deliveries.filter((d) => d.body.includes(`leads%5Bupdate%5D%5B0%5D%5Bid%5D=${id}`)).length).toBeGreaterThanOrEqual(1);
    expect(reads(id)).toBe(1);
    expect(patches(id)).toBe(1);
  });

  it("a person's rename right after the app's write shows another name: read, judged, put right", async () => {
    const id = await renamedLead();
    const from = stack.amo.calls.length;
    stack.amo.userUpdateLead(id, { name: 'Переименовал менеджер' });
    await stack.idle();
    expect(reads(id, from)).toBeGreaterThanOrEqual(1);
    expect(stack.amo.getLead(id)?.name).toBe(`${id} / Петров Пётр`);
    expect(patches(id)).toBe(2);
  });
});
