import { searchFormsOfPhone } from '../../dedup/communications';
import type { ClientDeal, ClientMatches, ClientSearch, Contact, DealEntity, StageSemantics } from '../crm-port';
import type { BatchResult, Bitrix24RestClient } from './rest-client';

type Row = Record<string, unknown>;
type Command = { method: string; params?: Record<string, unknown> };

/** `crm.duplicate.findbycomm` takes at most 20 values per call (restdocs crm-duplicate-find-by-comm.md). */
const FIND_LIMIT = 20;
/** A batch holds 50 commands; each find brings four reads, plus the contact types. */
const MAX_FINDS = 9;
const CONTACT_SELECT = ['ID', 'NAME', 'LAST_NAME', 'TYPE_ID', 'ASSIGNED_BY_ID', 'PHONE', 'EMAIL', 'IM'];
const DEAL_SELECT = ['id', 'title', 'stageId', 'categoryId', 'assignedById', 'stageSemanticId', 'createdTime', 'contactId', 'contactIds', 'sourceId'];

/**
 * Finds a client in one HTTP request: every `crm.duplicate.findbycomm` and the reads that follow
 * it travel in one `batch`, the reads taking the found ids by `$result[…]` reference — the
 * contacts (legacy `crm.contact.list`, the one that returns PHONE/EMAIL/IM when named in
 * `select`), their deals, deals of found companies, and the found leads. Messenger ids cannot be
 * searched by findbycomm (PHONE and EMAIL only): contacts holding them are listed by the IM
 * multi-field in the same batch, and their deals need a second request only when they exist.
 */
export async function findClients(rest: Bitrix24RestClient, search: ClientSearch): Promise<ClientMatches> {
  const contactSelect = [...CONTACT_SELECT, ...(search.contactFields ?? []).map((f) => f.trim().toUpperCase()).filter((f) => /^UF_CRM_[A-Z0-9_]+$/.test(f))];
  const commands: Record<string, Command> = { types: { method: 'crm.status.list', params: { filter: { ENTITY_ID: 'CONTACT_TYPE' } } } };
  const finds: string[] = [];
  const addFinds = (type: 'PHONE' | 'EMAIL', values: string[]) => {
    for (let i = 0; i < values.length && finds.length < MAX_FINDS; i += FIND_LIMIT) {
      const key = `${type === 'PHONE' ? 'p' : 'e'}${i / FIND_LIMIT}`;
      finds.push(key);
      commands[key] = { method: 'crm.duplicate.findbycomm', params: { type, values: values.slice(i, i + FIND_LIMIT) } };
      commands[`${key}c`] = { method: 'crm.contact.list', params: { filter: { '@ID': `$result[${key}][CONTACT]` }, select: contactSelect } };
      commands[`${key}d`] = { method: 'crm.item.list', params: { entityTypeId: 2, filter: { '@contactId': `$result[${key}][CONTACT]` }, select: DEAL_SELECT } };
      commands[`${key}k`] = { method: 'crm.item.list', params: { entityTypeId: 2, filter: { '@companyId': `$result[${key}][COMPANY]` }, select: DEAL_SELECT } };
      commands[`${key}l`] = { method: 'crm.item.list', params: { entityTypeId: 1, filter: { '@id': `$result[${key}][LEAD]` }, select: DEAL_SELECT } };
    }
  };
  addFinds('PHONE', unique(search.phones.flatMap(searchFormsOfPhone)));
  addFinds('EMAIL', unique(search.emails));
  // IM filters match exactly: the id as given, lower-cased, with and without the Telegram "@".
  const imValues = unique(
    search.messengers
      .map((m) => (m.includes('|') ? m.slice(m.indexOf('|') + 1) : m).trim())
      .flatMap((v) => [v, v.toLowerCase()])
      .flatMap((v) => (v.startsWith('@') ? [v, v.slice(1)] : [v, `@${v}`])),
  );
  if (imValues.length) commands.im = { method: 'crm.contact.list', params: { filter: { IM: imValues }, select: contactSelect } };
  if (!finds.length && !imValues.length) return { contacts: [], deals: [] };

  const answer = await rest.batch(commands);
  const typeNames = new Map(rowsOf(answer, 'types').map((t) => [String(t.STATUS_ID), String(t.NAME)]));
  const contacts = new Map<string, Contact>();
  const deals = new Map<string, ClientDeal>();
  for (const key of finds) {
    const found = answer.result[key];
    if (answer.errors[key]) throw new Error(`Bitrix24 crm.duplicate.findbycomm: ${answer.errors[key]!.error} ${answer.errors[key]!.error_description ?? ''}`);
    const has = (kind: string) => Array.isArray((found as Row | undefined)?.[kind]) && ((found as Row)[kind] as unknown[]).length > 0;
    // Nothing found is `[]`; the reads that referenced it then fail or find nothing and are not used.
    if (has('CONTACT')) for (const row of rowsOf(answer, `${key}c`)) contacts.set(String(row.ID), toContact(row, typeNames));
    if (has('CONTACT')) for (const item of itemsOf(answer, `${key}d`)) deals.set(`deal:${item.id}`, toClientDeal('deal', item));
    if (has('COMPANY')) for (const item of itemsOf(answer, `${key}k`)) deals.set(`deal:${item.id}`, toClientDeal('deal', item));
    if (has('LEAD')) for (const item of itemsOf(answer, `${key}l`)) deals.set(`lead:${item.id}`, toClientDeal('lead', item));
  }
  const byMessenger = rowsOf(answer, 'im').map((row) => toContact(row, typeNames)).filter((c) => !contacts.has(c.id));
  if (byMessenger.length) {
    for (const c of byMessenger) contacts.set(c.id, c);
    const more = await rest.batch({ d: { method: 'crm.item.list', params: { entityTypeId: 2, filter: { '@contactId': byMessenger.map((c) => Number(c.id)) }, select: DEAL_SELECT } } });
    for (const item of itemsOf(more, 'd')) deals.set(`deal:${item.id}`, toClientDeal('deal', item));
  }
  return { contacts: [...contacts.values()], deals: [...deals.values()] };
}

