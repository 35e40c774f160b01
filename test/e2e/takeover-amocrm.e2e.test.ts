import { ALERT_DIGEST_TIMER } from '../../src/alerts/process-alerts';
import { fireTimerAt } from '../helpers/timers';
import { RedisInstallationState } from '../../src/installations/installation-state';
import { Queue } from 'bullmq';
import { servicesFor } from '../../src/pipeline/process-event';
import { bullPrefix } from '../../src/pipeline/queues';
import { sendMonthlyRatings, SCHEDULES_QUEUE } from '../../src/rating/monthly-rating-job';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { setSettings, takeoverTimerOf } from '../helpers/takeover';
import { redisUrl } from '../helpers/test-services';

const ADMIN = 1;
const ANNA = 2;
const BORIS = 3;
const HEAD = 4;
const MINUTE = 60_000;

describe('takeover timer on amoCRM (seed 002: 15 minutes to take a client into work)', () => {
  let stack: LocalStack;
  let stage: (name: string) => number;
  let pipelineId: number;
  let installationId: string;

  /** A Monday, 11:00 in Moscow: working hours. */
  const MONDAY_11 = '2026-11-30T08:00:00Z';

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), startAt: MONDAY_11 });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market' }])).toMatchObject({ ok: true });
    // The renamer would retitle the leads «<id> / …»; these tests read the titles the client gave.
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)], 'dealRenamer.enabled': false });
  });
  afterEach(() => stack.stop());

  /** A request lands in «Передан в работу», created by an integration under the administrator. */
  async function incomingLead(name = 'Заявка с сайта'): Promise<number> {
    const id = stack.amo.userAddLead({ name, pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: ADMIN }, ADMIN);
    await stack.idle();
    return id;
  }
  async function minutesPass(minutes: number) {
    stack.timeTravel(minutes * MINUTE);
    await stack.fireTimersDue();
    await stack.idle();
  }
  const responsibleOf = (id: number) => stack.amo.getLead(id)?.responsible_user_id;
  const notes = (id: number) => stack.amo.notes(id).filter((n) => n.note_type === 'service_message').map((n) => String((n.params as { text?: string }).text ?? ''));
  const tasksFor = (userId: number, leadId: number) => stack.amo.tasks.filter((t) => t.responsible_user_id === userId && t.entity_id === leadId).map((t) => t.text);

  it('a lead without a manager is assigned by the distribution, and the manager is told', async () => {
    const id = await incomingLead();
    expect(responsibleOf(id)).toBe(ANNA);
    expect(tasksFor(ANNA, id)).toEqual([expect.stringContaining('Возьмите его в работу за 15 минут')]);
    const timer = await takeoverTimerOf(stack.services, installationId, `deal:${id}`);
    expect(timer?.delayMs).toBe(15 * MINUTE);
    // The next lead goes to the next manager (round-robin), never to the head of sales.
    expect(responsibleOf(await incomingLead('Вторая заявка'))).toBe(BORIS);
    expect(responsibleOf(await incomingLead('Третья заявка'))).toBe(ANNA);
  });

  it('a lead not taken in 15 minutes goes to the next manager', async () => {
    const id = await incomingLead();
    await minutesPass(14);
    expect(responsibleOf(id)).toBe(ANNA);
    await minutesPass(1);
    expect(responsibleOf(id)).toBe(BORIS);
    expect(notes(id)).toEqual(['Лид не взят в работу за 15 минут: Анна Менеджерова → Борис Продажин']);
    expect(tasksFor(BORIS, id)).toEqual([expect.stringContaining('Вам назначен лид «Заявка с сайта»')]);
    expect(tasksFor(HEAD, id)).toEqual([expect.stringContaining('передан Анна Менеджерова → Борис Продажин (передача 1 из 3)')]);
    // The timer starts again for Борис.
    expect(await takeoverTimerOf(stack.services, installationId, `deal:${id}`)).toMatchObject({ seq: 2, delayMs: 15 * MINUTE });
    // The first timer delivered once more (a duplicate or late delivery) changes nothing: it is never acted on twice.
    const installation = (await stack.services.store.find(installationId))!;
    const crm = await stack.services.clients.forInstallation(installation);
    await stack.services.app.fireTimer('takeoverTimer', `deal:${id}:1`, { seq: 1 }, installation, servicesFor(installation, crm, stack.services));
    await stack.idle();
    expect(responsibleOf(id)).toBe(BORIS);
    expect(notes(id)).toHaveLength(1);
  });

  it('a call by the responsible stops the timer', async () => {
    const id = await incomingLead();
    await minutesPass(5);
    stack.amo.userAddNote(id, 'call_out', '', ANNA);
    await minutesPass(10);
    expect(responsibleOf(id)).toBe(ANNA);
    expect(notes(id)).toEqual([]);
    expect(await takeoverTimerOf(stack.services, installationId, `deal:${id}`)).toBeNull();
  });

  it('a call by someone else does not count, a chat message by the responsible does', async () => {
    const id = await incomingLead();
    stack.amo.userAddNote(id, 'call_out', '', BORIS);
    await minutesPass(15);
    expect(responsibleOf(id)).toBe(BORIS);
    stack.amo.userSendsChatMessage(id, BORIS);
    await minutesPass(15);
    expect(responsibleOf(id)).toBe(BORIS);
  });

  it('moving the lead on takes it into work: the timer is cancelled', async () => {
    const id = await incomingLead();
    stack.amo.userMoveLead(id, stage('Не дозвонились'), ANNA);
    await stack.idle();
    expect(await takeoverTimerOf(stack.services, installationId, `deal:${id}`)).toBeNull();
    await minutesPass(20);
    expect(responsibleOf(id)).toBe(ANNA);
  });

  it('after the last hop the head of sales gets an escalation and the robot stops', async () => {
    await setSettings(stack.services, installationId, { 'takeoverTimer.maxHops': 1 });
    const id = await incomingLead();
    await minutesPass(15);
    expect(responsibleOf(id)).toBe(BORIS);
    await minutesPass(15);
    expect(responsibleOf(id)).toBe(BORIS);
    expect(notes(id)[1]).toMatch(/^Лид «Заявка с сайта» так и не взят в работу: его не взяли Анна Менеджерова, Борис Продажин/);
    // The head heard of the first hop this hour: the escalation waits in the hourly digest of process failures.
    const appClock = stack.services.now;
    await fireTimerAt(stack, installationId, ALERT_DIGEST_TIMER, `digest|${HEAD}`, appClock());
    stack.services.now = appClock;
    expect(stack.amo.tasks.filter((t) => t.responsible_user_id === HEAD).at(-1)?.text).toContain('распределите его вручную');
    expect(await takeoverTimerOf(stack.services, installationId, `deal:${id}`)).toBeNull();
    await minutesPass(60);
    expect(notes(id)).toHaveLength(2);
  });

  it('the night\'s leads are counted from 9:00', async () => {
    stack.timeTravel(11 * 60 * MINUTE); // Monday 22:00 in Moscow
    const id = await incomingLead();
    const timer = await takeoverTimerOf(stack.services, installationId, `deal:${id}`);
    expect(timer?.dueAt).toBe('2026-12-01T06:15:00.000Z'); // Tuesday 09:15 Moscow
    await minutesPass(60);
    expect(responsibleOf(id)).toBe(ANNA);
  });

  it('a manager on vacation gets none', async () => {
    await setSettings(stack.services, installationId, { 'takeoverTimer.vacations': [{ userId: ANNA, from: '2026-11-30', to: '2026-12-06' }] });
    for (const name of ['Первая', 'Вторая', 'Третья']) expect(responsibleOf(await incomingLead(name))).toBe(BORIS);
  });

  it('a lead closed as a repeat never starts a timer', async () => {
    const id = stack.amo.userAddLead({ name: 'Повтор', pipeline_id: pipelineId, status_id: stage('Новый лид'), responsible_user_id: ADMIN }, ADMIN);
    await stack.idle();
    // What the duplicate catcher records when it closes a lead as a repeat.
    await new RedisInstallationState(stack.services.redis, stack.services.prefix, installationId).set(`repeat:deal:${id}`, JSON.stringify({ of: '1' }));
    stack.amo.userMoveLead(id, stage('Передан в работу'), ADMIN);
    await stack.idle();
    expect(await takeoverTimerOf(stack.services, installationId, `deal:${id}`)).toBeNull();
    expect(responsibleOf(id)).toBe(ADMIN);
  });
});

