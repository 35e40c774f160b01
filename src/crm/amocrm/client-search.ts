import { identitiesOf } from '../../dedup/communications';
import type { ClientDeal, ClientMatches, ClientSearch, Contact, ContactCommunications } from '../crm-port';
import type { AmoIdentityIndex } from './identity-index';
import type { AmoRestClient } from './rest-client';

export const AMO_WON = 142;
export const AMO_LOST = 143;

export interface AmoCustomFieldValue {
  field_id: number;
  field_name?: string;
  field_code?: string | null;
  values: Array<{ value: unknown; enum_code?: string; enum_id?: number }>;
}
export interface AmoContact {
  id: number;
  name: string;
  first_name?: string;
  last_name?: string;
  responsible_user_id?: number;
  custom_fields_values: AmoCustomFieldValue[] | null;
  _embedded?: { tags?: Array<{ id: number; name: string }>; leads?: Array<{ id: number }> };
}
export interface AmoLeadRow {
  id: number;
  name: string;
  status_id: number;
  pipeline_id: number;
  responsible_user_id: number | null;
  created_at?: number;
  _embedded?: { contacts?: Array<{ id: number; is_main: boolean }> };
}

/** How the lookup reaches the identity index: its candidates are read by id, with their leads. */
export interface IndexedLookup {
  index: AmoIdentityIndex;
  /** The contacts by id (merged into shared `filter[id][]` reads); missing ones are left out. */
  readWithLeads(ids: number[]): Promise<AmoContact[]>;
  /** Leads by id with their contacts, merged the same way. */
  readLeads(ids: number[]): Promise<AmoLeadRow[]>;
}

/**
 * The contacts holding the searched communications, and their leads.
 *
 * While the account's identity index is complete (./identity-index.ts), candidates come from it
 * and are read by id: concurrent jobs share one `GET /api/v4/contacts?filter[id][]=…&with=leads`.
 * Otherwise (index still building) amoCRM's search is used: `GET /api/v4/contacts?query=` is a
 * full-text search over every filled field, so "9991234567" also finds "+7 999 123-45-67" and
 * "29991234567…"; phones are searched by their last ten digits, one request per value.
 * Either way every contact found is compared exactly, by the same normalisation the robot uses
 * (a stale index entry can only cost a read), and the leads of those that match are read in one request.
 */
export async function findAmoClients(rest: AmoRestClient, search: ClientSearch, indexed?: IndexedLookup): Promise<ClientMatches> {
  const wanted = new Set(identitiesOf({ ...search, messengers: search.messengers.map(bareMessenger) }).identities.map((i) => i.key));
  const byIndex = indexed && (await indexed.index.isComplete()) ? indexed : null;
  const found = byIndex ? await byIndex.readWithLeads(await byIndex.index.candidates([...wanted])) : await searchContacts(rest, search);
  const contacts = new Map<number, AmoContact>(found.map((c) => [c.id, c]));
  // What the search found is the contacts' current state: the index learns it for free (reads by id index themselves).
  if (indexed && !byIndex) await indexed.index.add(found);
  const matching = [...contacts.values()]
    .map((raw) => ({ raw, contact: toAmoContact(raw, search.messengerFields ?? []) }))
    .filter(({ contact }) => identitiesOf({ ...contact, messengers: contact.messengers ?? [] }).identities.some((i) => wanted.has(i.key)));
  const leadIds = [...new Set(matching.flatMap(({ raw }) => (raw._embedded?.leads ?? []).map((l) => l.id)))].slice(0, 250);
  // A new person: the only lead found is the request itself (its own contact matched) — nothing to read.
  if (search.request && leadIds.length === 1 && String(leadIds[0]) === search.request.id) {
    return { contacts: matching.map((m) => m.contact), deals: [] };
  }
  const deals: ClientDeal[] = [];
  if (leadIds.length && byIndex) {
    for (const lead of await byIndex.readLeads(leadIds)) deals.push(toClientDeal(lead));
  } else if (leadIds.length) {
    const params: Record<string, string | number> = { with: 'contacts', limit: 250 };
    leadIds.forEach((id, i) => (params[`filter[id][${i}]`] = id));
    const page = await rest.get<{ _embedded: { leads: AmoLeadRow[] } }>('/api/v4/leads', params);
    for (const lead of page?._embedded.leads ?? []) deals.push(toClientDeal(lead));
  }
  return { contacts: matching.map((m) => m.contact), deals };
}

