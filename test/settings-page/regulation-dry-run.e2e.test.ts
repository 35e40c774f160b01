import request from 'supertest';
import type { AmocrmWidgetTokenVerifier } from '../../src/settings-access/amocrm-widget';
import { SessionSigner } from '../../src/settings-access/session';
import { createWebApp } from '../../webhooks/server';
import { setupAmoPrimaryMarket, setupBitrix24SalesFunnel } from '../helpers/funnels';
import { BITRIX24_APP, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

const DAY = 24 * 3600 * 1000;
const CONTRACT = { ufCrmUnit: 'кв. 5-101', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' };

/**
 * Before a regulation is switched on, the last 30 days of the funnel are replayed under it: the
 * head of sales sees what would have been put back, by rule and by manager, then switches it on —
 * on the emulated Bitrix24 portal and amoCRM account, with a seeded history of 40 days.
 */
describe('regulation dry run and switch from the settings API', () => {
  let stack: LocalStack;
  let b24: string;
  let amo: string;
  const deals: Record<string, number> = {};
  const leads: Record<string, number> = {};
  let stage: (name: string) => number;
  let pipelineId: number;

  beforeAll(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), startAt: new Date(Date.now() - 40 * DAY).toISOString() });
    setupBitrix24SalesFunnel(stack.portal);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    b24 = `b24:${stack.portal.memberId}`;
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    amo = `amo:${stack.amo.accountId}`;
    const field = (name: string) => stack.amo.leadFieldId(name);
    const meeting = [
      { field_id: field('Дата встречи'), values: [{ value: 1795600000 }] },
      { field_id: field('Время встречи'), values: [{ value: '15:00' }] },
      { field_id: field('Место встречи'), values: [{ value: 'офис продаж' }] },
    ];
    const deal = (key: string, fields: Record<string, unknown>, manager: number) => (deals[key] = stack.portal.userAddDeal({ title: `Сделка ${key}`, stageId: 'NEW', categoryId: 0, assignedById: manager, ...fields } as never, manager));
    const lead = (key: string, at: string, manager: number, custom_fields_values: unknown[] = []) =>
      (leads[key] = stack.amo.userAddLead({ name: `Заявка ${key}`, pipeline_id: pipelineId, status_id: stage(at), responsible_user_id: manager, custom_fields_values } as never, manager));
    const moveDeal = (key: string, to: string, by: number) => stack.portal.userMoveDeal(deals[key]!, to, by);
    const moveLead = (key: string, to: string | number, by: number) => stack.amo.userMoveLead(leads[key]!, typeof to === 'number' ? to : stage(to), by);

    // 40 days ago: a contract straight from the first call, and a sale without a meeting — too old to count.
    deal('old', CONTRACT, 3);
    moveDeal('old', 'EXECUTING', 3);
    lead('old', 'Передан в работу', 3);
    moveLead('old', 142, 3);
    await stack.idle();
    // 35 days ago: booked and contracted properly (Bitrix24); a meeting set and held (amoCRM).
    stack.timeTravel(5 * DAY);
    deal('prior', CONTRACT, 2);
    moveDeal('prior', 'UC_BOOKING', 2);
    moveDeal('prior', 'EXECUTING', 2);
    lead('prior', 'Передан в работу', 2, meeting);
    moveLead('prior', 'Встреча назначена', 2);
    moveLead('prior', 'Встреча состоялась', 2);
    moveLead('prior', 'Отправлено КП', 2);
    await stack.idle();
    // 15 days ago, inside the window.
    stack.timeTravel(20 * DAY);
    deal('contract', CONTRACT, 2);
    moveDeal('contract', 'EXECUTING', 2); // breaks: no such move, «Бронь» skipped
    deal('booked', { ufCrmUnit: 'кв. 7' }, 3);
    moveDeal('booked', 'UC_BOOKING', 3); // complies
    deal('lost', {}, 2);
    moveDeal('lost', 'LOSE', 2); // breaks on today's values: no loss reason
    moveDeal('prior', 'FINAL_INVOICE', 2); // complies: «Бронь» was passed 35 days ago
    lead('sale', 'Передан в работу', 2);
    moveLead('sale', 142, 2); // breaks: no held meeting
    lead('meeting', 'Передан в работу', 3, meeting);
    moveLead('meeting', 'Встреча назначена', 3); // complies
    lead('empty', 'Передан в работу', 3);
    moveLead('empty', 'Встреча назначена', 3); // breaks on today's values: no date, time, place
    moveLead('prior', 'ОС получена', 2);
    moveLead('prior', 142, 2); // complies: the meeting was held 35 days ago
    await stack.idle();
    // Enough moves that comply for the history to take several pages (Bitrix24: 50 rows, amoCRM: 100 events).
    for (let i = 0; i < 30; i++) {
      deal(`bulk${i}`, { ufCrmUnit: `кв. ${i}` }, 3);
      moveDeal(`bulk${i}`, 'UC_BOOKING', 3);
    }
    for (let i = 0; i < 55; i++) {
      lead(`bulk${i}`, 'Передан в работу', 3);
      moveLead(`bulk${i}`, 'Не дозвонились', 3);
      moveLead(`bulk${i}`, 'Потребности выявлены', 3);
    }
    await stack.idle(120_000);
    stack.timeTravel(15 * DAY);
  });
  afterAll(() => stack.stop());

  /** A Bitrix24 administrator's session, the way the portal's frame gets it. */
  async function b24Session(userId = 1): Promise<string> {
    const frame = stack.portal.appFrame(userId);
    const answer = await request(stack.appUrl).post(`/apps/bitrix24/settings?${new URLSearchParams(frame.query)}`).type('form').send(frame.form);
    expect(answer.status).toBe(303);
    return new URLSearchParams(String(answer.headers.location).split('#')[1]).get('session')!;
  }
  const verifier: AmocrmWidgetTokenVerifier = { verify: async (t) => (t === 'admin' ? { accountId: String(stack.amo.accountId), userId: '1' } : null) };
  const amoApp = () => createWebApp(stack.services, { amocrmWidgetVerifier: verifier });
  async function amoSession(): Promise<string> {
    return (await request(amoApp()).post('/amocrm/widget/settings-session').send({ token: 'admin' }).expect(200)).body.session;
  }
  const regulations = async (id: string) => ((await stack.services.store.find(id))!.settings.stageGuard as { regulations?: unknown } | undefined)?.regulations;

  const B24_SPEC = { preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } };

  it('Bitrix24: the last 30 days under the deal regulation — reverts by rule and by responsible manager, the 40-day-old move left out', async () => {
    const auth = { Authorization: `Bearer ${await b24Session()}` };
    const callsBefore = stack.portal.calls.length;
    const report = (await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send(B24_SPEC).expect(200)).body;

    expect(report.period.days).toBe(30);
    expect(report.capped).toBe(false);
    expect(report.attribution).toBe('responsible');
    expect(report.fieldValues).toBe('current');
    expect(report.wouldRevert).toBe(2);
    expect(report.wouldRevertFromHistory).toBe(1);
    const byRule = Object.fromEntries(report.byRule.map((r: { id: string; count: number }) => [r.id, r.count]));
    expect(byRule).toEqual({ 'transition_denied:0': 1, 'skipped_stage:booking': 1, 'reason_empty:lost:loss_reason': 1 });
    expect(report.byManager).toEqual([{ userId: '2', name: 'Мария Менеджерова', count: 2 }]);
    const examples = report.byRule.flatMap((r: { examples: Array<{ dealId: string; url: string }> }) => r.examples);
    expect(new Set(examples.map((e: { dealId: string }) => e.dealId))).toEqual(new Set([String(deals.contract), String(deals.lost)]));
    expect(examples.every((e: { url: string }) => e.url.endsWith(`/crm/deal/details/${(e as unknown as { dealId: string }).dealId}/`))).toBe(true);
    // The old move is outside the window; the deal contracted 35 days ago after a booking is not flagged.
    expect(report.reverts.map((r: { dealId: string }) => r.dealId)).not.toContain(String(deals.old));
    expect(report.reverts.map((r: { dealId: string }) => r.dealId)).not.toContain(String(deals.prior));
    expect(report.transitions).toBe(34); // 30 bulk bookings and four moves; the 33 creations in the window are rows, not moves
    // The history was read through the client, page after page by key, the deals' earlier stages in batches; nothing written.
    const calls = stack.portal.calls.slice(callsBefore);
    const pages = calls.filter((c) => c.method === 'crm.stagehistory.list' && !c.viaBatch);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.slice(1).every((c) => JSON.stringify(c.params).includes('<ID'))).toBe(true);
    expect(calls.some((c) => c.method === 'crm.stagehistory.list' && c.viaBatch)).toBe(true);
    expect(calls.some((c) => c.method === 'crm.item.update' || c.method === 'crm.timeline.comment.add')).toBe(false);
    expect(report.enabled).toBe(false);
    expect(report.stageGuardOn).toBe(true);
    expect(await regulations(b24)).toBeUndefined();
  });

  it('a long portal is capped at maxTransitions and says so; without field values only the history’s proof counts', async () => {
    const auth = { Authorization: `Bearer ${await b24Session()}` };
    const capped = (await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ ...B24_SPEC, maxTransitions: 2 }).expect(200)).body;
    expect(capped.capped).toBe(true);
    expect(capped.transitions).toBeLessThanOrEqual(2);
    const noFields = (await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ ...B24_SPEC, fieldValues: 'not_replayed' }).expect(200)).body;
    expect(noFields.fieldValues).toBe('not_replayed');
    expect(noFields.wouldRevert).toBe(1);
    // Over 45 days the 40-day-old contract counts too: the window, not chance, left it out.
    const longer = (await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ ...B24_SPEC, days: 45 }).expect(200)).body;
    expect(longer.reverts.map((r: { dealId: string }) => r.dealId)).toContain(String(deals.old));
    expect(longer.wouldRevert).toBe(3);
  });

  it('a bad spec is refused at its path and changes nothing; another installation’s id is refused', async () => {
    const session = await b24Session();
    const auth = { Authorization: `Bearer ${session}` };
    const malformed = await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ preset: 7 }).expect(400);
    expect(malformed.body.issues).toEqual([expect.objectContaining({ path: 'preset' })]);
    const noFunnel = await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ preset: 'bitrix24-deals-004', overrides: { funnelId: '77' } }).expect(422);
    expect(noFunnel.body.issues).toEqual([expect.objectContaining({ path: 'overrides.funnelId', message: expect.stringContaining('77') })]);
    const unknownPreset = await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ preset: 'no-such-preset' }).expect(422);
    expect(unknownPreset.body.issues[0].path).toBe('preset');

    // This installation's session opens nothing of another's, and no session opens nothing at all.
    await request(stack.appUrl).post(`/api/regulation/${amo}/dry-run`).set(auth).send({ preset: 'amocrm-primary-market' }).expect(401);
    const otherPortal = `b24:${'a'.repeat(32)}`;
    await request(stack.appUrl).post(`/api/regulation/${otherPortal}/dry-run`).set(auth).send(B24_SPEC).expect(403);
    await request(stack.appUrl).post(`/api/regulation/${otherPortal}/enable`).set(auth).send(B24_SPEC).expect(403);
    const ofOther = new SessionSigner(BITRIX24_APP.clientSecret).issue({ installationId: otherPortal, userId: '1', role: 'admin' }, stack.services.now().getTime()).token;
    expect((await request(stack.appUrl).post(`/api/regulation/${b24}/enable`).set({ Authorization: `Bearer ${ofOther}` }).send(B24_SPEC).expect(403)).body.error).toBe('session_of_another_installation');
    await request(stack.appUrl).post(`/api/regulation/${b24}/enable`).send(B24_SPEC).expect(401);
    await request(stack.appUrl).post(`/api/regulation/b24:*/dry-run`).set(auth).send(B24_SPEC).expect(400);
    expect(await regulations(b24)).toBeUndefined();
  });

  it('the dry run replays the regulation as edited on the page: a closed move, a dropped «never skip», an added required field', async () => {
    const auth = { Authorization: `Bearer ${await b24Session()}` };
    const dryRun = async (overrides: Record<string, unknown>) => (await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', ...overrides } }).expect(200)).body;
    const counts = (report: { byRule: Array<{ id: string; count: number }> }) => Object.fromEntries(report.byRule.map((r) => [r.id, r.count]));

    // The matrix as the editor writes it, with «Потребности выявлены → Бронь» closed: the 31 bookings
    // managers made straight from the first call in these 30 days would now have been put back (and the
    // contract straight from the first call is «not provided for» now, the preset's deny rule being replaced).
    const matrix = await dryRun({
      transitions: {
        allow: [
          { from: 'needs_identified', to: ['meeting_set', 'meeting_held'] },
          { from: 'meeting_set', to: ['meeting_held', 'booking'] },
          { from: 'booking', to: ['contract'] },
          { from: 'contract', to: ['registration'] },
          { from: '@process', to: '@failure' },
        ],
      },
    });
    expect(counts(matrix)).toEqual({ transition_not_allowed: 32, 'skipped_stage:booking': 1, 'reason_empty:lost:loss_reason': 1 });
    const booked = matrix.reverts.filter((r: { dealId: string }) => r.dealId === String(deals.booked));
    expect(booked).toEqual([expect.objectContaining({ from: 'Потребности выявлены', to: 'Бронь' })]);
    expect(matrix.wouldRevert).toBe(33); // moves, not breaches: the contract breaks two rules in one move
    expect(matrix.spec.overrides.transitions.allow[0].to).toEqual(['meeting_set', 'meeting_held']);

    // «Бронь» may be skipped now, and it needs the passport too (judged on the deals' current values).
    const rules = await dryRun({ mustNotSkip: [], stageRules: { booking: { requiredFields: ['unit', 'passport'] } } });
    expect(counts(rules)).toEqual({ 'transition_denied:0': 1, 'required_field_empty:booking:passport': 31, 'reason_empty:lost:loss_reason': 1 });
    expect(rules.byRule.find((r: { id: string }) => r.id === 'required_field_empty:booking:passport').basis).toBe('current_values');
    // Another spec, another hash: switching on one cannot switch on the other.
    expect(rules.specHash).not.toBe(matrix.specHash);

    // An edit that does not bind is refused at its path inside the overrides, as on save.
    const bad = await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send({ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', stageRules: { booking: { requiredFields: ['parking'] } } } }).expect(422);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: expect.stringMatching(/^overrides\.stageRules\.booking\.requiredFields/) })]);
    expect(await regulations(b24)).toBeUndefined();
  });

  it('switching on saves exactly the regulation dry-run, once; then the stage guard enforces it', async () => {
    const auth = { Authorization: `Bearer ${await b24Session()}` };
    const report = (await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send(B24_SPEC).expect(200)).body;
    // Another spec with this hash is not what was shown.
    await request(stack.appUrl).post(`/api/regulation/${b24}/enable`).set(auth).send({ ...B24_SPEC, overrides: { funnelId: '0', settings: { locale: 'en' } }, specHash: report.specHash }).expect(409);
    expect(await regulations(b24)).toBeUndefined();

    const first = await request(stack.appUrl).post(`/api/regulation/${b24}/enable`).set(auth).send({ ...B24_SPEC, specHash: report.specHash }).expect(200);
    expect(first.body).toMatchObject({ enabled: true, changed: true });
    expect(await regulations(b24)).toEqual([B24_SPEC]);
    const again = await request(stack.appUrl).post(`/api/regulation/${b24}/enable`).set(auth).send({ ...B24_SPEC, specHash: report.specHash }).expect(200);
    expect(again.body.changed).toBe(false);
    expect(await regulations(b24)).toEqual([B24_SPEC]);
    // The settings history has the switch-on once: the session's user, in the regulation editor.
    const history = (await request(stack.appUrl).get(`/api/settings/${b24}/history`).set(auth).expect(200)).body.entries;
    expect(history).toEqual([expect.objectContaining({ by: expect.objectContaining({ kind: 'user', role: 'admin' }), via: 'regulation_editor', changes: [{ path: 'stageGuard.regulations', after: [B24_SPEC] }] })]);
    expect((await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send(B24_SPEC).expect(200)).body.enabled).toBe(true);

    // The same move as in the history, now: put back.
    const id = stack.portal.userAddDeal({ title: 'Сделка после включения', stageId: 'NEW', categoryId: 0, assignedById: 2, ...CONTRACT } as never, 2);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'EXECUTING', 2);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');

    // Run again: the manager's move counts, the guard's own move back is recognised and not judged.
    const after = (await request(stack.appUrl).post(`/api/regulation/${b24}/dry-run`).set(auth).send(B24_SPEC).expect(200)).body;
    expect(after.appMoves).toBe(1);
    expect(after.reverts.filter((r: { dealId: string }) => r.dealId === String(id)).map((r: { to: string }) => r.to)).toEqual(['Договор']);
    expect(after.wouldRevert).toBe(report.wouldRevert + 1);
  });

  describe('amoCRM', () => {
    const AMO_SPEC = { preset: 'amocrm-primary-market', overrides: {} };

    it('the last 30 days of «Первичный рынок»: reverts by rule and by the manager who moved, with links to the leads', async () => {
      const app = amoApp();
      const auth = { Authorization: `Bearer ${await amoSession()}` };
      const presets = (await request(app).get(`/api/regulation/${amo}/presets`).set(auth).expect(200)).body.presets;
      expect(presets.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['amocrm-primary-market']));
      expect(presets.every((p: { crm: string }) => p.crm === 'amocrm')).toBe(true);

      const report = (await request(app).post(`/api/regulation/${amo}/dry-run`).set(auth).send(AMO_SPEC).expect(200)).body;
      expect(report.attribution).toBe('mover');
      expect(report.wouldRevert).toBe(2);
      expect(report.wouldRevertFromHistory).toBe(1);
      const byRule = Object.fromEntries(report.byRule.map((r: { id: string; count: number }) => [r.id, r.count]));
      expect(byRule).toMatchObject({ 'skipped_stage:meeting_held': 1, 'required_field_empty:meeting_set:meeting_date': 1 });
      expect(report.byManager).toEqual(
        expect.arrayContaining([
          { userId: '2', name: 'Анна Менеджерова', count: 1 },
          { userId: '3', name: 'Борис Продажин', count: 1 },
        ]),
      );
      const flagged = report.reverts.map((r: { dealId: string }) => r.dealId);
      expect(flagged.sort()).toEqual([String(leads.sale), String(leads.empty)].sort());
      const example = report.byRule.find((r: { id: string }) => r.id === 'skipped_stage:meeting_held').examples[0];
      expect(example).toMatchObject({ dealId: String(leads.sale), url: `${stack.amo.url}/leads/detail/${leads.sale}`, to: 'Успешно реализовано' });
      // The lead whose meeting was held 35 days ago is not flagged; the 40-day-old sale is outside the window.
      expect(flagged).not.toContain(String(leads.prior));
      expect(flagged).not.toContain(String(leads.old));
      // 110+ status events in the window: read in pages of 100.
      expect(report.transitions).toBe(115);
      expect(stack.amo.calls.some((c) => c.method === 'GET' && c.path === '/api/v4/events' && String(c.query.page) === '2')).toBe(true);
    });

    it('switched on, it is saved for the account, and a Bitrix24 session cannot touch it', async () => {
      const app = amoApp();
      const auth = { Authorization: `Bearer ${await amoSession()}` };
      const report = (await request(app).post(`/api/regulation/${amo}/dry-run`).set(auth).send(AMO_SPEC).expect(200)).body;
      await request(app).post(`/api/regulation/${amo}/enable`).set({ Authorization: `Bearer ${await b24Session()}` }).send({ ...AMO_SPEC, specHash: report.specHash }).expect(401);
      expect(await regulations(amo)).toBeUndefined();
      await request(app).post(`/api/regulation/${amo}/enable`).set(auth).send({ ...AMO_SPEC, specHash: report.specHash }).expect(200);
      expect(await regulations(amo)).toEqual([AMO_SPEC]);
      const id = stack.amo.userAddLead({ name: 'После включения', pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: 2 } as never, 2);
      await stack.idle();
      stack.amo.userMoveLead(id, 142, 2);
      await stack.idle();
      expect(stack.amo.getLead(id)?.status_id).toBe(stage('Передан в работу'));
      const after = (await request(app).post(`/api/regulation/${amo}/dry-run`).set(auth).send(AMO_SPEC).expect(200)).body;
      expect(after.appMoves).toBe(1);
      expect(after.reverts.filter((r: { dealId: string }) => r.dealId === String(id)).map((r: { to: string }) => r.to)).toEqual(['Успешно реализовано']);
    });
  });
});
