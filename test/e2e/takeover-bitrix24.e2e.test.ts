import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupBitrix24LeadFunnel } from '../helpers/funnels';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../helpers/local-stack';
import { setSettings, takeoverTimerOf } from '../helpers/takeover';
import { eventually, redisUrl } from '../helpers/test-services';

const ADMIN = 1;
const MARIA = 2;
const IVAN = 3;
const HEAD = 4;
const MINUTE = 60_000;
/** A Monday, 11:00 in Moscow: working hours. */
const MONDAY_11 = '2026-11-30T08:00:00Z';

describe('takeover timer on Bitrix24 leads (seed 004: «Принять в работу»)', () => {
  let stack: LocalStack;
  let installationId: string;

  async function start(options: Partial<LocalStackOptions> = {}, travel = true) {
    stack = await startLocalStack({ redisUrl: redisUrl(), ...(travel ? { startAt: MONDAY_11 } : {}), ...options });
    setupBitrix24LeadFunnel(stack.portal);
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-leads-004' }])).toMatchObject({ ok: true });
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)], 'dealRenamer.enabled': false });
  }
  afterEach(() => stack.stop());

  /** A web form creates the lead under the administrator, in «Принять в работу». */
  async function webFormLead(title = 'Заявка с сайта'): Promise<number> {
    const id = stack.portal.userAddLead({ title, stageId: 'NEW', assignedById: ADMIN, name: 'Клиент' } as never, ADMIN);
    await stack.idle();
    return id;
  }
  async function minutesPass(minutes: number) {
    stack.timeTravel(minutes * MINUTE);
    await stack.fireTimersDue();
    await stack.idle();
  }
  const responsibleOf = (id: number) => Number(stack.portal.getLead(id)?.assignedById);
  const comments = (id: number) => stack.portal.comments('lead', id).filter((c) => c.authorId === ADMIN).map((c) => c.comment);
  const notified = (userId: number) => stack.portal.notifications.filter((n) => n.userId === userId).map((n) => n.message);

  it('a lead not taken in 15 minutes goes to the next manager', async () => {
    await start();
    const id = await webFormLead();
    expect(responsibleOf(id)).toBe(MARIA);
    expect(notified(MARIA)).toEqual([expect.stringContaining('Возьмите его в работу за 15 минут')]);
    await minutesPass(15);
    expect(responsibleOf(id)).toBe(IVAN);
    expect(comments(id)).toEqual(['Лид не взят в работу за 15 минут: Мария Менеджерова → Иван Продажин']);
    expect(notified(IVAN)).toEqual([expect.stringContaining('Вам назначен лид «Заявка с сайта»')]);
    expect(notified(HEAD)).toEqual([expect.stringContaining('передан Мария Менеджерова → Иван Продажин')]);
  });

  it.each([
    ['a call by the responsible stops the timer', (id: number) => stack.portal.userActivity('lead', id, MARIA, 'call')],
    ['an e-mail by the responsible stops the timer', (id: number) => stack.portal.userActivity('lead', id, MARIA, 'email')],
    ['a comment by the responsible stops the timer', (id: number) => stack.portal.userComment('lead', id, MARIA, 'Перезвоню в 15:00')],
  ])('%s', async (_name, act) => {
    await start();
    const id = await webFormLead();
    await minutesPass(3);
    act(id);
    await minutesPass(12);
    expect(responsibleOf(id)).toBe(MARIA);
    expect(comments(id)).toEqual([]);
    expect(await takeoverTimerOf(stack.services, installationId, `lead:${id}`)).toBeNull();
  });

  it('an incoming call does not count: the lead still goes on', async () => {
    await start();
    const id = await webFormLead();
    stack.portal.userActivity('lead', id, MARIA, 'call', 'incoming');
    await minutesPass(15);
    expect(responsibleOf(id)).toBe(IVAN);
  });

  it('«Назначен ответственный» continues the takeover; «Попытки связаться» takes the lead', async () => {
    await start();
    const id = await webFormLead();
    stack.portal.userUpdateLead(id, { stageId: 'IN_PROCESS' } as never, MARIA);
    await stack.idle();
    expect(await takeoverTimerOf(stack.services, installationId, `lead:${id}`)).toMatchObject({ seq: 1 });
    stack.portal.userUpdateLead(id, { stageId: 'PROCESSED' } as never, MARIA);
    await stack.idle();
    expect(await takeoverTimerOf(stack.services, installationId, `lead:${id}`)).toBeNull();
    await minutesPass(30);
    expect(responsibleOf(id)).toBe(MARIA);
  });

  it('a manager on vacation gets none (Bitrix24 calendar «absent», scope calendar)', async () => {
    await start({ portal: { scope: 'crm,im,user_brief,calendar' } });
    stack.portal.addCalendarEntry(MARIA, new Date('2026-11-29T00:00:00Z'), new Date('2026-12-07T00:00:00Z'));
    for (const title of ['Первая', 'Вторая', 'Третья']) expect(responsibleOf(await webFormLead(title))).toBe(IVAN);
  });

  it('only the sales department receives leads when the roster is narrowed to it', async () => {
    await start({
      portal: {
        users: [
          { id: 1, name: 'Админ', lastName: 'Порталов', isAdmin: true },
          { id: 2, name: 'Мария', lastName: 'Менеджерова', departments: [7] },
          { id: 3, name: 'Иван', lastName: 'Продажин', departments: [7] },
          { id: 4, name: 'Ольга', lastName: 'Руководитель', departments: [7] },
          { id: 5, name: 'Пётр', lastName: 'Бухгалтеров', departments: [9] },
          { id: 6, name: 'Уволен', lastName: 'Давно', departments: [7], active: false },
        ],
      },
    });
    await setSettings(stack.services, installationId, { 'takeoverTimer.roster.departments': ['7'] });
    const got = [];
    for (const title of ['1', '2', '3', '4']) got.push(responsibleOf(await webFormLead(title)));
    expect(got).toEqual([MARIA, IVAN, MARIA, IVAN]);
  });

  it('with a real BullMQ delay: timeout "2s", 24/7', async () => {
    await start({}, false);
    await setSettings(stack.services, installationId, { schedule: '24/7', 'takeoverTimer.timeout': '2s' });
    const id = await webFormLead();
    expect(responsibleOf(id)).toBe(MARIA);
    const timer = await takeoverTimerOf(stack.services, installationId, `lead:${id}`);
    expect(timer?.delayMs).toBeGreaterThan(1500);
    await eventually(() => expect(responsibleOf(id)).toBe(IVAN), 15000, 100);
    await stack.idle();
    expect(comments(id)).toEqual(['Лид не взят в работу за 2 секунды: Мария Менеджерова → Иван Продажин']);
    // …and 2 s later back to Мария (everyone held it: the one who missed last is skipped), then the escalation after 3 hops.
    await eventually(() => expect(comments(id).at(-1)).toMatch(/так и не взят в работу/), 20000, 100);
    expect(comments(id)).toHaveLength(4);
  }, 40000);
});
