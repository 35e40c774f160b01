import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupBitrix24LeadFunnel, setupBitrix24SalesFunnel } from '../helpers/funnels';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../helpers/local-stack';
import { setSettings } from '../helpers/takeover';
import { redisUrl } from '../helpers/test-services';
import { cardApi, openTab, type Json } from './card-helpers';

const ADMIN = 1;
const MARIA = 2;
const IVAN = 3;
const HEAD = 4;
/** A Monday, 11:00 in Moscow: working hours. */
const MONDAY_11 = '2026-11-30T08:00:00Z';

/**
 * The robot log in a Bitrix24 deal's and lead's card: the tabs bound at install, the tab's POST verified
 * with the portal, and a head of sales undoing each kind of robot action, which the stage guard then leaves alone.
 */
describe('card robot log on Bitrix24', () => {
  let stack: LocalStack;
  let installationId: string;

  async function start(options: Partial<LocalStackOptions> = {}) {
    stack = await startLocalStack({ redisUrl: redisUrl(), ...options });
    setupBitrix24SalesFunnel(stack.portal);
    setupBitrix24LeadFunnel(stack.portal);
    stack.portal.setStages('CONTACT_TYPE', [{ statusId: 'CLIENT', name: 'Клиенты', sort: 10 }]);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    installationId = `b24:${stack.portal.memberId}`;
    // Strict regulations: nobody is exempt, not even administrators (the app writes as the installing administrator),
    // so only the app's recognising its own undo keeps the guard from reverting it.
    const strict = { exempt: { roles: [] } };
    expect(await configureRegulations(stack.services, installationId, [
      { preset: 'bitrix24-deals-004', overrides: { funnelId: '0', settings: strict } },
      { preset: 'bitrix24-leads-004', overrides: { settings: strict } },
    ])).toMatchObject({ ok: true });
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)], 'dealRenamer.enabled': false });
  }
  afterEach(() => stack?.stop());

  const comments = (entity: 'deal' | 'lead', id: number) => stack.portal.comments(entity, id).map((c) => String(c.comment));
  const writesOf = (id: number) => stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id);

  async function headOfSalesCard(placement: 'CRM_DEAL_DETAIL_TAB' | 'CRM_LEAD_DETAIL_TAB', id: number) {
    const tab = await openTab(stack, placement, id, HEAD);
    expect([tab.status, tab.role]).toEqual([303, 'head_of_sales']);
    return cardApi(stack, tab.session!);
  }

  it('install binds the deal and lead tabs with Russian and English titles; installing again binds nothing twice', async () => {
    await start();
    const tabs = stack.portal.placements();
    expect(tabs.map((t) => [t.placement, t.handler, t.title, t.langAll.en?.TITLE])).toEqual([
      ['CRM_DEAL_DETAIL_TAB', `${stack.appUrl}/apps/bitrix24/card`, 'Роботы Reglament', 'Reglament robots'],
      ['CRM_LEAD_DETAIL_TAB', `${stack.appUrl}/apps/bitrix24/card`, 'Роботы Reglament', 'Reglament robots'],
    ]);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    expect(stack.portal.placements()).toHaveLength(2);
    expect(stack.portal.calls.filter((c) => c.method === 'placement.bind' && !c.error)).toHaveLength(2);
    // Uninstalling: the portal removes the application's tabs with it.
    await stack.portal.uninstall(`${stack.appUrl}/bitrix24/events`);
    expect(stack.portal.placements()).toEqual([]);
  });

  it('the tab opens only for a token the portal confirms and for this portal\'s member_id; a bad deal id is refused; a manager reads but may not undo', async () => {
    await start();
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0, assignedById: MARIA } as never, MARIA);
    await stack.idle();
    expect((await openTab(stack, 'CRM_DEAL_DETAIL_TAB', id, MARIA, (f) => void (f.form.AUTH_ID = 'forged-token'))).status).toBe(401);
    expect((await openTab(stack, 'CRM_DEAL_DETAIL_TAB', id, MARIA, (f) => void (f.form.member_id = 'a'.repeat(32)))).status).toBe(401);
    expect((await openTab(stack, 'CRM_DEAL_DETAIL_TAB', id, MARIA, (f) => void (f.form.PLACEMENT_OPTIONS = '{"ID":"12 OR 1"}'))).status).toBe(400);
    expect((await openTab(stack, 'CRM_DEAL_DETAIL_TAB', id, MARIA, (f) => void (f.form.PLACEMENT = 'CRM_CONTACT_DETAIL_TAB'))).status).toBe(400);
    // A deal the portal does not show this user (here: none with that id) opens nothing.
    expect((await openTab(stack, 'CRM_DEAL_DETAIL_TAB', 999_999, MARIA)).status).toBe(403);

    const manager = await openTab(stack, 'CRM_DEAL_DETAIL_TAB', id, MARIA);
    expect([manager.status, manager.role, manager.installation]).toEqual([303, 'viewer', installationId]);
    expect(manager.location).toMatch(/^\/apps\/card\/#installation=b24%3A/);
    const api = cardApi(stack, manager.session!);
    expect((await api.log(installationId, 'deal', id)).status).toBe(200);
    // Scoped to that deal and that installation.
    expect((await api.log(installationId, 'deal', id + 1)).status).toBe(403);
    expect((await api.log(installationId, 'lead', id)).status).toBe(403);
    expect((await api.log(`b24:${'b'.repeat(32)}`, 'deal', id)).status).toBe(403);
    expect((await api.log(installationId, 'deal', 'x1')).status).toBe(400);
    expect((await cardApi(stack, `${manager.session!.slice(0, -2)}AA`).log(installationId, 'deal', id)).status).toBe(401);
    expect((await api.undo(installationId, '00000000-0000-4000-8000-000000000000')).body.error).toBe('undo_not_allowed');

    // A head of sales' session undoes nothing of another installation, nor an action it does not know.
    const head = await headOfSalesCard('CRM_DEAL_DETAIL_TAB', id);
    expect((await head.undo(`b24:${'b'.repeat(32)}`, '00000000-0000-4000-8000-000000000000')).body.error).toBe('session_of_another_installation');
    expect((await head.undo(installationId, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await head.undo(installationId, '*')).status).toBe(400);
  });

  it('a stage guard revert undone by the head of sales: the deal goes to the stage the manager chose, and the guard leaves it there', async () => {
    await start();
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0, assignedById: MARIA, ufCrmUnit: 'кв. 5-101', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' } as never, MARIA);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'EXECUTING', MARIA);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');

    const api = await headOfSalesCard('CRM_DEAL_DETAIL_TAB', id);
    const log = await api.log(installationId, 'deal', id);
    const reverted = (log.body.entries as Json[]).find((e) => e.kind === 'stage_reverted');
    expect(reverted).toMatchObject({ robot: 'stageGuard', robotTitle: 'Страж стадий', title: 'Вернул сделку на прежнюю стадию', canUndo: true, undoneBy: null });
    expect(reverted.why).toContain('«Договор»');

    const writesBefore = writesOf(id).length;
    const undone = await api.undo(installationId, reverted.id, 'клиент уже подписал договор');
    expect(undone.status).toBe(200);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('EXECUTING');
    expect(writesOf(id).length).toBe(writesBefore + 1);
    const note = comments('deal', id).at(-1)!;
    expect(note).toContain('Ольга Руководитель отменил(а) действие робота «Страж стадий»');
    expect(note).toContain('Сделка возвращена на стадию «Договор»');
    expect(note).toContain('Причина: клиент уже подписал договор');

    // A second undo writes nothing.
    const again = await api.undo(installationId, reverted.id);
    expect([again.status, again.body.error, again.body.undoId]).toEqual([409, 'already_undone', undone.body.undo.id]);
    await stack.idle();
    expect(writesOf(id).length).toBe(writesBefore + 1);
    expect(stack.portal.getDeal(id)?.stageId).toBe('EXECUTING');

    const after = (await api.log(installationId, 'deal', id)).body.entries as Json[];
    expect(after.find((e) => e.id === reverted.id)).toMatchObject({ canUndo: false, undoneBy: undone.body.undo.id });
    expect(after[0]).toMatchObject({ kind: 'undone', title: 'Действие робота отменено', undoOf: reverted.id, by: { userId: String(HEAD), role: 'head_of_sales', name: 'Ольга Руководитель', reason: 'клиент уже подписал договор' } });
    // An undo row is not itself undone.
    expect((await api.undo(installationId, after[0].id)).status).toBe(422);
  });

  it('a deal someone moved after the robot is not undone over their head: 409, nothing written, the undo stays possible in the log', async () => {
    await start();
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0, assignedById: MARIA, ufCrmUnit: 'кв. 5-101' } as never, MARIA);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'EXECUTING', MARIA);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'UC_BOOKING', MARIA);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('UC_BOOKING');
    const api = await headOfSalesCard('CRM_DEAL_DETAIL_TAB', id);
    const reverted = ((await api.log(installationId, 'deal', id)).body.entries as Json[]).find((e) => e.kind === 'stage_reverted');
    const writesBefore = writesOf(id).length;
    const refused = await api.undo(installationId, reverted.id);
    expect([refused.status, refused.body.error, refused.body.message]).toEqual([409, 'deal_changed_since', 'Сделку уже изменили после робота: отмена не нужна или сделайте её вручную.']);
    await stack.idle();
    expect(writesOf(id).length).toBe(writesBefore);
    expect(stack.portal.getDeal(id)?.stageId).toBe('UC_BOOKING');
    expect(((await api.log(installationId, 'deal', id)).body.entries as Json[]).find((e) => e.id === reverted.id)).toMatchObject({ canUndo: true, undoneBy: null });
  });

  it('a takeover reassignment undone: the lead goes back to the previous responsible', async () => {
    await start({ startAt: MONDAY_11 });
    const id = stack.portal.userAddLead({ title: 'Заявка с сайта', stageId: 'NEW', assignedById: ADMIN, name: 'Клиент' } as never, ADMIN);
    await stack.idle();
    expect(Number(stack.portal.getLead(id)?.assignedById)).toBe(MARIA);
    stack.timeTravel(15 * 60_000);
    await stack.fireTimersDue();
    await stack.idle();
    expect(Number(stack.portal.getLead(id)?.assignedById)).toBe(IVAN);

    const api = await headOfSalesCard('CRM_LEAD_DETAIL_TAB', id);
    const entries = (await api.log(installationId, 'lead', id)).body.entries as Json[];
    const reassigned = entries.find((e) => e.kind === 'reassigned');
    expect(reassigned).toMatchObject({ robot: 'takeoverTimer', title: 'Передал лид другому менеджеру', canUndo: true });
    expect(reassigned.why).toBe('Лид не взят в работу за 15 минут: Мария Менеджерова → Иван Продажин');
    // Two clicks at once: one undo, one refusal, one write.
    const assignWrites = () => stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id && (c.params.fields as Json)?.assignedById !== undefined).length;
    const writesBefore = assignWrites();
    const both = await Promise.all([api.undo(installationId, reassigned.id), api.undo(installationId, reassigned.id)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    await stack.idle();
    expect(assignWrites()).toBe(writesBefore + 1);
    expect(Number(stack.portal.getLead(id)?.assignedById)).toBe(MARIA);
    expect(comments('lead', id).at(-1)).toContain('Ответственным снова назначен(а) Мария Менеджерова (робот передал лид: Иван Продажин)');
    expect((await api.undo(installationId, reassigned.id)).status).toBe(409);
  });

  it('a repeat closure undone: the lead is open again at its stage before the closure, honest about the merge; the guard leaves the reopened lead alone', async () => {
    await start();
    const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов', phones: ['8 (999) 123-45-67'] }, IVAN);
    stack.portal.userAddDeal({ title: 'Квартира 5-101', stageId: 'PREPARATION', categoryId: 0, assignedById: IVAN, contactId } as never, IVAN);
    await stack.idle();
    const id = stack.portal.userAddLead({ title: 'Заявка с сайта', stageId: 'NEW', assignedById: MARIA, name: 'Иван', phones: ['+7 916 111-22-33'], emails: [], sourceId: 'WEB', contactId } as never, MARIA);
    await stack.idle();
    expect(stack.portal.getLead(id)?.stageId).toBe('UC_ACTIVE');

    const api = await headOfSalesCard('CRM_LEAD_DETAIL_TAB', id);
    const closed = ((await api.log(installationId, 'lead', id)).body.entries as Json[]).find((e) => e.kind === 'closed_as_repeat');
    expect(closed).toMatchObject({ robot: 'duplicateCatcher', title: 'Закрыл обращение как повторное', canUndo: true });
    expect((await api.undo(installationId, closed.id)).status).toBe(200);
    await stack.idle();
    expect(stack.portal.getLead(id)?.stageId).toBe('NEW');
    const note = comments('lead', id).at(-1)!;
    expect(note).toContain('Обращение открыто снова на стадии');
    expect(note).toContain('объединение контактов в CRM отменить нельзя');
    expect(stack.portal.stageHistory('lead', id).map((h) => h.stageId)).toEqual(['NEW', 'UC_ACTIVE', 'NEW']);
  });
});