function rowsOf(answer: BatchResult, key: string): Row[] {
  const value = answer.result[key];
  return Array.isArray(value) ? (value as Row[]) : [];
}

function itemsOf(answer: BatchResult, key: string): Row[] {
  const value = answer.result[key] as { items?: Row[] } | undefined;
  return Array.isArray(value?.items) ? value!.items! : [];
}

function toContact(row: Row, typeNames: Map<string, string>): Contact {
  const multi = (name: string) => (Array.isArray(row[name]) ? (row[name] as Row[]) : []);
  const typeId = row.TYPE_ID ? String(row.TYPE_ID) : '';
  return {
    id: String(row.ID),
    name: [row.LAST_NAME, row.NAME].filter((p) => typeof p === 'string' && p.trim()).join(' '),
    phones: multi('PHONE').map((v) => String(v.VALUE)),
    emails: multi('EMAIL').map((v) => String(v.VALUE)),
    messengers: multi('IM').map((v) => `${String(v.VALUE_TYPE ?? '')}|${String(v.VALUE)}`),
    labels: typeId ? [typeId, typeNames.get(typeId) ?? ''].filter(Boolean) : [],
    responsibleId: row.ASSIGNED_BY_ID ? String(row.ASSIGNED_BY_ID) : null,
    fields: Object.fromEntries(Object.entries(row).filter(([k]) => k.startsWith('UF_')).map(([k, v]) => [k, Array.isArray(v) ? v : v === null || v === undefined || v === '' ? [] : [v]])),
  };
}

const SEMANTICS: Record<string, StageSemantics> = { S: 'success', F: 'failure' };

function toClientDeal(entity: DealEntity, item: Row): ClientDeal {
  const contactIds = Array.isArray(item.contactIds) ? item.contactIds.map(String) : item.contactId ? [String(item.contactId)] : [];
  return {
    entity,
    id: String(item.id),
    title: String(item.title ?? ''),
    stageId: String(item.stageId ?? ''),
    funnelId: entity === 'lead' ? 'lead' : String(item.categoryId ?? 0),
    responsibleId: item.assignedById ? String(item.assignedById) : null,
    semantics: SEMANTICS[String(item.stageSemanticId)] ?? 'process',
    createdAt: item.createdTime ? new Date(String(item.createdTime)).toISOString() : null,
    contactIds,
    isRequest: entity === 'lead',
    source: item.sourceId ? String(item.sourceId) : null,
  };
}

const unique = (values: string[]) => [...new Set(values.filter(Boolean))];
