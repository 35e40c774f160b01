/**
 * API v4 JSON (HAL) representations of the emulator's entities (research amocrm.md §3).
 * Notable real-world details kept on purpose:
 * - `custom_fields_values` is `null` (not `[]`) when an entity has no values;
 * - date custom field values are unix timestamps, numeric field values are strings;
 * - `_embedded.tags` / `_embedded.companies` are always present on leads; `contacts` only with `with=contacts`.
 */
import type {
  AmoContact,
  AmoCustomField,
  AmoEvent,
  AmoLead,
  AmoLossReason,
  AmoNote,
  AmoPipeline,
  AmoStatus,
  AmoTask,
  AmoUser,
  AmoWebhook,
  CfEntry,
} from './types';
import type { AmoStore } from './store';

const href = (store: AmoStore, path: string) => ({ href: `${store.baseUrl}${path}` });

export function cfValuesJson(store: AmoStore, entries: CfEntry[]): unknown[] | null {
  if (entries.length === 0) return null;
  return entries.map((e) => {
    const f = store.field(e.field_id);
    return {
      field_id: e.field_id,
      field_name: f?.name ?? '',
      field_code: f?.code ?? null,
      field_type: f?.type ?? 'text',
      values: e.values.map((v) => {
        const out: Record<string, unknown> = { value: v.value };
        if (v.enum_id !== undefined) out.enum_id = v.enum_id;
        if (v.enum_code !== undefined) out.enum_code = v.enum_code;
        return out;
      }),
    };
  });
}

export function userJson(store: AmoStore, u: AmoUser): unknown {
  return { id: u.id, name: u.name, email: u.email, lang: u.lang, rights: u.rights, _links: { self: href(store, `/api/v4/users/${u.id}`) } };
}

export function statusJson(store: AmoStore, s: AmoStatus): unknown {
  return {
    id: s.id,
    name: s.name,
    sort: s.sort,
    is_editable: s.is_editable,
    pipeline_id: s.pipeline_id,
    color: s.color,
    type: s.type,
    account_id: store.accountId,
    _links: { self: href(store, `/api/v4/leads/pipelines/${s.pipeline_id}/statuses/${s.id}`) },
  };
}

export function pipelineJson(store: AmoStore, p: AmoPipeline): unknown {
  return {
    id: p.id,
    name: p.name,
    sort: p.sort,
    is_main: p.is_main,
    is_unsorted_on: p.is_unsorted_on,
    is_archive: p.is_archive,
    account_id: store.accountId,
    _links: { self: href(store, `/api/v4/leads/pipelines/${p.id}`) },
    _embedded: { statuses: p.statuses.map((s) => statusJson(store, s)) },
  };
}

export function lossReasonJson(store: AmoStore, r: AmoLossReason): unknown {
  return { id: r.id, name: r.name, sort: r.sort, created_at: r.created_at, updated_at: r.updated_at, _links: { self: href(store, `/api/v4/leads/loss_reasons/${r.id}`) } };
}

export function leadJson(store: AmoStore, lead: AmoLead, withSet: Set<string>): unknown {
  const embedded: Record<string, unknown> = {
    tags: lead.tags.map((t) => ({ id: t.id, name: t.name, color: null })),
    companies: [],
  };
  if (withSet.has('contacts')) {
    embedded.contacts = store.contactsOfLead(lead.id).map((l) => ({
      id: l.contact_id,
      is_main: l.main,
      _links: { self: href(store, `/api/v4/contacts/${l.contact_id}`) },
    }));
  }
  if (withSet.has('loss_reason')) {
    const r = store.lossReasons.find((x) => x.id === lead.loss_reason_id);
    embedded.loss_reason = r ? [lossReasonJson(store, r)] : [];
  }
  const out: Record<string, unknown> = {
    id: lead.id,
    name: lead.name,
    price: lead.price,
    responsible_user_id: lead.responsible_user_id,
    group_id: lead.group_id,
    status_id: lead.status_id,
    pipeline_id: lead.pipeline_id,
    loss_reason_id: lead.loss_reason_id,
    created_by: lead.created_by,
    updated_by: lead.updated_by,
    created_at: lead.created_at,
    updated_at: lead.updated_at,
    closed_at: lead.closed_at,
    closest_task_at: store.closestTaskAt('leads', lead.id),
    is_deleted: lead.is_deleted,
    custom_fields_values: cfValuesJson(store, lead.custom_fields),
    score: null,
    account_id: store.accountId,
    labor_cost: null,
  };
  if (withSet.has('source_id')) out.source_id = null;
  if (withSet.has('is_price_modified_by_robot')) out.is_price_modified_by_robot = false;
  out._links = { self: href(store, `/api/v4/leads/${lead.id}`) };
  out._embedded = embedded;
  return out;
}

