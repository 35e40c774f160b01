/**
 * Reglament's robots in the Bitrix24 automation designer (issue 12, item 5): registered at
 * install with bizproc.robot.add, run by the portal's automation (the queue server POSTs the
 * robot's handler), performed by the worker with the robots' own code, answered with
 * bizproc.event.send. The portal is the emulator; the app is the real web + worker.
 */
import { BITRIX24_ROBOTS } from '../../src/automation/bitrix24-robot-catalog';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { toPhpForm } from '../emulators/form-encode';
import { setupBitrix24SalesFunnel } from '../helpers/funnels';
import { profitbaseConnection, setSetting } from '../helpers/inventory';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

const CODES = BITRIX24_ROBOTS.map((r) => r.CODE).sort();
const FLAT_3 = 10_301_003;

describe('Bitrix24 robots in the automation designer', () => {
  let stack: LocalStack;
  let installationId: string;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), profitbaseMinIntervalMs: 0, env: { PROFITBASE_REQUESTS_PER_SECOND: '40' } });
    setupBitrix24SalesFunnel(stack.portal);
    await install();
    installationId = (await stack.services.store.list())[0]!.id;
  });
  afterEach(() => stack.stop());

  async function install() {
    const answer = await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    expect(answer.status).toBe(200);
  }
  const robotCalls = (method: string) => stack.portal.calls.filter((c) => c.method === method);

  async function run(code: string, document: { entity: 'deal' | 'lead'; id: number }, properties: Record<string, string> = {}) {
    const call = await stack.portal.runRobot(code, document, properties);
    expect(call.status).toBe(200);
    return stack.portal.robotAnswer(call.eventToken);
  }

  describe('registration', () => {
    it('install registers the five robots, named in Russian and English, each answering the app’s handler', async () => {
      const robots = stack.portal.robots();
      expect(robots.map((r) => r.code).sort()).toEqual(CODES);
      expect(robots.map((r) => (r.name as { ru: string }).ru).sort()).toEqual(
        ['Забронировать объект', 'Передать лид по распределению', 'Переименовать сделку', 'Проверить переход по регламенту', 'Снять бронь'].sort(),
      );
      for (const robot of robots) {
        expect(robot).toMatchObject({ handler: `${stack.appUrl}/bitrix24/robots`, useSubscription: 'Y', authUserId: 1 });
        expect((robot.name as { en: string }).en).toMatch(/\w/);
      }
    });

    it('reinstalling updates the robots instead of adding them twice', async () => {
      await install();
      expect(stack.portal.robots().map((r) => r.code).sort()).toEqual(CODES);
      expect(robotCalls('bizproc.robot.add')).toHaveLength(5);
      expect(robotCalls('bizproc.robot.update')).toHaveLength(5);
      expect(robotCalls('bizproc.robot.add').filter((c) => c.error)).toEqual([]);
    });

    it('uninstalling removes them from the portal, and a call after that is refused and queues nothing', async () => {
      const dealId = stack.portal.userAddDeal({ title: 'x' } as never);
      await stack.idle();
      const code = 'reglament_rename_deal';
      const robot = stack.portal.robots().find((r) => r.code === code)!;
      await stack.portal.uninstall();
      await stack.idle();
      expect(stack.portal.robots()).toEqual([]);
      expect(await stack.services.store.list()).toEqual([]);
      const late = await fetch(robot.handler, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: robotForm(code, `DEAL_${dealId}`, stack.portal.applicationToken) });
      expect(late.status).toBe(401);
      expect(await stack.services.automation.queue.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0 });
    });
  });

  describe('the handler', () => {
    it('refuses a call with a forged application_token with 401 and queues nothing', async () => {
      const dealId = stack.portal.userAddDeal({ title: 'x' } as never);
      await stack.idle();
      const response = await fetch(`${stack.appUrl}/bitrix24/robots`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: robotForm('reglament_rename_deal', `DEAL_${dealId}`, 'f'.repeat(32)),
      });
      expect(response.status).toBe(401);
      expect(await stack.services.automation.queue.count()).toBe(0);
      expect(await stack.services.automation.queue.getJobCounts('completed', 'failed')).toEqual({ completed: 0, failed: 0 });
      // The same form with the portal's own token is taken: only the token made the difference.
      const genuine = await fetch(`${stack.appUrl}/bitrix24/robots`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: robotForm('reglament_rename_deal', `DEAL_${dealId}`, stack.portal.applicationToken),
      });
      expect(genuine.status).toBe(200);
      expect(await stack.services.automation.queue.getJobs(['waiting', 'active', 'completed', 'failed'])).toHaveLength(1);
    });

    it('refuses a malformed document id with 400', async () => {
      const response = await fetch(`${stack.appUrl}/bitrix24/robots`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: robotForm('reglament_rename_deal', 'DEAL_1*', stack.portal.applicationToken),
      });
      expect(response.status).toBe(400);
      expect(await stack.services.automation.queue.count()).toBe(0);
    });
  });

  describe('each robot end to end', () => {
    it('«Переименовать сделку» names the deal by the template and answers with the title (even with the renamer’s own events off)', async () => {
      await setSetting(stack.services, installationId, 'dealRenamer.enabled', false);
      const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов', phones: ['+79991234567'] });
      const dealId = stack.portal.userAddDeal({ title: 'Сделка #1', contactId, ufCrmUnit: 'кв. 5-101' } as never);
      await stack.idle();
      expect(stack.portal.getDeal(dealId)?.title).toBe('Сделка #1');
      const answer = await run('reglament_rename_deal', { entity: 'deal', id: dealId });
      expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / Иванов Иван / кв. 5-101`);
      expect(answer.returnValues).toEqual({ title: `${dealId} / Иванов Иван / кв. 5-101` });
    });

    it('«Проверить переход по регламенту» answers whether a move is allowed, with the rule in Russian, and moves nothing', async () => {
      expect(await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }])).toMatchObject({ ok: true });
      const dealId = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0 } as never);
      await stack.idle();
      const forbidden = await run('reglament_check_transition', { entity: 'deal', id: dealId }, { toStage: 'EXECUTING' });
      expect(forbidden.returnValues.allowed).toBe('N');
      expect(String(forbidden.returnValues.violations)).toMatch(/[А-Яа-я]/);
      const missingUnit = await run('reglament_check_transition', { entity: 'deal', id: dealId }, { toStage: 'UC_BOOKING' });
      expect(missingUnit.returnValues).toEqual({ allowed: 'N', violations: 'Нельзя перейти из «Потребности выявлены» в «Бронь»: заполните поле «Объект».' });
      stack.portal.userUpdateDeal(dealId, { ufCrmUnit: 'кв. 3' } as never);
      await stack.idle();
      const allowed = await run('reglament_check_transition', { entity: 'deal', id: dealId }, { toStage: 'UC_BOOKING' });
      expect(allowed.returnValues).toEqual({ allowed: 'Y', violations: '' });
      expect(stack.portal.getDeal(dealId)?.stageId).toBe('NEW');
    });

    it('«Передать лид по распределению» assigns a manager from the roster, notifies them and answers who', async () => {
      await setSetting(stack.services, installationId, 'schedule', '24/7');
      const leadId = stack.portal.userAddLead({ title: 'Заявка с сайта', assignedById: 1 } as never, 1);
      await stack.idle();
      const answer = await run('reglament_distribute_lead', { entity: 'lead', id: leadId });
      const assigned = String(stack.portal.getLead(leadId)?.assignedById);
      expect(['2', '3', '4']).toContain(assigned);
      expect(answer.returnValues.responsibleId).toBe(assigned);
      expect(stack.portal.notifications.some((n) => String(n.userId) === assigned && n.message.includes('Заявка с сайта'))).toBe(true);
    });

    it('a failed answer is retried with the same result: the lead is assigned once, the manager notified once', async () => {
      await setSetting(stack.services, installationId, 'schedule', '24/7');
      const leadId = stack.portal.userAddLead({ title: 'Повторная заявка', assignedById: 1 } as never, 1);
      await stack.idle();
      stack.portal.failNext('bizproc.event.send');
      const answer = await run('reglament_distribute_lead', { entity: 'lead', id: leadId });
      const assigned = String(stack.portal.getLead(leadId)?.assignedById);
      expect(answer.returnValues.responsibleId).toBe(assigned);
      expect(robotCalls('bizproc.event.send').map((c) => c.error ?? 'ok')).toEqual(['INTERNAL_SERVER_ERROR', 'ok']);
      expect(stack.portal.notifications.filter((n) => n.message.includes('Повторная заявка'))).toHaveLength(1);
      expect(stack.portal.calls.filter((c) => c.method.startsWith('crm.') && c.method.endsWith('.update') && Number(c.params.id ?? c.params.ID) === leadId)).toHaveLength(1);
    });

    it('«Забронировать объект» books the deal’s flat in Profitbase and «Снять бронь» frees it, each answering the outcome', async () => {
      expect(await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }])).toMatchObject({ ok: true });
      await setSetting(stack.services, installationId, 'unitStatusSync.inventory', profitbaseConnection(stack));
      // The stage-driven sync is off: the automation designer drives bookings here.
      await setSetting(stack.services, installationId, 'unitStatusSync.enabled', false);
      const dealId = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'UC_MEETING', categoryId: 0, ufCrmUnit: 'кв. 3' } as never);
      await stack.idle();
      expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');
      const booked = await run('reglament_book_unit', { entity: 'deal', id: dealId });
      expect(booked.returnValues).toEqual({ booked: 'Y', outcome: 'written' });
      expect(stack.pb.unit(FLAT_3)!.status).toBe('BOOKED');
      expect(stack.pb.dealOf(FLAT_3)).toBe(dealId);
      const released = await run('reglament_release_unit', { entity: 'deal', id: dealId });
      expect(released.returnValues).toEqual({ released: 'Y', outcome: 'written' });
      expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');
    });

    it('a call delivered twice is acted on and answered once', async () => {
      await setSetting(stack.services, installationId, 'dealRenamer.enabled', false);
      const dealId = stack.portal.userAddDeal({ title: 'Сделка #2', ufCrmUnit: 'кв. 7' } as never);
      await stack.idle();
      const first = await stack.portal.runRobot('reglament_rename_deal', { entity: 'deal', id: dealId });
      await stack.portal.robotAnswer(first.eventToken);
      // The queue server delivers the same call again (same event_token): while the answered job is kept, it is the same job.
      const delivery = stack.portal.deliveries.find((d) => d.event === 'ROBOT')!;
      const redeliver = () => fetch(delivery.handler, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: delivery.body });
      expect((await redeliver()).status).toBe(200);
      // Later, after BullMQ let the finished job go, the call runs again and finds it answered.
      await stack.services.automation.queue.clean(0, 100, 'completed');
      expect((await redeliver()).status).toBe(200);
      await eventually(async () => expect(await stack.services.automation.queue.getJobCounts('completed')).toEqual({ completed: 1 }));
      const rerun = (await stack.services.automation.queue.getJobs(['completed']))[0]!;
      expect(rerun.returnvalue).toBe('already_answered');
      expect(stack.portal.robotAnswers.filter((a) => a.eventToken === first.eventToken)).toHaveLength(1);
      expect(robotCalls('bizproc.event.send').filter((c) => c.error)).toEqual([]);
      expect(stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === dealId)).toHaveLength(1);
    });
  });

  /** The documented form, as the queue server sends it (research/bitrix24.md §3.2). */
  function robotForm(code: string, document: string, applicationToken: string): string {
    return toPhpForm({
      workflow_id: '664fa13bbbb410.99176768',
      code,
      document_id: ['crm', 'CCrmDocumentDeal', document],
      document_type: ['crm', 'CCrmDocumentDeal', 'DEAL'],
      event_token: '664fa13bbbb410.99176768|A40364_79843_85254_57332|hsyUws1j4XiwqPqN.47dd5d888e8e549d',
      properties: {},
      use_subscription: 'Y',
      timeout_duration: '0',
      ts: String(Math.floor(Date.now() / 1000)),
      auth: { domain: stack.portal.domain, member_id: stack.portal.memberId, application_token: applicationToken },
    });
  }
});
