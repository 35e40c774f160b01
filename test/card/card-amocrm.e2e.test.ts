import { randomUUID } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { unzipSync } from 'fflate';
import { buildWidget } from '../../scripts/widget/build';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../helpers/local-stack';
import { setSettings } from '../helpers/takeover';
import { redisUrl } from '../helpers/test-services';
import { amoLeadRevertedByGuard, cardApi, signWidgetToken, widgetCardSession, type Json } from './card-helpers';

const ADMIN = 1;
const ANNA = 2;
const BORIS = 3;
const HEAD = 4;
const DAY = 24 * 3600_000;
/** A Monday, 11:00 in Moscow: working hours. */
const MONDAY_11 = '2026-11-30T08:00:00Z';

/**
 * The robot log in an amoCRM lead card: the widget's signed token becomes a card session of that lead,
 * and a head of sales undoes each kind of robot action through the same API as on Bitrix24.
 */
describe('card robot log on amoCRM (the widget in the lead card)', () => {
  let stack: LocalStack;
  let stage: (name: string) => number;
  let pipelineId: number;
  let installationId: string;

  async function start(options: Partial<LocalStackOptions> = {}) {
    stack = await startLocalStack({ redisUrl: redisUrl(), ...options });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    installationId = `amo:${stack.amo.accountId}`;
    // Nobody is exempt from the regulation, the app's own account included: only the undo's being the app's own write keeps it.
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market', overrides: { settings: { exempt: { roles: [] } } } }])).toMatchObject({ ok: true });
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)], 'dealRenamer.enabled': false });
  }
  afterEach(() => stack?.stop());

  const notes = (id: number) => stack.amo.notes(id).map((n) => String((n.params as { text?: string } | undefined)?.text ?? ''));
  const statusOf = (id: number) => stack.amo.getLead(id)?.status_id;

  async function headCard(leadId: number) {
    const granted = await widgetCardSession(stack, HEAD, leadId);
    expect([granted.status, granted.body.role]).toEqual([200, 'head_of_sales']);
    expect(granted.body.cardUrl).toMatch(new RegExp(`^${stack.appUrl}/apps/card/#installation=amo%3A`));
    return cardApi(stack, granted.body.session);
  }

  it('the widget token opens a card session once, for a lead of this account; a manager reads but may not undo', async () => {
    await start();
    const id = stack.amo.userAddLead({ name: 'Заявка', pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: ANNA }, ANNA);
    await stack.idle();
    const manager = await widgetCardSession(stack, ANNA, id);
    expect([manager.status, manager.body.role]).toEqual([200, 'viewer']);
    expect((await widgetCardSession(stack, ANNA, id, manager.token)).body.error).toBe('widget_token_reused');
    expect((await widgetCardSession(stack, ANNA, id, `${manager.token.slice(0, -3)}abc`)).status).toBe(401);
    expect((await widgetCardSession(stack, ANNA, 'abc')).status).toBe(400);
    expect((await widgetCardSession(stack, ANNA, 987_654)).status).toBe(404);
    // The widget calls from the account's page: a preflight from there is allowed, from elsewhere not.
    const preflight = (origin: string) => fetch(`${stack.appUrl}/amocrm/widget/card-session`, { method: 'OPTIONS', headers: { origin, 'access-control-request-headers': 'x-auth-token' } });
    const own = await preflight(new URL(stack.amo.url).origin);
    expect([own.status, own.headers.get('access-control-allow-origin')]).toEqual([204, new URL(stack.amo.url).origin]);
    expect((await preflight('https://evil.example')).status).toBe(403);
    const api = cardApi(stack, manager.body.session);
    expect((await api.log(installationId, 'deal', id)).status).toBe(200);
    expect((await api.log(installationId, 'deal', id + 1)).status).toBe(403);
    expect((await api.undo(installationId, '00000000-0000-4000-8000-000000000000')).status).toBe(403);
  });

  it('a stage guard revert undone: the lead goes to «Отправлено КП» as the manager chose, and the guard leaves it there', async () => {
    await start();
    const id = await amoLeadRevertedByGuard(stack, stage, pipelineId, ANNA);
    expect(statusOf(id)).toBe(stage('Встреча назначена'));

    const api = await headCard(id);
    const reverted = ((await api.log(installationId, 'deal', id)).body.entries as Json[]).find((e) => e.kind === 'stage_reverted');
    expect(reverted).toMatchObject({ robot: 'stageGuard', title: 'Вернул сделку на прежнюю стадию', canUndo: true });
    expect((await api.undo(installationId, reverted.id, 'встреча была онлайн')).status).toBe(200);
    await stack.idle();
    expect(statusOf(id)).toBe(stage('Отправлено КП'));
    expect(notes(id).at(-1)).toContain('Виктор Руководов (РОП) отменил(а) действие робота «Страж стадий»');
    expect(notes(id).at(-1)).toContain('Сделка возвращена на стадию «Отправлено КП»');
    expect((await api.undo(installationId, reverted.id)).body.error).toBe('already_undone');
    await stack.idle();
    expect(statusOf(id)).toBe(stage('Отправлено КП'));
  });

  it('a takeover reassignment undone: the lead goes back to the previous responsible', async () => {
    await start({ startAt: MONDAY_11 });
    const id = stack.amo.userAddLead({ name: 'Заявка с сайта', pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: ADMIN }, ADMIN);
    await stack.idle();
    expect(stack.amo.getLead(id)?.responsible_user_id).toBe(ANNA);
    stack.timeTravel(15 * 60_000);
    await stack.fireTimersDue();
    await stack.idle();
    expect(stack.amo.getLead(id)?.responsible_user_id).toBe(BORIS);

    const api = await headCard(id);
    const reassigned = ((await api.log(installationId, 'deal', id)).body.entries as Json[]).find((e) => e.kind === 'reassigned');
    expect(reassigned).toMatchObject({ robot: 'takeoverTimer', canUndo: true });
    expect((await api.undo(installationId, reassigned.id)).status).toBe(200);
    await stack.idle();
    expect(stack.amo.getLead(id)?.responsible_user_id).toBe(ANNA);
    expect(notes(id).at(-1)).toContain('Ответственным снова назначен(а) Анна Менеджерова');
  });

  it('a repeat closure undone: the lead is open again at «Новый лид», honest about what stays', async () => {
    await start();
    const contactId = stack.amo.userAddContact({ name: 'Иванов Иван', phones: ['+7 (999) 123-45-67'], emails: ['ivan@mail.ru'], responsible_user_id: BORIS }, BORIS);
    stack.amo.userAddLead({ name: 'Квартира 5-101', pipeline_id: pipelineId, status_id: stage('Встреча назначена'), responsible_user_id: BORIS, contactId }, BORIS);
    await stack.idle();
    stack.amo.advanceClock(7 * DAY);
    const newContact = stack.amo.userAddContact({ name: 'Иван', phones: ['8 916 111 22 33'], emails: ['IVAN@mail.ru'] }, ANNA);
    const id = stack.amo.userAddLead({ name: 'Заявка с сайта', pipeline_id: pipelineId, status_id: stage('Новый лид'), responsible_user_id: ANNA, contactId: newContact }, ANNA);
    await stack.idle();
    expect(statusOf(id)).toBe(143);

    const api = await headCard(id);
    const closed = ((await api.log(installationId, 'deal', id)).body.entries as Json[]).find((e) => e.kind === 'closed_as_repeat');
    expect(closed).toMatchObject({ robot: 'duplicateCatcher', canUndo: true });
    expect(closed.why).toMatch(/^Повторное обращение клиента/);
    expect((await api.undo(installationId, closed.id)).status).toBe(200);
    await stack.idle();
    expect(statusOf(id)).toBe(stage('Новый лид'));
    expect(notes(id).at(-1)).toContain('объединение контактов в CRM отменить нельзя');
  });

  /**
   * The built widget's script (npm run build:widget, pointed at this app) rendered in a lead card: amoCRM's
   * side is stood in for by a minimal jQuery and `$authorizedAjax` that posts the form with a freshly signed
   * X-Auth-Token, as amoCRM does. The widget frames the card page with a session the app issued for that lead.
   */
  it('the widget in a lead card frames the card page with a session of that lead, through which the head of sales undoes a revert', async () => {
    await start();
    const id = await amoLeadRevertedByGuard(stack, stage, pipelineId, ANNA);

    const script = Buffer.from(unzipSync(new Uint8Array(buildWidget({ publicUrl: stack.appUrl }).zip))['script.js']!).toString('utf8');
    let rendered = '';
    let framed = '';
    const requests: Array<Promise<unknown>> = [];
    const sent: Array<{ url: string; body: string }> = [];
    const $ = Object.assign((selector: string) => ({
      length: typeof selector === 'string' && rendered.includes(selector.replace(/^\./, '')) ? 1 : 0,
      last() { return this; },
      html(h: string) { framed = h; },
    }), { trim: (s: string) => s.trim() });
    let factory: ((...args: unknown[]) => unknown) | null = null;
    runInNewContext(script, { define: (_d: string[], f: (...args: unknown[]) => unknown) => void (factory = f), window: { AMOCRM: { lang_id: 'ru', data: { current_card: { id } } } } });
    const Widget = factory!($) as new () => Record<string, unknown> & { callbacks: { render: () => boolean } };
    const widget = new Widget();
    const config = stack.services.config;
    Object.assign(widget, {
      system: () => ({ area: 'lcard' }),
      get_settings: () => ({ widget_code: 'reglament' }),
      render_template: (o: { render: string }) => void (rendered = o.render),
      $authorizedAjax: (opts: { url: string; method: string; data: Record<string, string> }) => {
        const now = Math.floor(Date.now() / 1000);
        const token = signWidgetToken({ iss: 'https://developer.amocrm.ru', aud: new URL(config.AMOCRM_REDIRECT_URI ?? config.PUBLIC_URL).origin, jti: randomUUID(), iat: now, nbf: now, exp: now + 600, account_id: stack.amo.accountId, subdomain: 'developer', client_uuid: config.AMOCRM_CLIENT_ID, user_id: HEAD }, config.AMOCRM_CLIENT_SECRET!);
        const body = new URLSearchParams(opts.data).toString();
        sent.push({ url: opts.url, body });
        const answer = fetch(opts.url, { method: opts.method, headers: { 'x-auth-token': token, 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', origin: new URL(stack.amo.url).origin }, body })
          .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))));
        requests.push(answer.catch(() => undefined));
        const deferred = { done: (cb: (a: unknown) => void) => (answer.then(cb, () => undefined), deferred), fail: (cb: () => void) => (answer.catch(cb), deferred) };
        return deferred;
      },
    });
    expect(widget.callbacks.render()).toBe(true);
    await Promise.all(requests);
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([{ url: `${stack.appUrl}/amocrm/widget/card-session`, body: `leadId=${id}&lang=ru` }]);
    const src = /src="([^"]+)"/.exec(framed)?.[1]?.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
    expect(src).toMatch(new RegExp(`^${stack.appUrl}/apps/card/#`));
    const fragment = new URLSearchParams(src!.split('#')[1]);
    expect([fragment.get('entity'), fragment.get('id'), fragment.get('role')]).toEqual(['deal', String(id), 'head_of_sales']);
    expect((await fetch(src!.split('#')[0]!)).status).toBe(200);

    const api = cardApi(stack, fragment.get('session')!);
    const reverted = ((await api.log(installationId, 'deal', id)).body.entries as Json[]).find((e) => e.kind === 'stage_reverted');
    expect((await api.undo(installationId, reverted.id)).status).toBe(200);
    await stack.idle();
    expect(statusOf(id)).toBe(stage('Отправлено КП'));
  });
});
