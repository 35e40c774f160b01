/**
 * Reglament's action in amoCRM's Digital Pipeline (issue 12, item 6): an account administrator
 * places it on a stage in the widget's DP settings (the widget fetches the account's key from the
 * app and keeps it in the action's hidden field); when a lead enters that stage, amoCRM POSTs the
 * DP event to /amocrm/dp, and the worker performs the action with the robots' own code and
 * writes the outcome as a note in the lead. The account is the emulator; the app is the real web + worker.
 */
import { encryptionKeyBytes } from '../../src/config';
import { dpKeyFor } from '../../src/installations/amocrm-dp-key';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { toPhpForm } from '../emulators/form-encode';
import { signWidgetToken, widgetTokenClaims } from '../helpers/amocrm-widget-token';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { setSetting } from '../helpers/inventory';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

const ADMIN = 1;
const MANAGER = 2;

describe('Reglament in the amoCRM Digital Pipeline', () => {
  let stack: LocalStack;
  let installationId: string;
  let stage: (name: string) => number;
  let pipelineId: number;
  let dpUrl: string;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market' }])).toMatchObject({ ok: true });
    dpUrl = `${stack.appUrl}/amocrm/dp`;
  });
  afterEach(() => stack.stop());

  /** What the widget's dpSettings does: asks the app for the account's key with amoCRM's disposable token. */
  function askForKey(token: string, origin?: string) {
    return fetch(`${stack.appUrl}/amocrm/widget/dp-key`, {
      method: 'POST',
      headers: { 'x-auth-token': token, 'content-type': 'application/json', ...(origin ? { origin } : {}) },
      body: '{}',
    });
  }
  const tokenOf = (userId: number, over: Record<string, unknown> = {}) =>
    signWidgetToken(widgetTokenClaims(stack, { user_id: userId, is_admin: userId === ADMIN, ...over }), stack.services.config.AMOCRM_CLIENT_SECRET);

  async function adminPlaces(action: string, at: string): Promise<void> {
    const answer = await askForKey(tokenOf(ADMIN));
    expect(answer.status).toBe(200);
    const { key } = (await answer.json()) as { key: string };
    stack.amo.adminPlacesWidgetDpAction(stage(at), { action, reglament_key: key }, dpUrl, pipelineId);
  }

  const unitField = () => stack.amo.leadFieldId('Объект');
  const meeting = () => [
    { field_id: stack.amo.leadFieldId('Дата встречи'), values: [{ value: 1795600000 }] },
    { field_id: stack.amo.leadFieldId('Время встречи'), values: [{ value: '15:00' }] },
    { field_id: stack.amo.leadFieldId('Место встречи'), values: [{ value: 'офис продаж на Ленина, 1' }] },
  ];
  async function lead(name: string, at: string, extra: { contactId?: number; custom_fields_values?: Array<{ field_id: number; values: Array<{ value: unknown }> }> } = {}) {
    const id = stack.amo.userAddLead({ name, pipeline_id: pipelineId, status_id: stage(at), responsible_user_id: MANAGER, ...extra }, MANAGER);
    await stack.idle();
    return id;
  }
  async function move(id: number, to: string) {
    stack.amo.userMoveLead(id, stage(to), MANAGER);
    await stack.idle();
  }
  const reglamentNotes = (id: number) => stack.amo.notes(id).map((n) => String((n.params as { text?: string } | undefined)?.text ?? '')).filter((t) => t.startsWith('Цифровая воронка'));
  const renames = (id: number) => stack.amo.calls.filter((c) => c.method === 'PATCH' && c.path === `/api/v4/leads/${id}` && (c.body as { name?: string })?.name);
  const jobs = () => stack.services.automation.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  const noJobs = { waiting: 0, active: 0, delayed: 0, prioritized: 0, completed: 0, failed: 0 };

  it('«Переименовать сделку» placed by the admin renames the lead when it enters the stage, and says so in a note', async () => {
    await setSetting(stack.services, installationId, 'dealRenamer.enabled', false);
    await adminPlaces('rename_deal', 'Потребности выявлены');
    const contactId = stack.amo.userAddContact({ name: 'Петров Пётр', phones: ['+79990001122'] });
    const id = await lead('Заявка с сайта', 'Передан в работу', { contactId, custom_fields_values: [{ field_id: unitField(), values: [{ value: 'кв. 12-3' }] }] });
    expect(stack.amo.getLead(id)?.name).toBe('Заявка с сайта');
    await move(id, 'Потребности выявлены');
    expect(stack.amo.getLead(id)?.name).toBe(`${id} / Петров Пётр / кв. 12-3`);
    expect(reglamentNotes(id)).toEqual([`Цифровая воронка, «Переименовать сделку»: Название сделки: «${id} / Петров Пётр / кв. 12-3».`]);
    // amoCRM sent the documented JSON once, and the app took it at once.
    expect(stack.amo.dpDeliveries.map((d) => d.status)).toEqual([200]);
    expect(JSON.parse(stack.amo.dpDeliveries[0]!.body)).toMatchObject({
      event: { type: 14, type_code: 'lead_status_changed', data: { id, element_type: 2, status_id: stage('Потребности выявлены'), pipeline_id: pipelineId } },
      subdomain: stack.amo.subdomain,
      account_id: stack.amo.accountId,
    });
  });

  it('a lead entering another stage does not trigger the action', async () => {
    await setSetting(stack.services, installationId, 'dealRenamer.enabled', false);
    await adminPlaces('rename_deal', 'Встреча назначена');
    const id = await lead('Заявка', 'Передан в работу');
    await move(id, 'Не дозвонились');
    expect(stack.amo.dpDeliveries).toEqual([]);
    expect(stack.amo.getLead(id)?.name).toBe('Заявка');
    expect(await jobs()).toEqual(noJobs);
  });

  it('«Проверить переход по регламенту» writes the verdict into the lead in Russian and moves nothing', async () => {
    // The stage guard's own reverts are off: the Digital Pipeline asks for the verdict instead.
    await setSetting(stack.services, installationId, 'stageGuard.enabled', false);
    await adminPlaces('check_transition', 'Отправлено КП');
    await adminPlaces('check_transition', 'Встреча назначена');
    const id = await lead('Клиент', 'Передан в работу', { custom_fields_values: meeting() });
    await move(id, 'Встреча назначена');
    expect(reglamentNotes(id)).toEqual(['Цифровая воронка, «Проверить переход по регламенту»: Переход разрешён регламентом.']);
    // Skipping «Встреча состоялась» breaks the regulation: the note says which rule.
    await move(id, 'Отправлено КП');
    const [, verdict] = reglamentNotes(id);
    expect(verdict).toMatch(/^Цифровая воронка, «Проверить переход по регламенту»: Переход нарушает регламент\. Нельзя .*«Встреча состоялась»/);
    expect(stack.amo.getLead(id)?.status_id).toBe(stage('Отправлено КП'));
  });

  it('the same DP event delivered twice acts once and writes one note', async () => {
    await setSetting(stack.services, installationId, 'dealRenamer.enabled', false);
    await adminPlaces('rename_deal', 'Потребности выявлены');
    const id = await lead('Повтор', 'Передан в работу', { custom_fields_values: [{ field_id: unitField(), values: [{ value: 'кв. 7' }] }] });
    await move(id, 'Потребности выявлены');
    const delivered = stack.amo.dpDeliveries[0]!.body;
    const redeliver = () => fetch(dpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: delivered });
    // While the finished job is kept, the same event is the same job.
    expect((await redeliver()).status).toBe(200);
    await stack.idle();
    expect(await stack.services.automation.queue.getJobCounts('completed')).toEqual({ completed: 1 });
    // After BullMQ let it go, the event runs again and finds its note written.
    await stack.services.automation.queue.clean(0, 100, 'completed');
    expect((await redeliver()).status).toBe(200);
    await eventually(async () => expect(await stack.services.automation.queue.getJobCounts('completed')).toEqual({ completed: 1 }));
    expect((await stack.services.automation.queue.getJobs(['completed']))[0]!.returnvalue).toBe('already_answered');
    expect(renames(id)).toHaveLength(1);
    expect(reglamentNotes(id)).toHaveLength(1);
    // A later entry into the stage is another event (another time): it acts again.
    stack.amo.advanceClock(5000);
    await move(id, 'Передан в работу');
    await move(id, 'Потребности выявлены');
    expect(reglamentNotes(id)).toHaveLength(2);
  });

  describe('calls to /amocrm/dp: forged ones are refused and queue nothing', () => {
    let leadId: number;
    let genuine: { event: Record<string, unknown>; action: { settings: { widget: { settings: Record<string, string> } } }; subdomain: string; account_id: number };

    beforeEach(async () => {
      await setSetting(stack.services, installationId, 'dealRenamer.enabled', false);
      leadId = await lead('Заявка', 'Передан в работу');
      const { key } = (await (await askForKey(tokenOf(ADMIN))).json()) as { key: string };
      genuine = {
        event: { type: 14, type_code: 'lead_status_changed', data: { id: leadId, element_type: 2, status_id: stage('Передан в работу'), pipeline_id: pipelineId, direction_of_movement: 'went_to_trigger' }, time: Math.floor(Date.now() / 1000) },
        action: { settings: { widget: { settings: { action: 'rename_deal', reglament_key: key } } } },
        subdomain: stack.amo.subdomain,
        account_id: stack.amo.accountId,
      };
    });

    const post = (body: unknown) => fetch(dpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const withSettings = (settings: Record<string, string>) => ({ ...genuine, action: { settings: { widget: { settings } } } });

    it.each([
      ['no key', () => withSettings({ action: 'rename_deal' }), 'invalid_dp_key'],
      ['a wrong key', () => withSettings({ action: 'rename_deal', reglament_key: 'A'.repeat(43) }), 'invalid_dp_key'],
      ["another account's key", () => withSettings({ action: 'rename_deal', reglament_key: dpKeyFor(encryptionKeyBytes(stack.services.config), 'amo:31000002') }), 'invalid_dp_key'],
      ['this key for another account', () => ({ ...genuine, account_id: 31000002 }), 'invalid_dp_key'],
      ['the key with another subdomain', () => ({ ...genuine, subdomain: 'someone-else' }), 'account_mismatch'],
    ])('%s → 401', async (_case, body, error) => {
      const answer = await post(body());
      expect(answer.status).toBe(401);
      expect(await answer.json()).toEqual({ error });
      expect(await jobs()).toEqual(noJobs);
    });

    it.each([
      ['a contact, not a lead', { data: { element_type: 1 } }, 'event.data.element_type'],
      ['a lead id that is not a number', { data: { id: '1*' } }, 'event.data.id'],
      ['an unknown event type', { type: 16, type_code: 'mail_in' }, 'event.type_code'],
      ['a type that does not match its code', { type: 15 }, 'event.type'],
    ])('%s → 400 naming the field', async (_case, change, path) => {
      const event = { ...genuine.event, ...change, data: { ...(genuine.event.data as object), ...((change as { data?: object }).data ?? {}) } };
      const answer = await post({ ...genuine, event });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { reason: string }).reason).toContain(path);
      expect(await jobs()).toEqual(noJobs);
    });

    it('an unknown action or account id → 400', async () => {
      expect((await post(withSettings({ action: 'drop_leads', reglament_key: genuine.action.settings.widget.settings.reglament_key! }))).status).toBe(400);
      expect((await post({ ...genuine, account_id: 'abc' })).status).toBe(400);
      expect((await fetch(dpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"event":' })).status).toBe(400);
      expect(await jobs()).toEqual(noJobs);
    });

    it('the genuine event is taken, JSON or form-encoded (the content type is not documented)', async () => {
      expect((await post(genuine)).status).toBe(200);
      const form = await fetch(dpUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: toPhpForm({ ...genuine, event: { ...genuine.event, time: Number(genuine.event.time) + 1 } }) });
      expect(form.status).toBe(200);
      await stack.idle();
      expect(await stack.services.automation.queue.getJobCounts('completed', 'failed')).toEqual({ completed: 2, failed: 0 });
    });
    it('an account whose access was revoked → 403, even with its key', async () => {
      await stack.services.store.markRevoked(installationId, 'refresh token revoked');
      // The edge's installation cache hears of it through the invalidation bus.
      await eventually(async () => expect((await stack.services.edgeInstallations.find(installationId))?.status).toBe('revoked'));
      expect((await post(genuine)).status).toBe(403);
      expect(await jobs()).toEqual(noJobs);
    });

    it('an event for a lead deleted meanwhile writes nothing and does not fail', async () => {
      stack.amo.userDeleteLead(leadId);
      await stack.idle();
      expect((await post(genuine)).status).toBe(200);
      await stack.idle();
      expect(await stack.services.automation.queue.getJobCounts('completed', 'failed')).toEqual({ completed: 1, failed: 0 });
      expect((await stack.services.automation.queue.getJobs(['completed']))[0]!.returnvalue).toBe('target_gone');
      expect(stack.amo.calls.filter((c) => c.method === 'POST' && c.path.includes('/notes'))).toEqual([]);
    });
  });

  describe('the key', () => {
    it('is handed to an account administrator only: a manager, a forged token and a reused token are refused', async () => {
      const manager = await askForKey(tokenOf(MANAGER));
      expect(manager.status).toBe(403);
      expect(await manager.json()).toEqual({ error: 'not_allowed' });
      expect((await askForKey(signWidgetToken(widgetTokenClaims(stack, { user_id: ADMIN }), 'not-the-secret'))).status).toBe(401);
      expect((await askForKey(tokenOf(ADMIN, { account_id: 31000002 }))).status).toBe(401);
      const token = tokenOf(ADMIN);
      const granted = await askForKey(token);
      expect(granted.status).toBe(200);
      expect(await granted.json()).toEqual({ key: dpKeyFor(encryptionKeyBytes(stack.services.config), installationId) });
      expect((await askForKey(token)).status).toBe(401);
    });

    it('is answered cross-origin only to the account’s own page', async () => {
      const own = new URL(stack.amo.url).origin;
      const granted = await askForKey(tokenOf(ADMIN), own);
      expect(granted.status).toBe(200);
      expect(granted.headers.get('access-control-allow-origin')).toBe(own);
      expect((await askForKey(tokenOf(ADMIN), 'https://other.amocrm.ru')).status).toBe(403);
    });
  });
});