export function contactJson(store: AmoStore, c: AmoContact, withSet: Set<string>): unknown {
  const embedded: Record<string, unknown> = { tags: c.tags.map((t) => ({ id: t.id, name: t.name, color: null })), companies: [] };
  if (withSet.has('leads')) {
    embedded.leads = store.leadsOfContact(c.id).map((l) => ({ id: l.lead_id, _links: { self: href(store, `/api/v4/leads/${l.lead_id}`) } }));
  }
  return {
    id: c.id,
    name: c.name,
    first_name: c.first_name,
    last_name: c.last_name,
    responsible_user_id: c.responsible_user_id,
    group_id: c.group_id,
    created_by: c.created_by,
    updated_by: c.updated_by,
    created_at: c.created_at,
    updated_at: c.updated_at,
    closest_task_at: store.closestTaskAt('contacts', c.id),
    is_deleted: c.is_deleted,
    is_unsorted: false,
    custom_fields_values: cfValuesJson(store, c.custom_fields),
    account_id: store.accountId,
    _links: { self: href(store, `/api/v4/contacts/${c.id}`) },
    _embedded: embedded,
  };
}

export function customFieldJson(store: AmoStore, f: AmoCustomField): unknown {
  return {
    id: f.id,
    name: f.name,
    type: f.type,
    account_id: store.accountId,
    code: f.code,
    sort: f.sort,
    is_api_only: false,
    enums: f.enums ? f.enums.map((e) => ({ id: e.id, value: e.value, sort: e.sort })) : null,
    group_id: null,
    required_statuses: [],
    is_deletable: f.is_deletable,
    is_predefined: f.is_predefined,
    entity_type: f.entity_type,
    remind: null,
    _links: { self: href(store, `/api/v4/${f.entity_type}/custom_fields/${f.id}`) },
  };
}

export function noteJson(store: AmoStore, n: AmoNote): unknown {
  return {
    id: n.id,
    entity_id: n.entity_id,
    created_by: n.created_by,
    updated_by: n.updated_by,
    created_at: n.created_at,
    updated_at: n.updated_at,
    responsible_user_id: n.responsible_user_id,
    group_id: n.group_id,
    note_type: n.note_type,
    params: n.params,
    account_id: store.accountId,
    _links: { self: href(store, `/api/v4/${n.entity_type}/${n.entity_id}/notes/${n.id}`) },
  };
}

export function taskJson(store: AmoStore, t: AmoTask): unknown {
  return {
    id: t.id,
    created_by: t.created_by,
    updated_by: t.updated_by,
    created_at: t.created_at,
    updated_at: t.updated_at,
    responsible_user_id: t.responsible_user_id,
    group_id: t.group_id,
    entity_id: t.entity_id,
    entity_type: t.entity_type,
    duration: t.duration,
    is_completed: t.is_completed,
    task_type_id: t.task_type_id,
    text: t.text,
    result: t.result,
    complete_till: t.complete_till,
    account_id: store.accountId,
    _links: { self: href(store, `/api/v4/tasks/${t.id}`) },
  };
}

export function eventJson(store: AmoStore, e: AmoEvent): unknown {
  const plural = e.entity_type === 'lead' ? 'leads' : 'contacts';
  return {
    id: e.id,
    type: e.type,
    entity_id: e.entity_id,
    entity_type: e.entity_type,
    created_by: e.created_by,
    created_at: e.created_at,
    value_after: e.value_after,
    value_before: e.value_before,
    account_id: store.accountId,
    _links: { self: href(store, `/api/v4/events/${e.id}`) },
    _embedded: { entity: { id: e.entity_id, _links: { self: href(store, `/api/v4/${plural}/${e.entity_id}`) } } },
  };
}

export function webhookJson(store: AmoStore, w: AmoWebhook): unknown {
  return {
    id: w.id,
    destination: w.destination,
    created_at: w.created_at,
    updated_at: w.updated_at,
    account_id: store.accountId,
    created_by: w.created_by,
    sort: w.sort,
    disabled: w.disabled,
    settings: w.settings,
  };
}
