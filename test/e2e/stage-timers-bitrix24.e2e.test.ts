import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupBitrix24LeadFunnel, setupBitrix24SalesFunnel } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';
import { eventually, fireTimerAt, pendingTimer } from '../helpers/timers';

const MANAGER = 2;
const HEAD = 4;
const DAY = 86_400_000;
/** Monday 30 November 2026, 11:00 in Moscow. */
const MONDAY_11 = new Date('2026-11-30T08:00:00Z');

describe('stage timers on Bitrix24 (seed 004 funnels, limits given by the installation)', () => {
  let stack: LocalStack;
  let installationId: string;

  async function setUp(specs: unknown[], settings: Record<string, unknown> = {}) {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    setupBitrix24LeadFunnel(stack.portal);
    setupBitrix24SalesFunnel(stack.portal);
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, specs)).toMatchObject({ ok: true });
    await stack.services.store.updateSettings(installationId, (current) => ({ ...current.settings, headsOfSales: [String(HEAD)], ...settings }));
  }
  afterEach(() => stack.stop());

  const notificationsOf = (userId: number) => stack.portal.notifications.filter((n) => n.userId === userId).map((n) => n.message);
  const todos = (entity: 'deal' | 'lead', id: number) => stack.portal.todosOf(entity, id);
  const comments = (entity: 'deal' | 'lead', id: number) => stack.portal.comments(entity, id).map((c) => c.comment);
  const timer = (kind: string, entity: 'deal' | 'lead', id: number) => pendingTimer(stack, installationId, 'stageTimers', `${kind}|${entity}|${id}`);
  const fire = (kind: string, entity: 'deal' | 'lead', id: number, at: Date) => fireTimerAt(stack, installationId, 'stageTimers', `${kind}|${entity}|${id}`, at);

  async function newLead(): Promise<number> {
    const id = stack.portal.userAddLead({ title: 'Звонок с сайта', stageId: 'NEW', assignedById: MANAGER, name: 'Анна' } as never, MANAGER);
    await stack.idle();
    return id;
  }
  async function moveLead(id: number, stageId: string, at?: Date) {
    if (at) stack.services.now = () => at;
    stack.portal.userUpdateLead(id, { stageId } as never, MANAGER);
    await stack.idle();
  }
  async function newDeal(fields: Record<string, unknown> = {}): Promise<number> {
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0, assignedById: MANAGER, ...fields } as never, MANAGER);
    await stack.idle();
    return id;
  }
  async function moveDeal(id: number, stageId: string, at?: Date) {
    if (at) stack.services.now = () => at;
    stack.portal.userMoveDeal(id, stageId, MANAGER);
    await stack.idle();
  }

  describe('leads', () => {
    const leadsWithLimit = (maxTime: string) => [{ preset: 'bitrix24-leads-004', overrides: { timeLimits: { responsible_assigned: { maxTime, clock: 'calendar', notify: ['head_of_sales'] } } } }];

    it('a lead in «Назначен ответственный» for more than a day is reported to the head of sales', async () => {
      await setUp(leadsWithLimit('1d'));
      const id = await newLead();
      await moveLead(id, 'IN_PROCESS', MONDAY_11);
      expect((await timer('limit', 'lead', id))?.dueAt).toBe('2026-12-01T08:00:00.000Z');
      await fire('limit', 'lead', id, new Date('2026-12-01T08:00:00Z'));
      expect(notificationsOf(HEAD)).toEqual([expect.stringMatching(/^Сделка «Звонок с сайта» \(#\d+\) в этапе «Назначен ответственный» дольше 1 дн\.; ответственный: Мария Менеджерова\./)]);
    });

    it('a real short limit: the head of sales hears within seconds', async () => {
      await setUp(leadsWithLimit('1s'), { schedule: '24/7' });
      const id = await newLead();
      await moveLead(id, 'IN_PROCESS');
      await eventually(() => notificationsOf(HEAD).length === 1);
      expect(notificationsOf(HEAD)[0]).toContain('дольше 1 с');
    });

    it('after a missed call the manager gets the next attempt at lunch two days later (a to-do in the lead)', async () => {
      await setUp([{ preset: 'bitrix24-leads-004' }]);
      const id = await newLead();
      await moveLead(id, 'PROCESSED', MONDAY_11);
      expect(todos('lead', id)).toMatchObject([{ title: 'Попытка 2 из 14: позвонить в обед 13–15, написать в WhatsApp', deadline: '2026-12-02T12:00:00.000Z', responsibleId: MANAGER }]);
      await fire('cadence', 'lead', id, new Date('2026-12-02T12:00:00Z'));
      expect(todos('lead', id).map((t) => t.title)).toEqual([
        'Попытка 2 из 14: позвонить в обед 13–15, написать в WhatsApp',
        'Попытка 3 из 14: позвонить вечером 19–21, написать в WhatsApp',
      ]);
    });

    it('a client who answers stops the cadence (an incoming call in the lead)', async () => {
      await setUp([{ preset: 'bitrix24-leads-004' }]);
      const id = await newLead();
      await moveLead(id, 'PROCESSED', new Date(Date.now() - 3 * DAY));
      stack.portal.userAddsActivity('lead', id, { kind: 'call', direction: 'incoming', userId: MANAGER, durationSeconds: 80 });
      await fire('cadence', 'lead', id, new Date());
      expect(todos('lead', id)).toHaveLength(1);
      expect(comments('lead', id)).toContain('Клиент вышел на связь — график прозвона «Не дозвонились» остановлен.');
      expect(await timer('cadence', 'lead', id)).toBeNull();
    });

    it('a client\'s time zone from a lead field moves the windows', async () => {
      await setUp([{ preset: 'bitrix24-leads-004' }], { stageTimers: { noAnswer: { clientTimeZoneField: 'ufCrmClientTz' } } });
      stack.portal.addUserField(1, { fieldName: 'UF_CRM_CLIENT_TZ', title: 'Часовой пояс клиента', type: 'string' });
      const id = stack.portal.userAddLead({ title: 'Звонок', stageId: 'NEW', assignedById: MANAGER, ufCrmClientTz: 'Asia/Novosibirsk' } as never, MANAGER);
      await stack.idle();
      await moveLead(id, 'PROCESSED', MONDAY_11);
      expect(todos('lead', id)[0]?.deadline).toBe('2026-12-02T08:00:00.000Z'); // 15:00 in Novosibirsk
    });
  });

  describe('process alerts', () => {
    it('a lead left with an employee who has left the company is reported to the head of sales, once', async () => {
      await setUp([{ preset: 'bitrix24-leads-004' }]);
      stack.portal.userLeaves(3);
      const id = stack.portal.userAddLead({ title: 'Заявка с сайта', stageId: 'NEW', assignedById: 3, name: 'Олег' } as never, MANAGER);
      await stack.idle();
      stack.portal.userUpdateLead(id, { name: 'Олег Петрович' } as never, MANAGER);
      await stack.idle();
      expect(notificationsOf(HEAD)).toEqual([`Заявка «Заявка с сайта» (#${id}) закреплена за неактивным пользователем — назначьте менеджера.`]);
    });
  });

  describe('deals', () => {
    it('«Встреча назначена» with a date gets the meeting to-do at the meeting time', async () => {
      await setUp([{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }]);
      const id = await newDeal({ ufCrmMeetingAt: '2026-12-03T15:00:00+03:00' });
      await moveDeal(id, 'PREPARATION', MONDAY_11);
      expect(todos('deal', id)).toMatchObject([{ title: 'Встреча с клиентом', deadline: '2026-12-03T12:00:00.000Z', responsibleId: MANAGER }]);
      await moveDeal(id, 'NEW');
      await moveDeal(id, 'PREPARATION', MONDAY_11);
      expect(todos('deal', id)).toHaveLength(1); // the open one is found
    });

    // An installation's own rule: a deal in «Встреча назначена» must be touched at least monthly.
    const untouched = [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', timeLimits: { meeting_set: { maxTime: '30d', clock: 'calendar', since: 'last_touch', action: 'task' } } } }];
    async function dealWithMeetingDone(enteredAt: Date): Promise<number> {
      const id = await newDeal({ ufCrmMeetingAt: '2026-12-03T15:00:00+03:00' });
      await moveDeal(id, 'PREPARATION', enteredAt);
      stack.portal.userCompletesTodo(todos('deal', id)[0]!.id);
      return id;
    }

    it('a client untouched for a month gets a to-do', async () => {
      await setUp(untouched);
      const id = await dealWithMeetingDone(MONDAY_11);
      expect((await timer('limit', 'deal', id))?.dueAt).toBe('2026-12-30T08:00:00.000Z');
      await fire('limit', 'deal', id, new Date('2026-12-30T08:00:00Z'));
      expect(todos('deal', id).map((t) => t.title)).toEqual([
        'Встреча с клиентом',
        expect.stringMatching(/^Коснуться клиента: по сделке «[^»]+» \(этап «Встреча назначена»\) не было касаний 30 дн\./),
      ]);
    });

    it('an outgoing call by the responsible restarts the month', async () => {
      await setUp(untouched);
      const id = await dealWithMeetingDone(new Date(Date.now() - 31 * DAY));
      stack.portal.userAddsActivity('deal', id, { kind: 'call', direction: 'outgoing', userId: MANAGER, durationSeconds: 40 });
      await fire('limit', 'deal', id, new Date());
      expect(todos('deal', id).filter((t) => t.title.startsWith('Коснуться'))).toEqual([]);
      expect(Date.parse((await timer('limit', 'deal', id))!.dueAt) - Date.now()).toBeGreaterThan(29 * DAY);
    });
  });
});
