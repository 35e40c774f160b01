import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

const MANAGER = 2;
const CLIENT_MANAGER = 3;
const DAY = 24 * 3600_000;

describe('duplicate catcher on amoCRM (seed 002 «Первичный рынок»)', () => {
  let stack: LocalStack;
  let stage: (name: string) => number;
  let pipelineId: number;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    const installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market' }])).toMatchObject({ ok: true });
  });
  afterEach(() => stack.stop());

  /** A client known for a week: a contact and a lead owned by another manager. */
  async function knownClient(status: number, contact: Record<string, unknown> = {}) {
    const contactId = stack.amo.userAddContact({ name: 'Иванов Иван', phones: ['+7 (999) 123-45-67'], emails: ['ivan@mail.ru'], responsible_user_id: CLIENT_MANAGER, ...contact }, CLIENT_MANAGER);
    const leadId = stack.amo.userAddLead({ name: 'Квартира 5-101', pipeline_id: pipelineId, status_id: status, responsible_user_id: CLIENT_MANAGER, contactId }, CLIENT_MANAGER);
    await stack.idle();
    stack.amo.advanceClock(7 * DAY);
    return { contactId, leadId };
  }
  async function newLead(phones: string[], emails: string[] = [], status = stage('Новый лид')) {
    const contactId = stack.amo.userAddContact({ name: 'Иван', phones, emails }, MANAGER);
    const leadId = stack.amo.userAddLead({ name: 'Заявка с сайта', pipeline_id: pipelineId, status_id: status, responsible_user_id: MANAGER, contactId }, MANAGER);
    await stack.idle();
    return { contactId, leadId };
  }
  const notes = (id: number) => stack.amo.notes(id).map((n) => String((n.params as { text?: string } | undefined)?.text ?? ''));
  const phonesOf = (contactId: number) => {
    const phoneField = stack.amo.customFields.find((f) => f.entity_type === 'contacts' && f.code === 'PHONE')!.id;
    return stack.amo.getContact(contactId)!.custom_fields.filter((f) => f.field_id === phoneField).flatMap((f) => f.values.map((v) => String(v.value)));
  };
  const lossReason = (leadId: number) => {
    const id = stack.amo.getLead(leadId)!.loss_reason_id;
    return (stack.amo as unknown as { store: { lossReasons: Array<{ id: number; name: string }> } }).store.lossReasons.find((r) => r.id === id)?.name;
  };

  it('a client with an active deal who calls from a new number is not a new lead: closed (143) with the loss reason, linked, enriched', async () => {
    const client = await knownClient(stage('Встреча назначена'));
    const { leadId } = await newLead(['8 916 111 22 33'], ['IVAN@mail.ru']);
    const lead = stack.amo.getLead(leadId)!;
    expect(lead.status_id).toBe(143);
    expect(lossReason(leadId)).toBe('Новые контакты у активного клиента');
    expect(lead.contacts).toContainEqual({ id: client.contactId, is_main: true });
    expect(phonesOf(client.contactId)).toEqual(['+7 (999) 123-45-67', '+79161112233']);
    expect(notes(leadId).join('\n')).toMatch(/Повторное обращение клиента Иванов Иван с активной сделкой №\d+ .*сделка закрыта как/);
    expect(notes(client.leadId).join('\n')).toContain('Клиент обратился повторно');
    expect(stack.amo.tasks.some((t) => t.responsible_user_id === CLIENT_MANAGER && t.text.includes('Перезвоните'))).toBe(true);
  });

  it('a buyer who calls again is «Дольщик»', async () => {
    await knownClient(142);
    const { leadId } = await newLead(['89991234567']);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(143);
    expect(lossReason(leadId)).toBe('Дольщик');
  });

  it('an agent (tag «Агент») is «Агент»', async () => {
    await knownClient(stage('Встреча назначена'), { tags: ['Агент'] });
    const { leadId } = await newLead(['9991234567']);
    expect(lossReason(leadId)).toBe('Агент');
  });

  const settings = async (duplicateCatcher: Record<string, unknown>) => {
    const installationId = (await stack.services.store.list())[0]!.id;
    await stack.services.store.updateSettings(installationId, (c) => ({ ...c.settings, duplicateCatcher }));
  };

  it('an agent marked by the contact field named in settings (a «Тип клиента» list set to «Агент») is «Агент»', async () => {
    const field = stack.amo.addContactCustomField({ name: 'Тип клиента', type: 'select', enums: ['Покупатель', 'Агент'] });
    await settings({ agentField: { amocrm: 'Тип клиента' } });
    await knownClient(stage('Встреча назначена'), { custom_fields_values: [{ field_id: field.id, values: [{ value: 'Агент' }] }] });
    const { leadId } = await newLead(['9991234567']);
    expect(lossReason(leadId)).toBe('Агент');
  });

  it('the agent field holding another value marks no agent («Покупатель» with an active deal)', async () => {
    const field = stack.amo.addContactCustomField({ name: 'Тип клиента', type: 'select', enums: ['Покупатель', 'Агент'] });
    await settings({ agentField: { amocrm: 'Тип клиента' } });
    await knownClient(stage('Встреча назначена'), { custom_fields_values: [{ field_id: field.id, values: [{ value: 'Покупатель' }] }] });
    const { leadId } = await newLead(['9991234567']);
    expect(lossReason(leadId)).toBe('Новые контакты у активного клиента');
  });

  it('a repeat known only by the Telegram id in the messenger field named in settings is caught from the new lead\'s own contact', async () => {
    const telegram = stack.amo.addContactCustomField({ name: 'Telegram', type: 'text' });
    await settings({ amocrmMessengerFields: ['Telegram'] });
    await knownClient(stage('Встреча назначена'), { phones: ['+7 (999) 123-45-67'], custom_fields_values: [{ field_id: telegram.id, values: [{ value: '@ivan_petrov' }] }] });
    const contactId = stack.amo.userAddContact({ name: 'Иван', custom_fields_values: [{ field_id: telegram.id, values: [{ value: '@ivan_petrov' }] }] }, MANAGER);
    const leadId = stack.amo.userAddLead({ name: 'Заявка из Telegram', pipeline_id: pipelineId, status_id: stage('Новый лид'), responsible_user_id: MANAGER, contactId }, MANAGER);
    await stack.idle();
    expect(stack.amo.getLead(leadId)!.status_id).toBe(143);
    expect(lossReason(leadId)).toBe('Новые контакты у активного клиента');
  });

  it('a lead accepted from «Неразобранное» is judged when accepted, not before', async () => {
    await knownClient(stage('Встреча назначена'));
    const incoming = stack.amo.pipelines.find((p) => p.id === pipelineId)!.statuses.find((s) => s.type === 1)!;
    const { leadId } = await newLead(['+79991234567'], [], incoming.id);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(incoming.id);
    stack.amo.userMoveLead(leadId, stage('Новый лид'), MANAGER);
    await stack.idle();
    expect(stack.amo.getLead(leadId)!.status_id).toBe(143);
  });

  it('a number found by the fuzzy search but not equal is no repeat (+7 999 123-45-67 vs 8 999 123-45-6 7x)', async () => {
    await knownClient(stage('Встреча назначена'), { phones: ['+7 (999) 123-45-678'] });
    const { leadId } = await newLead(['+7 999 123 45 67']);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(stage('Новый лид'));
  });

  it('a form sent twice within a day: the second lead is closed as «Повторная заявка», the first stays', async () => {
    const first = await newLead(['+7 925 000-11-22']);
    const second = await newLead(['8 925 000 11 22']);
    expect(stack.amo.getLead(first.leadId)!.status_id).toBe(stage('Новый лид'));
    expect(stack.amo.getLead(second.leadId)!.status_id).toBe(143);
    expect(lossReason(second.leadId)).toBe('Повторная заявка');
    expect(notes(first.leadId).join('\n')).toContain('Клиент обратился повторно');
  });

  it('two workers closing the first repeats at once create the missing loss reason once', async () => {
    const first = await newLead(['+7 903 100-00-01']);
    const second = await newLead(['+7 903 100-00-02']);
    const installation = (await stack.services.store.list())[0]!;
    // Two workers: each its own port; they share the installation's lock in Redis.
    const [a, b] = await Promise.all([stack.services.clients.forInstallation(installation), stack.services.clients.forInstallation(installation)]);
    const close = (port: typeof a, leadId: number) => port.closeAsRepeat({ entity: 'deal', id: String(leadId) }, { stageId: '143', lossReason: 'Агентская заявка', clientContactId: null, contactIds: [] });
    await Promise.all([close(a, first.leadId), close(b, second.leadId)]);
    const reasons = (stack.amo as unknown as { store: { lossReasons: Array<{ id: number; name: string }> } }).store.lossReasons.filter((r) => r.name === 'Агентская заявка');
    expect(reasons).toHaveLength(1);
    expect(lossReason(first.leadId)).toBe('Агентская заявка');
    expect(lossReason(second.leadId)).toBe('Агентская заявка');
  });

  it('a genuine new lead stays where it is and nothing is written', async () => {
    await knownClient(stage('Встреча назначена'));
    const { leadId } = await newLead(['+7 903 765-43-21'], ['new@mail.ru']);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(stage('Новый лид'));
    expect(notes(leadId).filter((n) => n.includes('Повтор'))).toEqual([]);
  });
});
