import { classifyRepeat, isAgent, type RepeatInput } from '../../src/dedup/classify';
import { identitiesOf } from '../../src/dedup/communications';
import type { ClientDeal, Contact } from '../../src/crm/crm-port';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW - h * 3600_000).toISOString();

const client: Contact = { id: '10', name: 'Иванов Иван', phones: ['8 (999) 123-45-67'], emails: ['ivan@mail.ru'], labels: ['CLIENT', 'Клиент'] };
const agentContact: Contact = { id: '11', name: 'Агентство «Дом»', phones: ['+7 999 555 00 11'], emails: [], labels: ['AGENT', 'Агент'] };
const switchboard: Contact = { id: '12', name: 'Офис продаж', phones: ['8 800 555-35-35'], emails: [] };

const deal = (id: string, standing: 'active' | 'bought' | 'closed', contactIds = ['10'], extra: Partial<ClientDeal> = {}): ClientDeal => ({
  entity: 'deal', id, title: `Сделка ${id}`, stageId: standing, funnelId: '0', responsibleId: '7',
  semantics: standing === 'active' ? 'process' : standing === 'bought' ? 'success' : 'failure',
  createdAt: hoursAgo(24 * 30), contactIds, isRequest: false, ...extra,
});
const lead = (id: string, createdHoursAgo: number, extra: Partial<ClientDeal> = {}): ClientDeal => ({
  entity: 'lead', id, title: `Лид ${id}`, stageId: 'NEW', funnelId: 'lead', responsibleId: '8', semantics: 'process',
  createdAt: hoursAgo(createdHoursAgo), contactIds: [], isRequest: true, ...extra,
});

function judge(over: Partial<RepeatInput> & { phones?: string[]; emails?: string[] }) {
  const { phones = ['+7 999 123 45 67'], emails = [], ...rest } = over;
  const ignoredKeys = new Set(['+78005553535']);
  return classifyRepeat({
    request: { entity: 'lead', id: '100', contactIds: [] },
    identities: identitiesOf({ phones, emails }).identities.filter((i) => !ignoredKeys.has(i.key)),
    contacts: [],
    deals: [lead('100', 0)],
    standingOf: (d) => (d.stageId as 'active' | 'bought' | 'closed'),
    agentLabels: ['AGENT', 'Агент'],
    doubleSubmissionWindowMs: 24 * 3600_000,
    ignoredKeys,
    now: NOW,
    ...rest,
  });
}