/** amoCRM's full-text search, one request per value (the index is not complete yet). */
async function searchContacts(rest: AmoRestClient, search: ClientSearch): Promise<AmoContact[]> {
  const queries = new Set<string>([
    ...search.phones.map((p) => p.replace(/\D/g, '').slice(-10)),
    ...search.emails,
    ...search.messengers.map((m) => (m.includes('|') ? m.slice(m.indexOf('|') + 1) : m).replace(/^@/, '')),
  ]);
  const contacts = new Map<number, AmoContact>();
  for (const query of queries) {
    if (!query) continue;
    const page = await rest.get<{ _embedded: { contacts: AmoContact[] } }>('/api/v4/contacts', { query, with: 'leads', limit: 50 });
    for (const c of page?._embedded.contacts ?? []) contacts.set(c.id, c);
  }
  return [...contacts.values()];
}

const bareMessenger = (m: string) => (m.includes('|') ? m.slice(m.indexOf('|') + 1) : m);

function toClientDeal(lead: AmoLeadRow): ClientDeal {
  return {
    entity: 'deal',
    id: String(lead.id),
    title: lead.name,
    stageId: String(lead.status_id),
    funnelId: String(lead.pipeline_id),
    responsibleId: lead.responsible_user_id ? String(lead.responsible_user_id) : null,
    semantics: lead.status_id === AMO_WON ? 'success' : lead.status_id === AMO_LOST ? 'failure' : 'process',
    createdAt: lead.created_at ? new Date(lead.created_at * 1000).toISOString() : null,
    contactIds: (lead._embedded?.contacts ?? []).map((c) => String(c.id)),
    // amoCRM has no separate lead entity: every lead is a request until a manager works it.
    isRequest: true,
  };
}

/** A contact as the port describes it; messengers are bare ids (amoCRM does not say the network). */
export function toAmoContact(contact: AmoContact, messengerFields: readonly string[] = []): Contact {
  const fields = contact.custom_fields_values ?? [];
  const values = (match: (f: AmoCustomFieldValue) => boolean) => fields.filter(match).flatMap((f) => f.values.map((v) => String(v.value)));
  const named = new Set(messengerFields.map((n) => n.trim().toLowerCase()));
  return {
    id: String(contact.id),
    name: contact.name,
    phones: values((f) => f.field_code === 'PHONE'),
    emails: values((f) => f.field_code === 'EMAIL'),
    messengers: values((f) => f.field_code === 'IM' || named.has(String(f.field_name ?? '').trim().toLowerCase())),
    labels: (contact._embedded?.tags ?? []).map((t) => t.name),
    responsibleId: contact.responsible_user_id ? String(contact.responsible_user_id) : null,
    fields: Object.fromEntries(
      fields.flatMap((f) => {
        const list = f.values.map((v) => v.value);
        return [[String(f.field_id), list] as const, ...(f.field_name ? [[f.field_name, list] as const] : [])];
      }),
    ),
  };
}

/**
 * amoCRM replaces a multitext field's whole value list on PATCH, so the values the contact has
 * are sent back with the new ones after them (their enum codes kept).
 */
export function communicationsPatch(contact: AmoContact, add: ContactCommunications): AmoCustomFieldValue[] | null {
  const out: Array<Omit<AmoCustomFieldValue, 'field_id'> & { field_id?: number }> = [];
  const plan: Array<[string, string[], string]> = [
    ['PHONE', add.phones, 'WORK'],
    ['EMAIL', add.emails, 'WORK'],
    ['IM', add.messengers.map(bareMessenger), 'OTHER'],
  ];
  for (const [code, values, enumCode] of plan) {
    if (!values.length) continue;
    const field = (contact.custom_fields_values ?? []).find((f) => f.field_code === code);
    const existing = (field?.values ?? []).map((v) => ({ value: v.value, ...(v.enum_code ? { enum_code: v.enum_code } : {}) }));
    out.push({ field_code: code, values: [...existing, ...values.map((value) => ({ value, enum_code: enumCode }))] });
  }
  return out.length ? (out as AmoCustomFieldValue[]) : null;
}