describe('the monthly rating on amoCRM: it reaches the head of sales, and next month\'s leads follow it', () => {
  let stack: LocalStack;
  let stage: (name: string) => number;
  let pipelineId: number;
  let installationId: string;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), startAt: '2026-11-30T08:00:00Z' });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market' }])).toMatchObject({ ok: true });
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)], 'dealRenamer.enabled': false, 'takeoverTimer.rating.minLeads': 1 });
  });
  afterEach(() => stack.stop());

  it('November: Анна holds a meeting, Борис none → on December 1st the head of sales gets the rating, and Борис gets half as many leads', async () => {
    const field = (name: string) => stack.amo.leadFieldId(name);
    const leads: number[] = [];
    for (const name of ['1', '2', '3', '4']) {
      leads.push(stack.amo.userAddLead({ name, pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: ADMIN }, ADMIN));
      await stack.idle();
    }
    expect(leads.map((id) => stack.amo.getLead(id)?.responsible_user_id)).toEqual([ANNA, BORIS, ANNA, BORIS]);
    // Анна sets a meeting and holds it: the stage guard records «Встреча состоялась».
    stack.amo.userUpdateLead(leads[0]!, { custom_fields_values: [
      { field_id: field('Дата встречи'), values: [{ value: 1795600000 }] },
      { field_id: field('Время встречи'), values: [{ value: '15:00' }] },
      { field_id: field('Место встречи'), values: [{ value: 'офис продаж' }] },
    ] }, ANNA);
    await stack.idle();
    stack.amo.userMoveLead(leads[0]!, stage('Встреча назначена'), ANNA);
    await stack.idle();
    stack.amo.userMoveLead(leads[0]!, stage('Встреча состоялась'), ANNA);
    await stack.idle();
    for (const id of leads.slice(1)) stack.amo.userMoveLead(id, stage('Не дозвонились'), stack.amo.getLead(id)!.responsible_user_id);
    await stack.idle();

    // The worker keeps one job scheduler for it: the 1st of every month, 09:00 Moscow time.
    const schedules = new Queue(SCHEDULES_QUEUE, { connection: stack.services.queueSettings.connection, prefix: bullPrefix(stack.services.prefix) });
    expect(await schedules.getJobSchedulers()).toEqual([expect.objectContaining({ key: 'monthly-rating', pattern: '0 9 1 * *', tz: 'Europe/Moscow' })]);
    await schedules.close();

    stack.timeTravel(22 * 60 * MINUTE); // December 1st, 09:00 Moscow: the scheduler's run
    expect(await sendMonthlyRatings(stack.services)).toBe(1);
    expect(await sendMonthlyRatings(stack.services)).toBe(0); // once a month
    await stack.idle();
    const rating = stack.amo.tasks.filter((t) => t.responsible_user_id === HEAD).map((t) => t.text).find((t) => t.startsWith('Рейтинг менеджеров за 2026-11'))!;
    expect(rating).toContain('1. Анна Менеджерова: 2 / 1 / 50% / 0 / 0');
    expect(rating).toContain('2. Борис Продажин: 2 / 0 / 0% / 0 / 0 — меньше лидов в следующем месяце');

    // The signed link opens the chart; anything else does not.
    const link = /График: (\S+)/.exec(rating)![1]!;
    const page = await fetch(link.replace(/^https?:\/\/[^/]+/, stack.appUrl));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<svg');
    expect(html).toContain('Анна Менеджерова');
    expect((await fetch(link.replace(/^https?:\/\/[^/]+/, stack.appUrl).replace('2026-11', '2026-10'))).status).toBe(403);
    expect((await fetch(`${stack.appUrl}/rating/${installationId}/2026-13?exp=1&sig=x`)).status).toBe(400);

    const december: number[] = [];
    for (const name of ['5', '6', '7', '8', '9', '10']) {
      const id = stack.amo.userAddLead({ name, pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: ADMIN }, ADMIN);
      await stack.idle();
      december.push(stack.amo.getLead(id)!.responsible_user_id!);
    }
    expect(december.filter((id) => id === ANNA)).toHaveLength(4);
    expect(december.filter((id) => id === BORIS)).toHaveLength(2);
  });
});

describe('takeover after installing on a live account', () => {
  let stack: LocalStack;
  afterEach(() => stack.stop());

  it('a lead already in «Передан в работу» before the app came is not a new arrival: editing it starts no timer', async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), startAt: '2026-11-30T08:00:00Z' });
    const { stage, pipelineId } = setupAmoPrimaryMarket(stack.amo);
    const old = stack.amo.userAddLead({ name: 'Давняя сделка', pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: ADMIN }, ADMIN);
    stack.timeTravel(60_000);
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    const installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market' }])).toMatchObject({ ok: true });
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)] });
    stack.amo.userUpdateLead(old, { price: 5_000_000 }, ADMIN);
    await stack.idle();
    expect(await takeoverTimerOf(stack.services, installationId, `deal:${old}`)).toBeNull();
    // A lead arriving now is taken care of as usual.
    const fresh = stack.amo.userAddLead({ name: 'Новая заявка', pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: ADMIN }, ADMIN);
    await stack.idle();
    expect(await takeoverTimerOf(stack.services, installationId, `deal:${fresh}`)).toMatchObject({ seq: 1 });
  });
});
