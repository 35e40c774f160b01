/**
 * Entity types of the amoCRM account emulator (internal state, not the wire format).
 * Wire formats live in `v4-json.ts` (API v4, JSON) and `v2-hooks.ts` (webhooks, API v2 layout).
 */

export interface AmoUserRights {
  leads: { view: string; edit: string; add: string; delete: string; export: string };
  contacts: { view: string; edit: string; add: string; delete: string; export: string };
  companies: { view: string; edit: string; add: string; delete: string; export: string };
  tasks: { edit: string; delete: string };
  mail_access: boolean;
  catalog_access: boolean;
  files_access: boolean;
  status_rights: unknown[];
  is_admin: boolean;
  is_free: boolean;
  is_active: boolean;
  group_id: number | null;
  role_id: number | null;
}

export interface AmoUser {
  id: number;
  name: string;
  email: string;
  lang: string;
  rights: AmoUserRights;
}

/** Seed for `users` option: only `id` and `name` are required. */
export interface AmoUserSeed {
  id: number;
  name: string;
  email?: string;
  is_admin?: boolean;
  is_active?: boolean;
  /** The user's group (`rights.group_id`; null = the default «Отдел продаж», id 0). */
  group_id?: number | null;
  /** Free text used by tests/demo to tell roles apart (e.g. 'manager', 'head'). Not sent by the API. */
  role?: string;
}

export interface AmoStatus {
  id: number;
  name: string;
  sort: number;
  is_editable: boolean;
  pipeline_id: number;
  color: string;
  /** 1 = incoming ("Неразобранное"), 0 = regular (142/143 included). */
  type: 0 | 1;
}

export interface AmoPipeline {
  id: number;
  name: string;
  sort: number;
  is_main: boolean;
  is_unsorted_on: boolean;
  is_archive: boolean;
  statuses: AmoStatus[];
}

export type AmoEntityType = 'leads' | 'contacts';

export interface AmoEnum {
  id: number;
  value: string;
  sort: number;
  /** Only multitext (PHONE/EMAIL) enums have codes: WORK, MOB, PRIV… */
  code?: string;
}

export interface AmoCustomField {
  id: number;
  name: string;
  type: string;
  code: string | null;
  sort: number;
  entity_type: AmoEntityType;
  enums: AmoEnum[] | null;
  is_predefined: boolean;
  is_deletable: boolean;
}

export interface CfStoredValue {
  value: string | number | boolean;
  enum_id?: number;
  enum_code?: string | null;
}

export interface CfEntry {
  field_id: number;
  values: CfStoredValue[];
}

export interface AmoTag {
  id: number;
  name: string;
}

export interface AmoLead {
  id: number;
  name: string;
  price: number;
  responsible_user_id: number;
  group_id: number;
  status_id: number;
  pipeline_id: number;
  loss_reason_id: number | null;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  custom_fields: CfEntry[];
  tags: AmoTag[];
  is_deleted: boolean;
}

export interface AmoContact {
  id: number;
  name: string;
  first_name: string;
  last_name: string;
  responsible_user_id: number;
  group_id: number;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  custom_fields: CfEntry[];
  tags: AmoTag[];
  is_deleted: boolean;
}

export interface AmoLink {
  lead_id: number;
  contact_id: number;
  main: boolean;
}

export interface AmoNote {
  id: number;
  entity_type: AmoEntityType;
  entity_id: number;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  responsible_user_id: number;
  group_id: number;
  note_type: string;
  params: Record<string, unknown>;
}

export interface AmoTask {
  id: number;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  responsible_user_id: number;
  group_id: number;
  entity_id: number | null;
  entity_type: AmoEntityType | null;
  duration: number;
  is_completed: boolean;
  task_type_id: number;
  text: string;
  result: { text?: string } | unknown[];
  complete_till: number;
}

export interface AmoLossReason {
  id: number;
  name: string;
  sort: number;
  created_at: number;
  updated_at: number;
}

export interface AmoEvent {
  id: string;
  type: string;
  entity_id: number;
  entity_type: 'lead' | 'contact';
  created_by: number;
  created_at: number;
  value_after: unknown[];
  value_before: unknown[];
}

export interface AmoWebhook {
  id: number;
  destination: string;
  settings: string[];
  sort: number;
  disabled: boolean;
  created_by: number;
  created_at: number;
  updated_at: number;
  /** Emulator bookkeeping: times (ms, emulator clock) of invalid answers, for auto-disable. */
  invalidAt: number[];
}

/** One webhook "item": one entity snapshot under `{entity}[{action}][i]` in the form body. */
export interface HookItem {
  entity: AmoEntityType;
  action: 'add' | 'update' | 'status' | 'responsible' | 'delete';
  /** The setting code that must be subscribed for this item to be sent (add_lead, status_lead…). */
  setting: string;
  /** Nested v2-layout fields, all leaves strings (encoded with PHP `http_build_query`). */
  fields: Record<string, unknown>;
}

export interface ValidationError {
  code: string;
  path: string;
  detail: string;
}