describe('who is calling again', () => {
  it('a client with an active deal who calls from a new number is not a new lead (matched by e-mail)', () => {
    const v = judge({ phones: ['+7 916 000 00 00'], emails: ['IVAN@mail.ru '], contacts: [client], deals: [lead('100', 0), deal('5', 'active')] });
    expect(v).toMatchObject({ repeat: true, class: 'new_contact_of_active_client', target: { id: '5' }, clientContact: { id: '10' } });
  });

  it('a buyer who calls again is «Дольщик»', () => {
    const v = judge({ contacts: [client], deals: [lead('100', 0), deal('5', 'bought'), deal('6', 'closed')] });
    expect(v).toMatchObject({ repeat: true, class: 'existing_buyer', target: { id: '5' } });
  });

  it('an active deal wins over a bought one: the manager still selling is told', () => {
    const v = judge({ contacts: [client], deals: [lead('100', 0), deal('5', 'bought'), deal('6', 'active')] });
    expect(v).toMatchObject({ class: 'new_contact_of_active_client', target: { id: '6' } });
  });

  it('an agent is «Агент» whatever deals the agent has', () => {
    const v = judge({ phones: ['+79995550011'], contacts: [agentContact], deals: [lead('100', 0), deal('5', 'active', ['11'])] });
    expect(v).toMatchObject({ repeat: true, class: 'agent' });
  });

  it('the switchboard number never makes a repeat', () => {
    const v = judge({ phones: ['8 800 555 35 35'], contacts: [switchboard], deals: [lead('100', 0), deal('5', 'active', ['12'])] });
    expect(v).toEqual({ repeat: false, why: 'no_identities' });
  });

  it('a form sent twice within the window joins the first lead while it is open', () => {
    const v = judge({ deals: [lead('99', 2), lead('100', 0)] });
    expect(v).toMatchObject({ repeat: true, class: 'double_submission', target: { id: '99' }, clientContact: null });
  });

  it('the second submission after the window is a new lead', () => {
    expect(judge({ deals: [lead('99', 30), lead('100', 0)] })).toMatchObject({ repeat: false });
  });

  it('the earlier lead stays new when the later one is judged first (races decide the same way)', () => {
    const first = judge({ request: { entity: 'lead', id: '99', contactIds: [] }, deals: [lead('99', 0.01), lead('100', 0)] });
    const second = judge({ deals: [lead('99', 0.01), lead('100', 0)] });
    expect(first).toMatchObject({ repeat: false });
    expect(second).toMatchObject({ repeat: true, class: 'double_submission', target: { id: '99' } });
  });

  it('a closed earlier lead is no double submission', () => {
    expect(judge({ deals: [lead('99', 2, { semantics: 'failure' }), lead('100', 0)] })).toMatchObject({ repeat: false });
  });

  it('the new lead’s own new contact is not "the client"', () => {
    const own: Contact = { id: '20', name: 'Иван', phones: ['+79991234567'], emails: [] };
    const v = judge({ request: { entity: 'lead', id: '100', contactIds: ['20'] }, contacts: [own], deals: [lead('100', 0, { contactIds: ['20'] })] });
    expect(v).toMatchObject({ repeat: false });
  });

  it('an own contact with a history (linked by the form) is the client', () => {
    const v = judge({ request: { entity: 'lead', id: '100', contactIds: ['10'] }, contacts: [client], deals: [lead('100', 0, { contactIds: ['10'] }), deal('5', 'active')] });
    expect(v).toMatchObject({ class: 'new_contact_of_active_client', clientContact: { id: '10' } });
  });

  it('amoCRM: an open lead of the same person older than the window is an active deal', () => {
    const amo = (id: string, h: number): ClientDeal => ({ ...deal(id, 'active'), createdAt: hoursAgo(h), isRequest: true });
    const v = judge({ request: { entity: 'deal', id: '300', contactIds: ['30'] }, contacts: [client], deals: [amo('200', 72), { ...amo('300', 0), contactIds: ['30'] }] });
    expect(v).toMatchObject({ class: 'new_contact_of_active_client', target: { id: '200' } });
  });

  it('amoCRM: an open lead of the same person within the window is a double submission', () => {
    const amo = (id: string, h: number): ClientDeal => ({ ...deal(id, 'active'), createdAt: hoursAgo(h), isRequest: true });
    const v = judge({ request: { entity: 'deal', id: '300', contactIds: ['30'] }, contacts: [client], deals: [amo('200', 1), { ...amo('300', 0), contactIds: ['30'] }] });
    expect(v).toMatchObject({ class: 'double_submission', target: { id: '200' } });
  });

  it('nobody known: a genuine new lead', () => {
    expect(judge({})).toEqual({ repeat: false, why: 'no_client' });
  });
});

describe('an agent is a contact marked so by type, tag or the field named in settings', () => {
  const labels = ['AGENT', 'Агент'];
  const contact = (extra: Partial<Contact>): Contact => ({ id: '1', name: 'X', phones: [], emails: [], ...extra });
  it.each<[string, Partial<Contact>, string | undefined, boolean]>([
    ['Bitrix24 contact type AGENT', { labels: ['AGENT', 'Агент'] }, undefined, true],
    ['amoCRM tag «агент» (case-insensitive)', { labels: ['агент'] }, undefined, true],
    ['a client type', { labels: ['CLIENT', 'Клиенты'] }, undefined, false],
    ['Bitrix24 boolean user field ticked (Y)', { fields: { UF_CRM_AGENT: ['Y'] } }, 'UF_CRM_AGENT', true],
    ['Bitrix24 boolean user field ticked (1)', { fields: { UF_CRM_AGENT: ['1'] } }, 'uf_crm_agent', true],
    ['Bitrix24 boolean user field not ticked (N)', { fields: { UF_CRM_AGENT: ['N'] } }, 'UF_CRM_AGENT', false],
    ['Bitrix24 boolean user field not ticked (0)', { fields: { UF_CRM_AGENT: ['0'] } }, 'UF_CRM_AGENT', false],
    ['amoCRM checkbox true', { fields: { 'Агент': [true], '555': [true] } }, 'Агент', true],
    ['amoCRM checkbox by field id', { fields: { 'Агент': [true], '555': [true] } }, '555', true],
    ['amoCRM list value equal to a label', { fields: { 'Тип клиента': ['Агент'] } }, 'Тип клиента', true],
    ['amoCRM list value of another kind', { fields: { 'Тип клиента': ['Покупатель'] } }, 'Тип клиента', false],
    ['the field ticked, but no field named in settings', { fields: { UF_CRM_AGENT: ['Y'] } }, undefined, false],
    ['another field ticked', { fields: { UF_CRM_VIP: ['Y'] } }, 'UF_CRM_AGENT', false],
  ])('%s', (_, extra, field, expected) => {
    expect(isAgent(contact(extra), labels, field)).toBe(expected);
  });
});
