import { installationAlertTexts } from '../../src/alerts/failure-alerts';
import { raiseInstallationAlert } from '../../src/alerts/installation-alerts';
import { installationKey, installationKeysPattern } from '../../src/infra/keys';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';
import { eventually, fireTimerAt, pendingTimer } from '../helpers/timers';

const MANAGER = 2;
const HEAD = 4;
const DAY = 86_400_000;
/** Monday 30 November 2026, 11:00 in Moscow. */
const MONDAY_11 = new Date('2026-11-30T08:00:00Z');

describe('stage timers on amoCRM (seed 002 «Первичный рынок»)', () => {
  let stack: LocalStack;
  let stage: (name: string) => number;
  let pipelineId: number;
  let installationId: string;

  async function setUp(overrides: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market', overrides }])).toMatchObject({ ok: true });
    await stack.services.store.updateSettings(installationId, (current) => ({ ...current.settings, headsOfSales: [String(HEAD)], ...settings }));
  }
  /** Between the tests of one stack: the real clock again, and a quiet hour for the heads of sales. */
  async function reset() {
    stack.services.now = () => new Date();
    const keys = await stack.services.redis.keys(`${installationKeysPattern(stack.services.prefix, installationId).slice(0, -1)}alerts:*`);
    if (keys.length) await stack.services.redis.del(...keys);
  }
  /** One stack per group of tests (leads are per test; an installation per group). */
  function stackFor(overrides: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) {
    beforeAll(() => setUp(overrides, settings), 30_000);
    afterAll(() => stack.stop());
    beforeEach(() => reset());
  }

  const field = (name: string) => stack.amo.leadFieldId(name);
  const tasksOf = (userId: number, leadId?: number) => stack.amo.tasks.filter((t) => t.responsible_user_id === userId && (leadId === undefined || t.entity_id === leadId));
  const notes = (id: number) => stack.amo.notes(id).map((n) => String((n.params as { text?: string } | undefined)?.text ?? ''));

  async function lead(at: string, custom_fields_values: Array<{ field_id: number; values: Array<{ value: unknown }> }> = []): Promise<number> {
    const id = stack.amo.userAddLead({ name: 'Иванов, 2-комн.', pipeline_id: pipelineId, status_id: stage(at), responsible_user_id: MANAGER, custom_fields_values }, MANAGER);
    await stack.idle();
    return id;
  }
  async function move(id: number, to: string | number, at?: Date) {
    if (at) stack.services.now = () => at;
    stack.amo.userMoveLead(id, typeof to === 'number' ? to : stage(to), MANAGER);
    await stack.idle();
  }
  const timer = (kind: string, id: number) => pendingTimer(stack, installationId, 'stageTimers', `${kind}|deal|${id}`);
  const fire = (kind: string, id: number, at: Date) => fireTimerAt(stack, installationId, 'stageTimers', `${kind}|deal|${id}`, at);

  describe('stuck stages', () => {
    stackFor();

    it('a client in «Для передачи» for more than a day is reported to the head of sales', async () => {
      const id = await lead('Передан в работу');
      await move(id, 'Для передачи', MONDAY_11);
      expect((await timer('limit', id))?.dueAt).toBe('2026-12-01T08:00:00.000Z'); // Tuesday 11:00
      expect(tasksOf(HEAD, id)).toEqual([]);
      await fire('limit', id, new Date('2026-12-01T08:00:00Z'));
      const alerts = tasksOf(HEAD, id);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.text).toMatch(/^Сделка «[^»]+» \(#\d+\) в этапе «Для передачи» дольше 1 дн\.; ответственный: Анна Менеджерова\. Похоже, с клиентом никто не работает\.$/);
      expect(alerts[0]!.entity_id).toBe(id);
      expect(await timer('limit', id)).toBeNull(); // once per stay: no reminder rule here
    });

    it('leaving the stage cancels its timer', async () => {
      const id = await lead('Передан в работу');
      await move(id, 'Для передачи', MONDAY_11);
      expect(await timer('limit', id)).not.toBeNull();
      await move(id, 'Потребности выявлены');
      expect(stack.amo.getLead(id)?.status_id).toBe(stage('Потребности выявлены'));
      expect(await timer('limit', id)).toBeNull();
    });

    it('«Отправлено КП» past 3 days: the manager is reminded daily, the head of sales hears after 5 days', async () => {
      const meeting = [
        { field_id: field('Дата встречи'), values: [{ value: 1795600000 }] },
        { field_id: field('Время встречи'), values: [{ value: '15:00' }] },
        { field_id: field('Место встречи'), values: [{ value: 'офис продаж' }] },
      ];
      const id = await lead('Передан в работу', meeting);
      for (const to of ['Встреча назначена', 'Встреча состоялась']) await move(id, to);
      await move(id, 'Отправлено КП', MONDAY_11);
      expect((await timer('limit', id))?.dueAt).toBe('2026-12-03T08:00:00.000Z');
      expect((await timer('escalate', id))?.dueAt).toBe('2026-12-05T08:00:00.000Z');
      const managerTasks = () => tasksOf(MANAGER, id).filter((t) => t.text.includes('дольше'));
      await fire('limit', id, new Date('2026-12-03T08:00:00Z'));
      expect(managerTasks()).toHaveLength(1);
      expect((await timer('limit', id))?.dueAt).toBe('2026-12-04T08:00:00.000Z'); // the daily reminder
      await fire('limit', id, new Date('2026-12-04T08:00:00Z'));
      expect(managerTasks().map((t) => t.text.match(/дольше ([^.]+)\./)?.[1])).toEqual(['3 дн', '4 дн']);
      await fire('escalate', id, new Date('2026-12-05T08:00:00Z'));
      expect(tasksOf(HEAD, id)).toHaveLength(1);
      expect(tasksOf(HEAD, id)[0]!.text).toContain('дольше 5 дн.');
    });
  });

  describe('a real short limit', () => {
    stackFor({ timeLimits: { to_hand_over: { maxTime: '1s', notify: ['manager'], escalation: { after: '2s' } } } }, { schedule: '24/7' });

    it('«Для передачи» limited by the installation to a second for the manager, two for the head of sales: both hear within seconds', async () => {
      const id = await lead('Передан в работу');
      await move(id, 'Для передачи');
      await eventually(() => tasksOf(MANAGER, id).length === 1 && tasksOf(HEAD, id).length === 1);
      expect(tasksOf(MANAGER, id)[0]!.text).toContain('в этапе «Для передачи» дольше 1 с.');
      expect(tasksOf(HEAD, id)[0]!.text).toContain('в этапе «Для передачи» дольше 2 с;');
    });
  });

  describe('mandatory next steps', () => {
    stackFor();

    it('«Встреча назначена» with a date gets the meeting task; «Отправлено КП» the feedback task, once', async () => {
      const meetingAt = 1795600000; // 2026-11-25T… unix seconds
      const id = await lead('Передан в работу', [
        { field_id: field('Дата встречи'), values: [{ value: meetingAt }] },
        { field_id: field('Время встречи'), values: [{ value: '15:00' }] },
        { field_id: field('Место встречи'), values: [{ value: 'офис продаж' }] },
      ]);
      await move(id, 'Встреча назначена', MONDAY_11);
      const meeting = tasksOf(MANAGER, id);
      expect(meeting).toMatchObject([{ text: 'Встреча с клиентом', task_type_id: 2, complete_till: meetingAt }]);
      await move(id, 'Встреча состоялась');
      await move(id, 'Отправлено КП', MONDAY_11);
      const feedback = tasksOf(MANAGER, id).filter((t) => t.text === 'Получить обратную связь по КП');
      expect(feedback).toHaveLength(1);
      expect(feedback[0]!.complete_till).toBe(Date.parse('2026-12-01T08:00:00Z') / 1000);
      // Back and forth: the open feedback task is found, none is added.
      await move(id, 'ОС получена');
      await move(id, 'Отправлено КП', MONDAY_11);
      expect(stack.amo.getLead(id)?.status_id).toBe(stage('Отправлено КП'));
      expect(tasksOf(MANAGER, id).filter((t) => t.text === 'Получить обратную связь по КП')).toHaveLength(1);
    });
  });

  describe('the no-answer cadence', () => {
    stackFor();
    const attempts = (id: number) => tasksOf(MANAGER, id).filter((t) => t.text.startsWith('Попытка'));

    it('after a missed call the manager gets the next attempt at lunch two days later', async () => {
      const id = await lead('Передан в работу');
      await move(id, 'Не дозвонились', MONDAY_11);
      expect(attempts(id)).toMatchObject([{ text: 'Попытка 2 из 14: позвонить в обед 13–15, написать в WhatsApp', complete_till: Date.parse('2026-12-02T12:00:00Z') / 1000 }]);
      // One task at a time: the next one comes when this one is due.
      await fire('cadence', id, new Date('2026-12-02T12:00:00Z'));
      expect(attempts(id).map((t) => t.text)).toEqual([
        'Попытка 2 из 14: позвонить в обед 13–15, написать в WhatsApp',
        'Попытка 3 из 14: позвонить вечером 19–21, написать в WhatsApp',
      ]);
      expect((await timer('cadence', id))?.dueAt).toBe('2026-12-04T18:00:00.000Z');
    });

    it('a real short cadence timer: attempt 3 fired a second before its window closes makes attempt 4 a second later', async () => {
      const id = await lead('Передан в работу');
      await move(id, 'Не дозвонились', MONDAY_11);
      await fire('cadence', id, new Date('2026-12-04T17:59:59Z')); // attempt 2 done late: attempt 3's window ends in 1 s
      await eventually(() => attempts(id).length === 3);
      expect(attempts(id)[2]!.text).toBe('Попытка 4 из 14: позвонить в обед 13–15 (выходной), написать в WhatsApp');
    });

    it('a forbidden move out of «Не дозвонились» is put back and the cadence goes on', async () => {
      const id = await lead('Передан в работу');
      await move(id, 'Не дозвонились', MONDAY_11);
      await move(id, 'Отправлено КП'); // not allowed from «Не дозвонились»: the stage guard puts it back
      expect(stack.amo.getLead(id)?.status_id).toBe(stage('Не дозвонились'));
      expect((await timer('cadence', id))?.dueAt).toBe('2026-12-02T12:00:00.000Z');
      expect(attempts(id)).toHaveLength(1);
    });

    it('a client who answers stops the cadence', async () => {
      const id = await lead('Передан в работу');
      const threeDaysAgo = new Date(Date.now() - 3 * DAY);
      await move(id, 'Не дозвонились', threeDaysAgo);
      stack.amo.userRecordsCall('leads', id, { direction: 'incoming', status: 4, duration: 95 });
      await fire('cadence', id, new Date());
      expect(attempts(id)).toHaveLength(1);
      expect(notes(id)).toContain('Клиент вышел на связь — график прозвона «Не дозвонились» остановлен.');
      expect(await timer('cadence', id)).toBeNull();
    });

    it('after the last attempt the deal goes to «На закрытие» with the calls the CRM recorded', async () => {
      const id = await lead('Передан в работу');
      // Entered 48 days ago and the app was down since: attempts 3–13 are past, the 14th (day 49) is tomorrow.
      await move(id, 'Не дозвонились', new Date(Date.now() - 48 * DAY));
      await fire('cadence', id, new Date());
      expect(attempts(id).map((t) => t.text)).toEqual(['Попытка 2 из 14: позвонить в обед 13–15, написать в WhatsApp', 'Попытка 14 из 14: позвонить в обед 13–15']);
      stack.amo.userRecordsCall('leads', id, { direction: 'outgoing', status: 6 });
      stack.amo.userRecordsCall('leads', id, { direction: 'outgoing', status: 3 });
      await fire('cadence', id, new Date(Date.now() + 2 * DAY));
      expect(stack.amo.getLead(id)?.status_id).toBe(stage('На закрытие'));
      const comment = notes(id).find((n) => n.startsWith('Клиент не ответил'))!;
      expect(comment).toContain('Клиент не ответил за 14 попыток (8 недель) — сделка переведена в «На закрытие». Попытки по записям CRM:');
      expect(comment.match(/исходящий звонок, без ответа/g)).toHaveLength(2);
    });
  });

  describe('deferred demand', () => {
    stackFor();

    it('a deferred client untouched for a month gets a task', async () => {
      const id = await lead('Потребности выявлены');
      await move(id, 'Отложенный спрос >7 мес', MONDAY_11);
      expect((await timer('limit', id))?.dueAt).toBe('2026-12-30T08:00:00.000Z');
      await fire('limit', id, new Date('2026-12-30T08:00:00Z'));
      const task = tasksOf(MANAGER, id).find((t) => t.text.startsWith('Коснуться клиента'));
      expect(task?.text).toContain('не было касаний 30 дн.');
    });

    it('a touch restarts the month', async () => {
      const id = await lead('Потребности выявлены');
      await move(id, 'Отложенный спрос >7 мес', new Date(Date.now() - 31 * DAY));
      stack.amo.userRecordsCall('leads', id, { direction: 'outgoing', status: 4, duration: 60 }, MANAGER);
      await fire('limit', id, new Date());
      expect(tasksOf(MANAGER, id).filter((t) => t.text.startsWith('Коснуться клиента'))).toEqual([]);
      const next = await timer('limit', id);
      expect(Date.parse(next!.dueAt) - Date.now()).toBeGreaterThan(29 * DAY);
    });
  });

  describe('process alerts for the head of sales', () => {
    stackFor({}, { stageTimers: { inWorkMaxPerManager: 2 } });

    it('alerts are grouped: the second stuck deal within the hour comes in the digest', async () => {
      const first = await lead('Передан в работу');
      const second = await lead('Передан в работу');
      await move(first, 'Для передачи', MONDAY_11);
      await move(second, 'Для передачи', MONDAY_11);
      await fire('limit', first, new Date('2026-12-01T08:00:00Z'));
      await fire('limit', second, new Date('2026-12-01T08:10:00Z'));
      expect(tasksOf(HEAD)).toHaveLength(1);
      const digest = await pendingTimer(stack, installationId, 'processAlerts', `digest|${HEAD}`);
      expect(digest).not.toBeNull();
      await stack.services.redis.del(installationKey(stack.services.prefix, installationId, 'alerts', HEAD, 'window')); // the hour is over
      await fireTimerAt(stack, installationId, 'processAlerts', `digest|${HEAD}`, new Date('2026-12-01T09:00:00Z'));
      expect(tasksOf(HEAD)).toHaveLength(2);
      expect(tasksOf(HEAD)[1]!.text).toMatch(/^Reglament: сбои процесса за последний час \(1\):\n• Сделка «[^»]+» \(#\d+\) в этапе «Для передачи» дольше 1 дн\./);
    });

    it('a manager holding more than N new deals in «Передан в работу» is reported, once', async () => {
      const overload = () => tasksOf(HEAD).filter((t) => t.text.includes('необработанных заявок'));
      for (let i = 0; i < 2; i++) await move(await lead('Новый лид'), 'Передан в работу');
      expect(overload()).toEqual([]);
      await lead('Передан в работу'); // a third one, created straight there
      expect(overload().map((t) => t.text)).toEqual(['У менеджера Анна Менеджерова в этапе «Передан в работу» 3 необработанных заявок (больше 2). Перераспределите их вручную.']);
      await move(await lead('Новый лид'), 'Передан в работу');
      expect(overload()).toHaveLength(1); // once an hour per manager and stage
    });

    // Last in its group: it revokes the installation.
    it('a disabled webhook is a process failure for the head of sales; a revoked installation can only be logged', async () => {
      expect(await raiseInstallationAlert(stack.services, installationId, 'installation.webhookDisabled', installationAlertTexts.webhookDisabled('ru'))).toBe('raised');
      const webhookAlerts = () => tasksOf(HEAD).filter((t) => t.text === installationAlertTexts.webhookDisabled('ru'));
      expect(webhookAlerts()).toHaveLength(1);
      await stack.services.store.markRevoked(installationId, 'refresh refused');
      expect(await raiseInstallationAlert(stack.services, installationId, 'installation.revoked', installationAlertTexts.revoked('refresh refused', 'ru'))).toBe('logged');
      expect(tasksOf(HEAD).filter((t) => t.text.startsWith('Reglament потерял'))).toEqual([]);
      // Rows are ordered by their time, and earlier tests ran on a clock set days ahead: look among them all.
      const summaries = (await stack.services.actions.latest(installationId, 100)).map((a) => a.summary);
      expect(summaries).toContainEqual(expect.stringMatching(/^installation\.revoked: Reglament потерял доступ к CRM \(refresh refused\)/));
    });
  });
});
