/**
 * Webhook bodies in the amoCRM **API v2 layout** (research amocrm.md §2.2): form-encoded, every
 * leaf a string, `custom_fields` (not `custom_fields_values`), `last_modified`, `date_create`,
 * `modified_user_id`, `created_user_id`; date fields carry a scalar `values[0]=<unix>`.
 *
 * The builders return nested objects with string leaves; `toPhpForm` (../form-encode) turns them
 * into `leads%5Bstatus%5D%5B0%5D%5Bid%5D=…` exactly like PHP `http_build_query`.
 */
import type { AmoContact, AmoLead, CfEntry, HookItem } from './types';
import type { AmoStore } from './store';

const DATE_TYPES = new Set(['date', 'date_time', 'birthday']);

function hookCustomFields(store: AmoStore, entries: CfEntry[]): Record<string, unknown> | undefined {
  if (entries.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  entries.forEach((entry, i) => {
    const field = store.field(entry.field_id);
    const item: Record<string, unknown> = { id: String(entry.field_id), name: field?.name ?? '' };
    const values: Record<string, unknown> = {};
    entry.values.forEach((v, j) => {
      if (field && DATE_TYPES.has(field.type)) {
        values[String(j)] = String(v.value);
        return;
      }
      const value = typeof v.value === 'boolean' ? (v.value ? '1' : '0') : String(v.value);
      const val: Record<string, string> = { value };
      if (v.enum_id !== undefined) val.enum = String(v.enum_id);
      values[String(j)] = val;
    });
    item.values = values;
    if (field?.code) item.code = field.code;
    out[String(i)] = item;
  });
  return out;
}

function hookTags(tags: Array<{ id: number; name: string }>): Record<string, unknown> | undefined {
  if (tags.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  tags.forEach((t, i) => {
    out[String(i)] = { id: String(t.id), name: t.name };
  });
  return out;
}

/**
 * Snapshot of a lead as amoCRM puts it under `leads[add|update|status|responsible][i]`.
 * `extra` carries action-specific fields: `old_status_id`, `old_pipeline_id`, `old_responsible_user_id`.
 */
export function leadHookFields(store: AmoStore, lead: AmoLead, modifiedBy: number, extra: Record<string, string>): Record<string, unknown> {
  const o: Record<string, unknown> = {
    id: String(lead.id),
    name: lead.name,
    status_id: String(lead.status_id),
  };
  if (extra.old_status_id !== undefined) o.old_status_id = extra.old_status_id;
  o.price = String(lead.price);
  o.responsible_user_id = String(lead.responsible_user_id);
  if (extra.old_responsible_user_id !== undefined) o.old_responsible_user_id = extra.old_responsible_user_id;
  o.last_modified = String(lead.updated_at);
  o.modified_user_id = String(modifiedBy);
  o.created_user_id = String(lead.created_by);
  o.date_create = String(lead.created_at);
  o.pipeline_id = String(lead.pipeline_id);
  if (extra.old_pipeline_id !== undefined) o.old_pipeline_id = extra.old_pipeline_id;
  const tags = hookTags(lead.tags);
  if (tags) o.tags = tags;
  o.account_id = String(store.accountId);
  const cf = hookCustomFields(store, lead.custom_fields);
  if (cf) o.custom_fields = cf;
  o.created_at = String(lead.created_at);
  o.updated_at = String(lead.updated_at);
  return o;
}

/** Snapshot of a contact under `contacts[add|update|responsible][i]` (phones/emails with `code`). */
export function contactHookFields(store: AmoStore, contact: AmoContact, modifiedBy: number, extra: Record<string, string>): Record<string, unknown> {
  const o: Record<string, unknown> = {
    id: String(contact.id),
    name: contact.name,
    responsible_user_id: String(contact.responsible_user_id),
  };
  if (extra.old_responsible_user_id !== undefined) o.old_responsible_user_id = extra.old_responsible_user_id;
  o.date_create = String(contact.created_at);
  o.last_modified = String(contact.updated_at);
  o.created_user_id = String(contact.created_by);
  o.modified_user_id = String(modifiedBy);
  const tags = hookTags(contact.tags);
  if (tags) o.tags = tags;
  o.account_id = String(store.accountId);
  const cf = hookCustomFields(store, contact.custom_fields);
  if (cf) o.custom_fields = cf;
  const linked = store.leadsOfContact(contact.id);
  if (linked.length > 0) {
    const ll: Record<string, unknown> = {};
    for (const l of linked) ll[String(l.lead_id)] = { ID: String(l.lead_id) };
    o.linked_leads_id = ll;
  }
  o.created_at = String(contact.created_at);
  o.updated_at = String(contact.updated_at);
  o.type = 'contact';
  return o;
}

/**
 * Builds the body object of one webhook POST from queued items: items are grouped by
 * entity and action, numbered from 0 within each action, followed by the `account` block.
 */
export function buildHookBody(store: AmoStore, items: HookItem[]): Record<string, unknown> {
  const body: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const item of items) {
    const entity = (body[item.entity] ??= {});
    const action = (entity[item.action] ??= {});
    action[String(Object.keys(action).length)] = item.fields;
  }
  return {
    ...body,
    account: {
      subdomain: store.subdomain,
      id: String(store.accountId),
      _links: { self: store.baseUrl },
    },
  };
}
