import { installationKey } from '../../src/infra/keys';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupBitrix24SalesFunnel } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

const MANAGER = 2;
const ADMIN = 1;
const HEAD_OF_SALES = '4';

describe('stage guard on Bitrix24 (seed 004 deal funnel, seed 000 rule)', () => {
  let stack: LocalStack;
  let installationId: string;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    setupBitrix24SalesFunnel(stack.portal);
    const installed = await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    expect(`${installed.status} ${installed.body.slice(0, 200)}`).toMatch(/^200 /);
    installationId = (await stack.services.store.list())[0]!.id;
    const configured = await configureRegulations(stack.services, installationId, [
      { preset: 'bitrix24-deals-004', overrides: { funnelId: '0', settings: { headOfSalesUserIds: [HEAD_OF_SALES] } } },
    ]);
    expect(configured).toMatchObject({ ok: true });
  });
  afterEach(() => stack.stop());

  const stageWrites = (id: number) =>
    stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id && (c.params.fields as Record<string, unknown>)?.stageId);
  const comments = (id: number) => stack.portal.comments('deal', id).map((c) => String((c as { comment?: string; COMMENT?: string }).comment ?? (c as { COMMENT?: string }).COMMENT));

  async function newDeal(fields: Record<string, unknown> = {}): Promise<number> {
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0, assignedById: MANAGER, ...fields } as never, MANAGER);
    await stack.idle();
    return id;
  }

  async function move(id: number, stageId: string, by = MANAGER) {
    stack.portal.userMoveDeal(id, stageId, by);
    await stack.idle();
  }

  it('a deal cannot go from the first call straight to the contract: it is put back, with the reason in the card', async () => {
    const id = await newDeal({ ufCrmUnit: 'кв. 5-101', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' });
    await move(id, 'EXECUTING');
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
    expect(stageWrites(id)).toHaveLength(1);
    const [comment] = comments(id);
    expect(comment).toContain('«Договор»');
    expect(comment).toContain('можно перейти на бронь');
    expect(stack.portal.notifications.some((n) => String((n as { userId?: number }).userId ?? (n as { USER_ID?: number }).USER_ID) === String(MANAGER))).toBe(true);
  });

  it('from the first call to booking is allowed (seed 000)', async () => {
    const id = await newDeal({ ufCrmUnit: 'кв. 5-101' });
    await move(id, 'UC_BOOKING');
    expect(stack.portal.getDeal(id)?.stageId).toBe('UC_BOOKING');
    expect(stageWrites(id)).toHaveLength(0);
  });

  it('«Бронь» needs the unit filled in', async () => {
    const id = await newDeal();
    await move(id, 'UC_BOOKING');
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
    expect(comments(id)[0]).toContain('«Объект»');
  });

  it('«Встреча назначена» needs the meeting date and time; once filled the move stands', async () => {
    const id = await newDeal();
    await move(id, 'PREPARATION');
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
    expect(comments(id)[0]).toContain('«Дата и время встречи»');
    stack.portal.userUpdateDeal(id, { ufCrmMeetingAt: '2026-11-25T15:00:00+03:00' } as never, MANAGER);
    await stack.idle();
    await move(id, 'PREPARATION');
    expect(stack.portal.getDeal(id)?.stageId).toBe('PREPARATION');
  });

  it('a contract needs the booking first: «Бронь» may not be skipped', async () => {
    const id = await newDeal({ ufCrmMeetingAt: '2026-11-25T15:00:00+03:00', ufCrmMeetingResult: 'понравилась 2-к', ufCrmUnit: 'кв. 5-101', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' });
    await move(id, 'PREPARATION');
    await move(id, 'UC_MEETING');
    await move(id, 'EXECUTING');
    expect(stack.portal.getDeal(id)?.stageId).toBe('UC_MEETING');
    expect(comments(id).some((c) => c.includes('«Бронь»'))).toBe(true);
  });

  it('entering «Встреча состоялась» records the date and the manager', async () => {
    const id = await newDeal({ ufCrmMeetingAt: '2026-11-25T15:00:00+03:00', ufCrmMeetingResult: 'понравилась 2-к' });
    await move(id, 'PREPARATION');
    await move(id, 'UC_MEETING');
    expect(stack.portal.getDeal(id)?.stageId).toBe('UC_MEETING');
    const fact = await stack.services.redis.get(installationKey(stack.services.prefix, installationId, 'state', 'meeting', 'deal', id));
    expect(JSON.parse(fact!)).toMatchObject({ dealId: String(id), managerId: String(MANAGER) });
    expect(comments(id).some((c) => c.startsWith('Встреча состоялась'))).toBe(true);
  });

  it('an administrator may move anything: the move stands', async () => {
    const id = await newDeal();
    await move(id, 'EXECUTING', ADMIN);
    expect(stack.portal.getDeal(id)?.stageId).toBe('EXECUTING');
    expect(stageWrites(id)).toHaveLength(0);
  });

  it('a manager breaking the regulation three times a day alerts the head of sales once', async () => {
    for (let i = 0; i < 4; i++) {
      const id = await newDeal();
      await move(id, 'EXECUTING');
      expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
    }
    const toHead = stack.portal.notifications.filter((n) => String((n as { userId?: number }).userId) === HEAD_OF_SALES);
    expect(toHead).toHaveLength(1);
    expect(String((toHead[0] as { message?: string }).message)).toMatch(/нарушений — 3/);
  });

  it('A→B→C faster than the guard reverts: one revert to A, no flapping', async () => {
    const id = await newDeal();
    stack.portal.userMoveDeal(id, 'PREPARATION', MANAGER); // missing meeting date: a violation
    stack.portal.userMoveDeal(id, 'UC_MEETING', MANAGER);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
    expect(stageWrites(id)).toHaveLength(1);
    await stack.idle();
    expect(stageWrites(id)).toHaveLength(1);
  });

  it('a regulation naming a stage the funnel does not have is refused with its place, and nothing is saved', async () => {
    stack.portal.setStages('DEAL_STAGE', [
      { statusId: 'NEW', name: 'Потребности выявлены', sort: 10 },
      { statusId: 'WON', name: 'Сделка успешна', sort: 80, semantics: 'S' },
      { statusId: 'LOSE', name: 'Сделка провалена', sort: 90, semantics: 'F' },
    ]);
    const result = await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.report).toMatch(/presets\/bitrix24-deals-004\.json|overrides/);
  });
});
