import request from 'supertest';
import { SessionSigner } from '../../src/settings-access/session';
import type { RegulationView } from '../../src/settings-page/regulation-view';
import { setupAmoSalesPipeline, setupBitrix24SalesFunnel } from '../helpers/funnels';
import { AMOCRM_APP, BITRIX24_APP, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

const MANAGER = 2;

/** The overrides the page sends for a view: stage mapping, the matrix as allow rows, the stages never skipped, stage fields. */
function overridesOf(view: RegulationView, edit: { allowed?: Record<string, string[]>; stageRules?: Record<string, { requiredFields?: string[]; reasonField?: string | null }> } = {}) {
  const allowed = edit.allowed ?? view.matrix.allowed;
  const stages = Object.fromEntries(view.presetStages.map((s) => [s.key, view.crmStages.find((c) => c.key === s.key)?.id ?? null]));
  const fieldCodes = new Map(Object.entries(view.fieldKeys).map(([code, key]) => [key, code]));
  const used = Object.values(edit.stageRules ?? {}).flatMap((r) => [...(r.requiredFields ?? []), ...(r.reasonField ? [r.reasonField] : [])]);
  const added = used.filter((key) => key.startsWith('crm_'));
  return {
    funnelId: view.funnel!.id,
    stages,
    transitions: {
      allow: Object.entries(allowed).filter(([, to]) => to.length).map(([from, to]) => ({ from, to })),
      deny: view.matrix.denied.map((d) => ({ from: d.from, to: d.to.filter((k) => !(allowed[d.from] ?? []).includes(k)), ...(d.explain ? { explain: d.explain } : {}) })).filter((d) => d.to.length),
    },
    mustNotSkip: view.mustNotSkip,
    ...(edit.stageRules ? { stageRules: edit.stageRules } : {}),
    ...(added.length
      ? {
          addFields: Object.fromEntries(added.map((key) => [key, { names: [view.fields.find((f) => f.code === fieldCodes.get(key))!.title] }])),
          fields: Object.fromEntries(added.map((key) => [key, fieldCodes.get(key)!])),
        }
      : {}),
  };
}

describe('regulation API: a funnel bound to a regulation from the settings page, enforced by the stage guard', () => {
  describe('Bitrix24 (seed 004 deal funnel)', () => {
    let stack: LocalStack;
    let installationId: string;
    let auth: { Authorization: string };

    beforeAll(async () => {
      stack = await startLocalStack({ redisUrl: redisUrl() });
      setupBitrix24SalesFunnel(stack.portal);
      expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
      installationId = `b24:${stack.portal.memberId}`;
      const frame = stack.portal.appFrame(1);
      const entry = await request(stack.appUrl).post(`/apps/bitrix24/settings?${new URLSearchParams(frame.query)}`).type('form').send(frame.form).expect(303);
      auth = { Authorization: `Bearer ${new URLSearchParams(String(entry.headers.location).split('#')[1]).get('session')}` };
    });
    afterAll(() => stack.stop());

    const api = (path = '') => `/api/regulation/${installationId}${path}`;
    const stored = async () => (await stack.services.store.find(installationId))!.settings.stageGuard;
    const proposal = async (overrides: Record<string, unknown> = { funnelId: '0' }) =>
      (await request(stack.appUrl).post(api('/bind')).set(auth).send({ spec: { preset: 'bitrix24-deals-004', overrides } }).expect(200)).body as RegulationView;

    it('offers the presets of this CRM, and proposes each stage’s role from the portal’s own stage names', async () => {
      const current = await request(stack.appUrl).get(api()).set(auth).expect(200);
      expect(current.body.presets.map((p: { name: string }) => p.name)).toEqual(['bitrix24-deals-004', 'bitrix24-leads-004']);
      expect(current.body.regulations).toEqual([]);

      const view = await proposal();
      expect(view.funnel).toEqual({ id: '0', name: expect.any(String) });
      const roleOf = Object.fromEntries(view.crmStages.map((s) => [s.name, s.suggestedKey]));
      expect(roleOf).toMatchObject({ 'Потребности выявлены': 'needs_identified', 'Встреча назначена': 'meeting_set', 'Бронь': 'booking', 'Бронь истекла': 'booking_expired', 'Договор': 'contract', 'Сделка успешна': 'won', 'Сделка провалена': 'lost', 'Дольщик': 'existing_buyer' });
      expect(view.ok).toBe(true);
      // The matrix is the preset's rules expanded: from the first call to booking yes, to the contract no (deny rule).
      expect(view.matrix.allowed.needs_identified).toEqual(expect.arrayContaining(['meeting_set', 'booking', 'lost']));
      expect(view.matrix.allowed.needs_identified).not.toContain('contract');
      // Required fields by the titles the portal shows.
      expect(view.stageRules.booking!.requiredFields.map((f) => f.title)).toEqual(['Объект']);
      expect(view.stageRules.lost!.reasonField?.title).toBe('Причина проигрыша');
    });

    it('an edited stage role is the override the CLI writes; a role on a stage of the wrong kind is refused at its path', async () => {
      const view = await proposal({ funnelId: '0', stages: { lost: 'UC_HOLDER' } });
      expect(view.crmStages.find((s) => s.id === 'UC_HOLDER')).toMatchObject({ key: 'lost', suggestedKey: 'existing_buyer' });
      const wrong = await proposal({ funnelId: '0', stages: { booking: 'WON' } });
      expect(wrong.ok).toBe(false);
      expect(wrong.errors).toEqual(expect.arrayContaining([expect.objectContaining({ file: 'overrides', path: 'stages.booking', message: expect.stringContaining('needs a process stage') })]));
    });

    it('a transition to an unknown stage and an unknown field are refused with their paths, and nothing is saved', async () => {
      const before = await stored();
      const badTransition = await request(stack.appUrl).put(api()).set(auth)
        .send({ regulations: [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', transitions: { allow: [{ from: 'booking', to: ['contract', 'signed_somewhere'] }] } } }] })
        .expect(422);
      expect(badTransition.body.issues).toEqual([expect.objectContaining({ regulation: 0, path: expect.stringMatching(/^overrides\.transitions\.allow\[0\]\.to/), message: expect.stringContaining('signed_somewhere') })]);

      const badField = await request(stack.appUrl).put(api()).set(auth)
        .send({ regulations: [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', stageRules: { booking: { requiredFields: ['unit', 'parking_spot'] } } } }] })
        .expect(422);
      expect(badField.body.issues).toEqual([expect.objectContaining({ path: 'overrides.stageRules.booking.requiredFields[1]', code: 'unknown_reference' })]);

      const missingInCrm = await request(stack.appUrl).put(api()).set(auth)
        .send({ regulations: [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', addFields: { crm_parking: { names: ['Парковка'] } }, stageRules: { booking: { requiredFields: ['crm_parking'] } } } }] })
        .expect(422);
      expect(missingInCrm.body.issues).toEqual([expect.objectContaining({ path: 'overrides.stageRules.booking.requiredFields[0]', code: 'field_not_found', message: expect.stringContaining('«Парковка» does not exist in the CRM') })]);
      expect(await stored()).toEqual(before);
    });

    it('the message preview is the very text the stage guard then writes into the card for that move', async () => {
      const view = await proposal();
      const passport = view.fieldKeys[view.fields.find((f) => f.title === 'Паспортные данные')!.code]!;
      const allowed = { ...view.matrix.allowed, needs_identified: view.matrix.allowed.needs_identified!.filter((k) => k !== 'booking') };
      const spec = { preset: 'bitrix24-deals-004', overrides: overridesOf(view, { allowed, stageRules: { booking: { requiredFields: ['unit', passport] } } }) };

      const edited = (await request(stack.appUrl).post(api('/bind')).set(auth).send({ spec }).expect(200)).body as RegulationView;
      expect(edited.ok).toBe(true);
      expect(edited.matrix.allowed.needs_identified).not.toContain('booking');
      expect(edited.stageRules.booking!.requiredFields.map((f) => f.title)).toEqual(['Объект', 'Паспортные данные']);

      const preview = await request(stack.appUrl).post(api('/preview-message')).set(auth).send({ spec, from: 'needs_identified', to: 'booking' }).expect(200);
      expect(preview.body.verdict).toBe('revert');
      expect(preview.body.message).toContain('«Паспортные данные»');
      // The preset's deny rule keeps its explanation in the edited table.
      const toContract = await request(stack.appUrl).post(api('/preview-message')).set(auth).send({ spec, from: 'needs_identified', to: 'contract' }).expect(200);
      expect(toContract.body.message).toContain('С первого звонка нельзя сразу переходить к договору');
      const english = await request(stack.appUrl).post(api('/preview-message')).set(auth).send({ spec, from: 'needs_identified', to: 'booking', locale: 'en' }).expect(200);
      expect(english.body.message).toContain('“Паспортные данные”');

      await request(stack.appUrl).put(api()).set(auth).send({ regulations: [spec] }).expect(200);
      expect((await stored() as { regulations: unknown }).regulations).toEqual([spec]);
      const reread = await request(stack.appUrl).get(api()).set(auth).expect(200);
      expect(reread.body.regulations[0].matrix.allowed.needs_identified).not.toContain('booking');

      // The stage guard now enforces the edited regulation: the first call → booking is put back, with the previewed text.
      const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0, assignedById: MANAGER } as never, MANAGER);
      await stack.idle();
      stack.portal.userMoveDeal(id, 'UC_BOOKING', MANAGER);
      await stack.idle();
      expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
      const comments = stack.portal.comments('deal', id).map((c) => String((c as { comment?: string; COMMENT?: string }).comment ?? (c as { COMMENT?: string }).COMMENT));
      expect(comments).toContain(preview.body.message);
    });

    it('a session of another installation reads, previews and saves nothing here', async () => {
      const other = `b24:${'b'.repeat(32)}`;
      const ofOther = new SessionSigner(BITRIX24_APP.clientSecret).issue({ installationId: other, userId: '1', role: 'admin' }, Date.now()).token;
      const before = await stored();
      await request(stack.appUrl).get(api()).set('Authorization', `Bearer ${ofOther}`).expect(403);
      await request(stack.appUrl).post(api('/bind')).set('Authorization', `Bearer ${ofOther}`).send({ spec: { preset: 'bitrix24-deals-004' } }).expect(403);
      await request(stack.appUrl).put(api()).set('Authorization', `Bearer ${ofOther}`).send({ regulations: [] }).expect(403);
      await request(stack.appUrl).put(`/api/regulation/${other}`).set(auth).send({ regulations: [] }).expect(403);
      await request(stack.appUrl).put(api()).send({ regulations: [] }).expect(401);
      await request(stack.appUrl).put(api()).set(auth).send({ regulations: [{ overrides: {} }] }).expect(400);
      expect(await stored()).toEqual(before);
    });
  });

  describe('amoCRM (a sales pipeline with booking)', () => {
    let stack: LocalStack;
    let installationId: string;
    let auth: { Authorization: string };
    let stage: (name: string) => number;
    let pipelineId: number;

    beforeAll(async () => {
      stack = await startLocalStack({ redisUrl: redisUrl() });
      ({ stage, pipelineId } = setupAmoSalesPipeline(stack.amo));
      stack.amo.addLeadCustomField({ name: 'Причина отказа клиента', type: 'text' });
      await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
      installationId = `amo:${stack.amo.accountId}`;
      auth = { Authorization: `Bearer ${new SessionSigner(AMOCRM_APP.clientSecret).issue({ installationId, userId: '1', role: 'admin' }, Date.now()).token}` };
    });
    afterAll(() => stack.stop());

    const api = (path = '') => `/api/regulation/${installationId}${path}`;

    it('proposes roles from the pipeline’s stage names (and amoCRM’s fixed won/lost ids), then enforces an added closing reason', async () => {
      const current = await request(stack.appUrl).get(api()).set(auth).expect(200);
      expect(current.body.presets.map((p: { name: string }) => p.name)).toEqual(['amocrm-primary-market', 'amocrm-sales-004']);

      const view = (await request(stack.appUrl).post(api('/bind')).set(auth).send({ spec: { preset: 'amocrm-sales-004', overrides: { funnelId: String(pipelineId) } } }).expect(200)).body as RegulationView;
      expect(view.ok).toBe(true);
      expect(Object.fromEntries(view.crmStages.map((s) => [s.id, s.suggestedKey]))).toMatchObject({
        [stage('Встреча состоялась')]: 'meeting_held', [stage('Бронь')]: 'booking', [stage('Бронь истекла')]: 'booking_expired', [stage('Договор')]: 'contract', '142': 'won', '143': 'lost',
      });
      expect(view.stageRules.lost!.reasonField).toBeNull();

      // The admin picks the closing reason among the account's fields by its title.
      const reason = view.fields.find((f) => f.title === 'Причина отказа клиента')!;
      const reasonKey = view.fieldKeys[reason.code]!;
      const spec = { preset: 'amocrm-sales-004', overrides: overridesOf(view, { stageRules: { lost: { reasonField: reasonKey } } }) };
      const preview = await request(stack.appUrl).post(api('/preview-message')).set(auth).send({ spec, from: 'booking', to: 'lost' }).expect(200);
      expect(preview.body.message).toBe('Нельзя перейти из «Бронь» в «Закрыто и не реализовано»: укажите причину в поле «Причина отказа клиента».\nСделка возвращена на этап «Бронь».');
      await request(stack.appUrl).put(api()).set(auth).send({ regulations: [spec] }).expect(200);

      const id = stack.amo.userAddLead({ name: 'Заявка', pipeline_id: pipelineId, status_id: stage('Бронь'), responsible_user_id: MANAGER, custom_fields_values: [{ field_id: stack.amo.leadFieldId('Объект'), values: [{ value: 'кв. 5-101' }] }] }, MANAGER);
      await stack.idle();
      stack.amo.userMoveLead(id, 143, MANAGER);
      await stack.idle();
      expect(stack.amo.getLead(id)?.status_id).toBe(stage('Бронь'));
      expect(stack.amo.notes(id).map((n) => String((n.params as { text?: string } | undefined)?.text ?? ''))).toContain(preview.body.message);
    });
  });
});
