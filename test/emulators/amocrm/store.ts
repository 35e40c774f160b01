/**
 * In-memory state of one emulated amoCRM account plus every state change.
 *
 * Every mutation (whether made "by a user in the browser" or through API v4) goes through this
 * class, which records `/api/v4/events` entries and emits webhook items, exactly once per change.
 * Validation returns amoCRM-style `validation-errors` entries (`{code, path, detail}`).
 */
import { randomBytes } from 'node:crypto';
import type {
  AmoContact,
  AmoCustomField,
  AmoEntityType,
  AmoEvent,
  AmoLead,
  AmoLink,
  AmoLossReason,
  AmoNote,
  AmoPipeline,
  AmoStatus,
  AmoTask,
  AmoUser,
  AmoUserSeed,
  AmoWebhook,
  CfEntry,
  CfStoredValue,
  HookItem,
  ValidationError,
} from './types';
import { contactHookFields, leadHookFields } from './v2-hooks';

export const WON_STATUS_ID = 142;
export const LOST_STATUS_ID = 143;

const DATE_TYPES = new Set(['date', 'date_time', 'birthday']);
const ENUM_TYPES = new Set(['select', 'radiobutton', 'multiselect', 'category']);
const NUMERIC_TYPES = new Set(['numeric', 'price', 'monetary']);

export const PHONE_ENUM_CODES = ['WORK', 'WORKDD', 'MOB', 'FAX', 'HOME', 'OTHER'];
export const EMAIL_ENUM_CODES = ['WORK', 'PRIV', 'OTHER'];

/** Note types accepted by `POST /api/v4/{entity}/notes` (Kommo "notes types" reference). */
export const NOTE_TYPES = new Set([
  'common',
  'call_in',
  'call_out',
  'service_message',
  'extended_service_message',
  'message_cashier',
  'geolocation',
  'sms_in',
  'sms_out',
  'attachment',
]);

/**
 * Webhook setting codes accepted by `POST /api/v4/webhooks`. The emulator fires only
 * add/update/status/responsible/delete_lead and add/update/responsible/delete_contact.
 */
export const WEBHOOK_SETTINGS = new Set([
  'add_lead', 'update_lead', 'delete_lead', 'restore_lead', 'status_lead', 'responsible_lead', 'note_lead',
  'add_contact', 'update_contact', 'delete_contact', 'restore_contact', 'responsible_contact', 'note_contact',
  'add_company', 'update_company', 'delete_company', 'restore_company', 'responsible_company', 'note_company',
  'add_customer', 'update_customer', 'delete_customer', 'responsible_customer', 'note_customer',
  'add_task', 'update_task', 'delete_task', 'responsible_task',
  'add_unsorted', 'delete_unsorted', 'add_talk', 'update_talk', 'add_message', 'add_outgoing_message',
]);

export class AmoValidationFailure extends Error {
  constructor(readonly errors: ValidationError[], message = 'Request validation failed') {
    super(`${message}: ${errors.map((e) => `${e.path} ${e.code}`).join(', ')}`);
  }
}

/** Raw v4 `custom_fields_values` item as sent by clients. */
export interface CfInput {
  field_id?: unknown;
  field_code?: unknown;
  values?: unknown;
}

/** A validated partial lead update. */
export interface LeadChange {
  name?: string;
  price?: number;
  status_id?: number;
  pipeline_id?: number;
  responsible_user_id?: number;
  loss_reason_id?: number | null;
  closed_at?: number;
  custom_fields?: Array<{ field_id: number; values: CfStoredValue[] }>;
  tags?: Array<{ id?: number; name?: string }>;
}

export interface ContactChange {
  name?: string;
  first_name?: string;
  last_name?: string;
  responsible_user_id?: number;
  custom_fields?: Array<{ field_id: number; values: CfStoredValue[] }>;
  tags?: Array<{ id?: number; name?: string }>;
}

export interface StoreOptions {
  accountId: number;
  subdomain: string;
  users: AmoUserSeed[];
  now: () => number;
}

function defaultRights(isAdmin: boolean, isActive: boolean, groupId: number | null = null): AmoUser['rights'] {
  const full = { view: 'A', edit: 'A', add: 'A', delete: isAdmin ? 'A' : 'D', export: isAdmin ? 'A' : 'D' };
  return {
    leads: { ...full },
    contacts: { ...full },
    companies: { ...full },
    tasks: { edit: 'A', delete: isAdmin ? 'A' : 'D' },
    mail_access: true,
    catalog_access: true,
    files_access: true,
    status_rights: [],
    is_admin: isAdmin,
    is_free: false,
    is_active: isActive,
    group_id: groupId,
    role_id: null,
  };
}

/** The event a note of this type adds to the lead's feed. */
const NOTE_EVENT_TYPES: Record<string, string> = {
  common: 'common_note_added',
  call_out: 'outgoing_call',
  call_in: 'incoming_call',
  sms_out: 'outgoing_sms',
  sms_in: 'incoming_sms',
  service_message: 'service_note_added',
  extended_service_message: 'service_note_added',
  attachment: 'attachment_note_added',
  geolocation: 'geo_note_added',
};

export const DEFAULT_USERS: AmoUserSeed[] = [
  { id: 1, name: 'Администратор', email: 'admin@reglament-demo.example', is_admin: true, role: 'admin' },
  { id: 2, name: 'Анна Менеджерова', email: 'anna@reglament-demo.example', role: 'manager' },
  { id: 3, name: 'Борис Продажин', email: 'boris@reglament-demo.example', role: 'manager' },
  { id: 4, name: 'Виктор Руководов (РОП)', email: 'head@reglament-demo.example', role: 'head' },
];

const STATUS_COLORS = ['#99ccff', '#ffff99', '#ffcc66', '#ffcccc', '#deff81', '#87f2c0', '#f9deff', '#d6eaff'];

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Accepts ints and digit strings (amoCRM is lenient with numeric strings in JSON bodies). */
function toInt(v: unknown): number | undefined {
  if (isInt(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

export class AmoStore {
  readonly accountId: number;
  readonly subdomain: string;
  readonly now: () => number;

  users: AmoUser[] = [];
  userRoles = new Map<number, string>();
  pipelines: AmoPipeline[] = [];
  fields: AmoCustomField[] = [];
  leads = new Map<number, AmoLead>();
  contacts = new Map<number, AmoContact>();
  links: AmoLink[] = [];
  notes: AmoNote[] = [];
  tasks: AmoTask[] = [];
  lossReasons: AmoLossReason[] = [];
  events: AmoEvent[] = [];
  webhooks: AmoWebhook[] = [];
  tags: Array<{ id: number; name: string }> = [];

  /** Receives every webhook item produced by a state change. */
  onHook: (item: HookItem) => void = () => undefined;
  /** A lead entered a stage (a move by a user or through the API): the Digital Pipeline's trigger. */
  onLeadEnteredStatus: (lead: AmoLead) => void = () => undefined;
  /** Base URL used in `_links` (set once the server listens). */
  baseUrl = 'http://127.0.0.1';

  private seq = {
    pipeline: 7_000_000,
    status: 60_000_000,
    field: 500_000,
    enumId: 900_000,
    lead: 20_000_000,
    contact: 30_000_000,
    note: 40_000_000,
    task: 50_000_000,
    lossReason: 8_000,
    webhook: 1_000,
    tag: 70_000,
    event: 0,
  };

  constructor(opts: StoreOptions) {
    this.accountId = opts.accountId;
    this.subdomain = opts.subdomain;
    this.now = opts.now;
    for (const u of opts.users) {
      this.users.push({
        id: u.id,
        name: u.name,
        email: u.email ?? `user${u.id}@${opts.subdomain}.example`,
        lang: 'ru',
        rights: defaultRights(u.is_admin === true, u.is_active !== false, u.group_id ?? null),
      });
      if (u.role) this.userRoles.set(u.id, u.role);
    }
    this.seedDefaults();
  }

  nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  // ---------------------------------------------------------------- setup

  private seedDefaults(): void {
    this.addPipeline(
      'Воронка',
      [
        { name: 'Первичный контакт', sort: 20 },
        { name: 'Переговоры', sort: 30 },
        { name: 'Принимают решение', sort: 40 },
        { name: 'Согласование договора', sort: 50 },
      ],
      true,
    );
    this.addCustomField('leads', { name: 'Объект', type: 'text' });
    this.addCustomField('leads', { name: 'Дата встречи', type: 'date' });
    this.addCustomField('leads', { name: 'Причина закрытия', type: 'text' });
    this.addCustomField('leads', {
      name: 'Источник',
      type: 'select',
      enums: ['Сайт', 'Звонок', 'Агентство', 'Повторное обращение'],
    });
    this.addCustomField('contacts', { name: 'Телефон', type: 'multitext', code: 'PHONE', enumCodes: PHONE_ENUM_CODES });
    this.addCustomField('contacts', { name: 'Email', type: 'multitext', code: 'EMAIL', enumCodes: EMAIL_ENUM_CODES });
    this.addCustomField('contacts', { name: 'Должность', type: 'text', code: 'POSITION' });
  }

  addPipeline(
    name: string,
    statuses: Array<{ name: string; sort: number; color?: string }>,
    isMain = false,
  ): AmoPipeline {
    const id = ++this.seq.pipeline;
    const list: AmoStatus[] = [];
    list.push({ id: ++this.seq.status, name: 'Неразобранное', sort: 10, is_editable: false, pipeline_id: id, color: '#c1c1c1', type: 1 });
    statuses.forEach((s, i) => {
      list.push({
        id: ++this.seq.status,
        name: s.name,
        sort: s.sort,
        is_editable: true,
        pipeline_id: id,
        color: s.color ?? STATUS_COLORS[i % STATUS_COLORS.length] ?? '#99ccff',
        type: 0,
      });
    });
    list.push({ id: WON_STATUS_ID, name: 'Успешно реализовано', sort: 10000, is_editable: false, pipeline_id: id, color: '#CCFF66', type: 0 });
    list.push({ id: LOST_STATUS_ID, name: 'Закрыто и не реализовано', sort: 11000, is_editable: false, pipeline_id: id, color: '#D5D8DB', type: 0 });
    list.sort((a, b) => a.sort - b.sort);
    const pipeline: AmoPipeline = {
      id,
      name,
      sort: (this.pipelines.length + 1) * 1,
      is_main: isMain || this.pipelines.length === 0,
      is_unsorted_on: true,
      is_archive: false,
      statuses: list,
    };
    this.pipelines.push(pipeline);
    return pipeline;
  }

  addCustomField(
    entity: AmoEntityType,
    spec: { name: string; type: string; code?: string; enums?: string[]; enumCodes?: string[] },
  ): AmoCustomField {
    const id = ++this.seq.field;
    let enums: AmoCustomField['enums'] = null;
    if (spec.enumCodes) {
      enums = spec.enumCodes.map((code, i) => ({ id: ++this.seq.enumId, value: code, code, sort: (i + 1) * 2 }));
    } else if (spec.enums) {
      enums = spec.enums.map((value, i) => ({ id: ++this.seq.enumId, value, sort: (i + 1) * 500 }));
    }
    const field: AmoCustomField = {
      id,
      name: spec.name,
      type: spec.type,
      code: spec.code ?? null,
      sort: (this.fields.filter((f) => f.entity_type === entity).length + 1) * 10,
      entity_type: entity,
      enums,
      is_predefined: spec.code === 'PHONE' || spec.code === 'EMAIL' || spec.code === 'POSITION',
      is_deletable: !(spec.code === 'PHONE' || spec.code === 'EMAIL' || spec.code === 'POSITION'),
    };
    this.fields.push(field);
    return field;
  }

  // ---------------------------------------------------------------- lookups

  mainPipeline(): AmoPipeline {
    const p = this.pipelines.find((x) => x.is_main) ?? this.pipelines[0];
    if (!p) throw new Error('no pipelines');
    return p;
  }

  pipeline(id: number): AmoPipeline | undefined {
    return this.pipelines.find((p) => p.id === id);
  }

  /** First regular (type 0, not 142/143) stage of a pipeline, by sort. */
  firstStage(p: AmoPipeline): AmoStatus {
    const s = p.statuses.find((x) => x.type === 0 && x.id !== WON_STATUS_ID && x.id !== LOST_STATUS_ID) ?? p.statuses[0];
    if (!s) throw new Error(`pipeline ${p.id} has no statuses`);
    return s;
  }

  user(id: number): AmoUser | undefined {
    return this.users.find((u) => u.id === id);
  }

  field(id: number): AmoCustomField | undefined {
    return this.fields.find((f) => f.id === id);
  }

  leadOrThrow(id: number): AmoLead {
    const lead = this.leads.get(id);
    if (!lead || lead.is_deleted) throw new Error(`amoCRM emulator: lead ${id} not found`);
    return lead;
  }

  contactOrThrow(id: number): AmoContact {
    const c = this.contacts.get(id);
    if (!c || c.is_deleted) throw new Error(`amoCRM emulator: contact ${id} not found`);
    return c;
  }

  contactsOfLead(leadId: number): AmoLink[] {
    const list = this.links.filter((l) => l.lead_id === leadId);
    return [...list.filter((l) => l.main), ...list.filter((l) => !l.main)];
  }

  leadsOfContact(contactId: number): AmoLink[] {
    return this.links.filter((l) => l.contact_id === contactId);
  }

  closestTaskAt(entityType: AmoEntityType, id: number): number | null {
    const open = this.tasks.filter((t) => t.entity_type === entityType && t.entity_id === id && !t.is_completed);
    if (open.length === 0) return null;
    return Math.min(...open.map((t) => t.complete_till));
  }

  // ---------------------------------------------------------------- validation

  private validateUserRef(v: unknown, path: string, errors: ValidationError[], allowZero: boolean): number | undefined {
    const n = toInt(v);
    if (n === undefined) {
      errors.push({ code: 'InvalidType', path, detail: 'This value should be of type int.' });
      return undefined;
    }
    if (allowZero && n === 0) return 0;
    if (!this.user(n)) {
      errors.push({ code: 'NotSupportedChoice', path, detail: 'The value you selected is not a valid choice.' });
      return undefined;
    }
    return n;
  }

  /** Validates v4 `custom_fields_values` for an entity type; returns stored-format entries. */
  validateCustomFields(
    entity: AmoEntityType,
    raw: unknown,
    errors: ValidationError[],
    basePath = 'custom_fields_values',
  ): Array<{ field_id: number; values: CfStoredValue[] }> | undefined {
    if (raw === null) return [];
    if (!Array.isArray(raw)) {
      errors.push({ code: 'InvalidType', path: basePath, detail: 'This value should be of type array.' });
      return undefined;
    }
    const out: Array<{ field_id: number; values: CfStoredValue[] }> = [];
    raw.forEach((item: unknown, i: number) => {
      const p = `${basePath}.${i}`;
      if (!item || typeof item !== 'object') {
        errors.push({ code: 'InvalidType', path: p, detail: 'This value should be of type object.' });
        return;
      }
      const input = item as CfInput;
      let field: AmoCustomField | undefined;
      if (input.field_id !== undefined) {
        const fid = toInt(input.field_id);
        field = fid === undefined ? undefined : this.fields.find((f) => f.id === fid && f.entity_type === entity);
        if (!field) {
          errors.push({ code: 'NotSupportedChoice', path: `${p}.field_id`, detail: 'The value you selected is not a valid choice.' });
          return;
        }
      } else if (typeof input.field_code === 'string') {
        const code = input.field_code.toUpperCase();
        field = this.fields.find((f) => f.code === code && f.entity_type === entity);
        if (!field) {
          errors.push({ code: 'NotSupportedChoice', path: `${p}.field_code`, detail: 'The value you selected is not a valid choice.' });
          return;
        }
      } else {
        errors.push({ code: 'NotBlank', path: `${p}.field_id`, detail: 'This value should not be blank.' });
        return;
      }
      if (input.values === null || input.values === undefined) {
        out.push({ field_id: field.id, values: [] });
        return;
      }
      if (!Array.isArray(input.values)) {
        errors.push({ code: 'InvalidType', path: `${p}.values`, detail: 'This value should be of type array.' });
        return;
      }
      const values: CfStoredValue[] = [];
      input.values.forEach((rv: unknown, j: number) => {
        const vp = `${p}.values.${j}`;
        const v = (rv && typeof rv === 'object' ? rv : {}) as { value?: unknown; enum_id?: unknown; enum_code?: unknown; enum?: unknown };
        const f = field as AmoCustomField;
        if (ENUM_TYPES.has(f.type)) {
          const enumId = toInt(v.enum_id);
          const en =
            enumId !== undefined
              ? f.enums?.find((e) => e.id === enumId)
              : f.enums?.find((e) => e.value === (typeof v.value === 'string' ? v.value : undefined));
          if (!en) {
            errors.push({ code: 'NotSupportedChoice', path: `${vp}.enum_id`, detail: 'The value you selected is not a valid choice.' });
            return;
          }
          values.push({ value: en.value, enum_id: en.id, enum_code: null });
          return;
        }
        if (f.type === 'multitext') {
          if (typeof v.value !== 'string' && typeof v.value !== 'number') {
            errors.push({ code: 'NotBlank', path: `${vp}.value`, detail: 'This value should not be blank.' });
            return;
          }
          let en = f.enums?.find((e) => e.code === 'WORK') ?? f.enums?.[0];
          const enumId = toInt(v.enum_id);
          if (enumId !== undefined) en = f.enums?.find((e) => e.id === enumId);
          else if (typeof v.enum_code === 'string') en = f.enums?.find((e) => e.code === v.enum_code);
          if (!en) {
            errors.push({ code: 'NotSupportedChoice', path: `${vp}.enum_code`, detail: 'The value you selected is not a valid choice.' });
            return;
          }
          values.push({ value: String(v.value), enum_id: en.id, enum_code: en.code ?? null });
          return;
        }
        if (v.value === undefined || v.value === null || v.value === '') {
          errors.push({ code: 'NotBlank', path: `${vp}.value`, detail: 'This value should not be blank.' });
          return;
        }
        if (DATE_TYPES.has(f.type)) {
          let ts = toInt(v.value);
          if (ts === undefined && typeof v.value === 'string') {
            const parsed = Date.parse(v.value);
            if (!Number.isNaN(parsed)) ts = Math.floor(parsed / 1000);
          }
          if (ts === undefined) {
            errors.push({ code: 'InvalidType', path: `${vp}.value`, detail: 'This value is not a valid datetime.' });
            return;
          }
          values.push({ value: ts });
          return;
        }
        if (NUMERIC_TYPES.has(f.type)) {
          const num = typeof v.value === 'number' ? v.value : Number(String(v.value).replace(',', '.'));
          if (!Number.isFinite(num)) {
            errors.push({ code: 'InvalidType', path: `${vp}.value`, detail: 'This value should be of type numeric.' });
            return;
          }
          values.push({ value: String(v.value) });
          return;
        }
        if (f.type === 'checkbox') {
          values.push({ value: v.value === true || v.value === 1 || v.value === '1' || v.value === 'true' });
          return;
        }
        if (typeof v.value !== 'string' && typeof v.value !== 'number') {
          errors.push({ code: 'InvalidType', path: `${vp}.value`, detail: 'This value should be of type string.' });
          return;
        }
        values.push({ value: String(v.value) });
      });
      out.push({ field_id: field.id, values });
    });
    return out;
  }

  private validateTags(raw: unknown, path: string, errors: ValidationError[]): Array<{ id?: number; name?: string }> | undefined {
    if (raw === null) return [];
    if (!Array.isArray(raw)) {
      errors.push({ code: 'InvalidType', path, detail: 'This value should be of type array.' });
      return undefined;
    }
    const out: Array<{ id?: number; name?: string }> = [];
    raw.forEach((t: unknown, i: number) => {
      const o = (t && typeof t === 'object' ? t : {}) as { id?: unknown; name?: unknown };
      const id = toInt(o.id);
      if (id !== undefined) out.push({ id });
      else if (typeof o.name === 'string' && o.name !== '') out.push({ name: o.name });
      else errors.push({ code: 'NotBlank', path: `${path}.${i}.name`, detail: 'This value should not be blank.' });
    });
    return out;
  }

  /**
   * Validates a v4 lead body (POST item or PATCH item). `lead` is undefined for creation.
   * Returns the change and the acting user (from `updated_by`/`created_by` when present).
   */
  validateLeadBody(
    raw: Record<string, unknown>,
    lead: AmoLead | undefined,
    errors: ValidationError[],
  ): { change: LeadChange; actor?: number; contactIds: number[] } {
    const change: LeadChange = {};
    const contactIds: number[] = [];
    let actor: number | undefined;
    if (raw.name !== undefined) {
      if (typeof raw.name !== 'string') errors.push({ code: 'InvalidType', path: 'name', detail: 'This value should be of type string.' });
      else change.name = raw.name;
    }
    if (raw.price !== undefined && raw.price !== null) {
      const price = toInt(raw.price);
      if (price === undefined || price < 0) errors.push({ code: 'InvalidType', path: 'price', detail: 'This value should be of type int.' });
      else change.price = price;
    }
    if (raw.responsible_user_id !== undefined) {
      const uid = this.validateUserRef(raw.responsible_user_id, 'responsible_user_id', errors, false);
      if (uid !== undefined) change.responsible_user_id = uid;
    }
    const actorKey = lead ? 'updated_by' : 'created_by';
    if (raw[actorKey] !== undefined) {
      actor = this.validateUserRef(raw[actorKey], actorKey, errors, true);
    }
    // pipeline / status
    let pipeline: AmoPipeline | undefined;
    if (raw.pipeline_id !== undefined) {
      const pid = toInt(raw.pipeline_id);
      pipeline = pid === undefined ? undefined : this.pipeline(pid);
      if (!pipeline) errors.push({ code: 'NotSupportedChoice', path: 'pipeline_id', detail: 'The value you selected is not a valid choice.' });
      else change.pipeline_id = pipeline.id;
    }
    if (raw.status_id !== undefined) {
      const sid = toInt(raw.status_id);
      if (sid === undefined) {
        errors.push({ code: 'InvalidType', path: 'status_id', detail: 'This value should be of type int.' });
      } else {
        let target = pipeline;
        if (!target) {
          if (sid === WON_STATUS_ID || sid === LOST_STATUS_ID) target = lead ? this.pipeline(lead.pipeline_id) : this.mainPipeline();
          else target = this.pipelines.find((p) => p.statuses.some((s) => s.id === sid));
        }
        const status = target?.statuses.find((s) => s.id === sid);
        if (!target || !status || status.type === 1) {
          errors.push({ code: 'NotSupportedChoice', path: 'status_id', detail: 'The value you selected is not a valid choice.' });
        } else {
          change.status_id = sid;
          change.pipeline_id = target.id;
        }
      }
    } else if (pipeline && (!lead || lead.pipeline_id !== pipeline.id)) {
      change.status_id = this.firstStage(pipeline).id;
    }
    if (raw.loss_reason_id !== undefined) {
      if (raw.loss_reason_id === null || raw.loss_reason_id === 0) change.loss_reason_id = null;
      else {
        const lr = toInt(raw.loss_reason_id);
        if (lr === undefined || !this.lossReasons.some((r) => r.id === lr)) {
          errors.push({ code: 'NotSupportedChoice', path: 'loss_reason_id', detail: 'The value you selected is not a valid choice.' });
        } else change.loss_reason_id = lr;
      }
    }
    if (raw.closed_at !== undefined && raw.closed_at !== null) {
      const ca = toInt(raw.closed_at);
      if (ca === undefined) errors.push({ code: 'InvalidType', path: 'closed_at', detail: 'This value should be of type int.' });
      else change.closed_at = ca;
    }
    if (raw.custom_fields_values !== undefined) {
      const cf = this.validateCustomFields('leads', raw.custom_fields_values, errors);
      if (cf) change.custom_fields = cf;
    }
    const embedded = raw._embedded as Record<string, unknown> | undefined;
    if (embedded && typeof embedded === 'object') {
      if (embedded.tags !== undefined) {
        const tags = this.validateTags(embedded.tags, '_embedded.tags', errors);
        if (tags) change.tags = tags;
      }
      if (!lead && Array.isArray(embedded.contacts)) {
        embedded.contacts.forEach((c: unknown, i: number) => {
          const id = toInt((c as { id?: unknown } | null)?.id);
          if (id === undefined || !this.contacts.get(id) || this.contacts.get(id)?.is_deleted) {
            errors.push({ code: 'NotSupportedChoice', path: `_embedded.contacts.${i}.id`, detail: 'The value you selected is not a valid choice.' });
          } else contactIds.push(id);
        });
      }
    }
    return { change, actor, contactIds };
  }

  validateContactBody(
    raw: Record<string, unknown>,
    contact: AmoContact | undefined,
    errors: ValidationError[],
  ): { change: ContactChange; actor?: number } {
    const change: ContactChange = {};
    let actor: number | undefined;
    for (const key of ['name', 'first_name', 'last_name'] as const) {
      if (raw[key] !== undefined) {
        if (typeof raw[key] !== 'string') errors.push({ code: 'InvalidType', path: key, detail: 'This value should be of type string.' });
        else change[key] = raw[key] as string;
      }
    }
    if (raw.responsible_user_id !== undefined) {
      const uid = this.validateUserRef(raw.responsible_user_id, 'responsible_user_id', errors, false);
      if (uid !== undefined) change.responsible_user_id = uid;
    }
    const actorKey = contact ? 'updated_by' : 'created_by';
    if (raw[actorKey] !== undefined) actor = this.validateUserRef(raw[actorKey], actorKey, errors, true);
    if (raw.custom_fields_values !== undefined) {
      const cf = this.validateCustomFields('contacts', raw.custom_fields_values, errors);
      if (cf) change.custom_fields = cf;
    }
    const embedded = raw._embedded as Record<string, unknown> | undefined;
    if (embedded && typeof embedded === 'object' && embedded.tags !== undefined) {
      const tags = this.validateTags(embedded.tags, '_embedded.tags', errors);
      if (tags) change.tags = tags;
    }
    return { change, actor };
  }

  // ---------------------------------------------------------------- events & hooks

  private eventId(): string {
    // amoCRM event ids are 20–26 char lowercase base32-ish strings (e.g. "01pz58t6p04vb0mhf6pn").
    const n = (++this.seq.event).toString(32).padStart(6, '0');
    return `01${randomBytes(8).toString('hex').slice(0, 12)}${n}`.slice(0, 20);
  }

  recordEvent(e: Omit<AmoEvent, 'id' | 'created_at'> & { created_at?: number }): AmoEvent {
    const ev: AmoEvent = {
      id: this.eventId(),
      type: e.type,
      entity_id: e.entity_id,
      entity_type: e.entity_type,
      created_by: e.created_by,
      created_at: e.created_at ?? this.nowSec(),
      value_after: e.value_after,
      value_before: e.value_before,
    };
    this.events.push(ev);
    return ev;
  }

  private emitLead(lead: AmoLead, action: HookItem['action'], setting: string, modifiedBy: number, extra: Record<string, string> = {}): void {
    this.onHook({
      entity: 'leads',
      action,
      setting,
      fields: action === 'delete' ? { id: String(lead.id) } : leadHookFields(this, lead, modifiedBy, extra),
    });
  }

  private emitContact(contact: AmoContact, action: HookItem['action'], setting: string, modifiedBy: number, extra: Record<string, string> = {}): void {
    this.onHook({
      entity: 'contacts',
      action,
      setting,
      fields: action === 'delete' ? { id: String(contact.id) } : contactHookFields(this, contact, modifiedBy, extra),
    });
  }

  // ---------------------------------------------------------------- mutations: leads

  private resolveTags(input: Array<{ id?: number; name?: string }>): Array<{ id: number; name: string }> {
    const out: Array<{ id: number; name: string }> = [];
    for (const t of input) {
      let tag = t.id !== undefined ? this.tags.find((x) => x.id === t.id) : this.tags.find((x) => x.name === t.name);
      if (!tag && t.name !== undefined) {
        tag = { id: ++this.seq.tag, name: t.name };
        this.tags.push(tag);
      }
      if (tag && !out.some((x) => x.id === tag?.id)) out.push(tag);
    }
    return out;
  }

  private mergeCustomFields(current: CfEntry[], changes: Array<{ field_id: number; values: CfStoredValue[] }>): { next: CfEntry[]; changed: number[] } {
    const next = current.map((e) => ({ field_id: e.field_id, values: e.values.map((v) => ({ ...v })) }));
    const changed: number[] = [];
    for (const ch of changes) {
      const idx = next.findIndex((e) => e.field_id === ch.field_id);
      const before = idx >= 0 ? JSON.stringify(next[idx]?.values) : '[]';
      if (ch.values.length === 0) {
        if (idx >= 0) next.splice(idx, 1);
      } else if (idx >= 0) {
        next[idx] = { field_id: ch.field_id, values: ch.values };
      } else {
        next.push({ field_id: ch.field_id, values: ch.values });
      }
      const after = JSON.stringify(next.find((e) => e.field_id === ch.field_id)?.values ?? []);
      if (before !== after) changed.push(ch.field_id);
    }
    return { next, changed };
  }

  /** Creates a lead (already validated) and fires `add_lead`. */
  createLead(change: LeadChange, actor: number, contactIds: number[] = []): AmoLead {
    const now = this.nowSec();
    const pipeline = this.pipeline(change.pipeline_id ?? this.mainPipeline().id) ?? this.mainPipeline();
    const statusId = change.status_id ?? this.firstStage(pipeline).id;
    const responsible = change.responsible_user_id ?? (actor > 0 ? actor : this.users[0]?.id ?? 0);
    const id = ++this.seq.lead;
    const lead: AmoLead = {
      id,
      name: change.name ?? `Сделка #${id}`,
      price: change.price ?? 0,
      responsible_user_id: responsible,
      group_id: 0,
      status_id: statusId,
      pipeline_id: pipeline.id,
      loss_reason_id: change.loss_reason_id ?? null,
      created_by: actor,
      updated_by: actor,
      created_at: now,
      updated_at: now,
      closed_at: statusId === WON_STATUS_ID || statusId === LOST_STATUS_ID ? (change.closed_at ?? now) : null,
      custom_fields: change.custom_fields ? this.mergeCustomFields([], change.custom_fields).next : [],
      tags: change.tags ? this.resolveTags(change.tags) : [],
      is_deleted: false,
    };
    this.leads.set(id, lead);
    contactIds.forEach((cid, i) => this.links.push({ lead_id: id, contact_id: cid, main: i === 0 }));
    this.recordEvent({ type: 'lead_added', entity_id: id, entity_type: 'lead', created_by: actor, value_after: [], value_before: [] });
    this.emitLead(lead, 'add', 'add_lead', actor);
    return lead;
  }

  /**
   * Applies a validated change. Returns true when anything changed (then `updated_at`/`updated_by`
   * are bumped, events recorded and `update_lead` + `status_lead`/`responsible_lead` fired).
   */
  updateLead(lead: AmoLead, change: LeadChange, actor: number): boolean {
    const before = { ...lead };
    const now = this.nowSec();
    let changed = false;
    if (change.name !== undefined && change.name !== lead.name) {
      lead.name = change.name;
      changed = true;
      this.recordEvent({
        type: 'name_field_changed', entity_id: lead.id, entity_type: 'lead', created_by: actor,
        value_after: [{ name_field_value: { name: lead.name } }], value_before: [{ name_field_value: { name: before.name } }],
      });
    }
    if (change.price !== undefined && change.price !== lead.price) {
      lead.price = change.price;
      changed = true;
      this.recordEvent({
        type: 'sale_field_changed', entity_id: lead.id, entity_type: 'lead', created_by: actor,
        value_after: [{ sale_field_value: { sale: lead.price } }], value_before: [{ sale_field_value: { sale: before.price } }],
      });
    }
    if (change.responsible_user_id !== undefined && change.responsible_user_id !== lead.responsible_user_id) {
      lead.responsible_user_id = change.responsible_user_id;
      changed = true;
      this.recordEvent({
        type: 'entity_responsible_changed', entity_id: lead.id, entity_type: 'lead', created_by: actor,
        value_after: [{ responsible_user: { id: lead.responsible_user_id } }], value_before: [{ responsible_user: { id: before.responsible_user_id } }],
      });
    }
    const newStatus = change.status_id ?? lead.status_id;
    const newPipeline = change.pipeline_id ?? lead.pipeline_id;
    const statusChanged = newStatus !== lead.status_id || newPipeline !== lead.pipeline_id;
    if (statusChanged) {
      lead.status_id = newStatus;
      lead.pipeline_id = newPipeline;
      changed = true;
      const closed = newStatus === WON_STATUS_ID || newStatus === LOST_STATUS_ID;
      lead.closed_at = closed ? (change.closed_at ?? now) : null;
      if (newStatus !== LOST_STATUS_ID && change.loss_reason_id === undefined) lead.loss_reason_id = null;
      this.recordEvent({
        type: 'lead_status_changed', entity_id: lead.id, entity_type: 'lead', created_by: actor,
        value_after: [{ lead_status: { id: newStatus, pipeline_id: newPipeline } }],
        value_before: [{ lead_status: { id: before.status_id, pipeline_id: before.pipeline_id } }],
      });
    } else if (change.closed_at !== undefined && change.closed_at !== lead.closed_at) {
      lead.closed_at = change.closed_at;
      changed = true;
    }
    if (change.loss_reason_id !== undefined && change.loss_reason_id !== lead.loss_reason_id) {
      lead.loss_reason_id = change.loss_reason_id;
      changed = true;
    }
    if (change.custom_fields) {
      const { next, changed: fieldIds } = this.mergeCustomFields(lead.custom_fields, change.custom_fields);
      if (fieldIds.length > 0) {
        const prev = lead.custom_fields;
        lead.custom_fields = next;
        changed = true;
        for (const fid of fieldIds) {
          const f = this.field(fid);
          const fmt = (entries: CfEntry[]): unknown[] =>
            (entries.find((e) => e.field_id === fid)?.values ?? []).map((v) => ({
              custom_field_value: { field_id: fid, field_type: f?.type === 'text' ? 1 : 0, enum_id: v.enum_id ?? null, text: String(v.value) },
            }));
          this.recordEvent({
            type: `custom_field_${fid}_value_changed`, entity_id: lead.id, entity_type: 'lead', created_by: actor,
            value_after: fmt(next), value_before: fmt(prev),
          });
        }
      }
    }
    if (change.tags) {
      const tags = this.resolveTags(change.tags);
      if (JSON.stringify(tags) !== JSON.stringify(lead.tags)) {
        lead.tags = tags;
        changed = true;
      }
    }
    if (!changed) return false;
    lead.updated_at = now;
    lead.updated_by = actor;
    this.emitLead(lead, 'update', 'update_lead', actor);
    if (statusChanged) {
      const extra: Record<string, string> = { old_status_id: String(before.status_id) };
      if (before.pipeline_id !== lead.pipeline_id) extra.old_pipeline_id = String(before.pipeline_id);
      this.emitLead(lead, 'status', 'status_lead', actor, extra);
      this.onLeadEnteredStatus(lead);
    }
    if (before.responsible_user_id !== lead.responsible_user_id) {
      this.emitLead(lead, 'responsible', 'responsible_lead', actor, { old_responsible_user_id: String(before.responsible_user_id) });
    }
    return true;
  }

  deleteLead(lead: AmoLead, actor: number): void {
    lead.is_deleted = true;
    lead.updated_at = this.nowSec();
    lead.updated_by = actor;
    this.links = this.links.filter((l) => l.lead_id !== lead.id);
    this.recordEvent({ type: 'lead_deleted', entity_id: lead.id, entity_type: 'lead', created_by: actor, value_after: [], value_before: [] });
    this.emitLead(lead, 'delete', 'delete_lead', actor);
  }

  // ---------------------------------------------------------------- mutations: contacts

  createContact(change: ContactChange, actor: number): AmoContact {
    const now = this.nowSec();
    const id = ++this.seq.contact;
    const first = change.first_name ?? '';
    const last = change.last_name ?? '';
    const contact: AmoContact = {
      id,
      name: change.name ?? [first, last].filter(Boolean).join(' '),
      first_name: first,
      last_name: last,
      responsible_user_id: change.responsible_user_id ?? (actor > 0 ? actor : this.users[0]?.id ?? 0),
      group_id: 0,
      created_by: actor,
      updated_by: actor,
      created_at: now,
      updated_at: now,
      custom_fields: change.custom_fields ? this.mergeCustomFields([], change.custom_fields).next : [],
      tags: change.tags ? this.resolveTags(change.tags) : [],
      is_deleted: false,
    };
    this.contacts.set(id, contact);
    this.recordEvent({ type: 'contact_added', entity_id: id, entity_type: 'contact', created_by: actor, value_after: [], value_before: [] });
    this.emitContact(contact, 'add', 'add_contact', actor);
    return contact;
  }

  updateContact(contact: AmoContact, change: ContactChange, actor: number): boolean {
    const before = { ...contact };
    let changed = false;
    for (const key of ['name', 'first_name', 'last_name'] as const) {
      const v = change[key];
      if (v !== undefined && v !== contact[key]) {
        contact[key] = v;
        changed = true;
      }
    }
    if (change.responsible_user_id !== undefined && change.responsible_user_id !== contact.responsible_user_id) {
      contact.responsible_user_id = change.responsible_user_id;
      changed = true;
      this.recordEvent({
        type: 'entity_responsible_changed', entity_id: contact.id, entity_type: 'contact', created_by: actor,
        value_after: [{ responsible_user: { id: contact.responsible_user_id } }], value_before: [{ responsible_user: { id: before.responsible_user_id } }],
      });
    }
    if (change.custom_fields) {
      const { next, changed: ids } = this.mergeCustomFields(contact.custom_fields, change.custom_fields);
      if (ids.length > 0) {
        contact.custom_fields = next;
        changed = true;
      }
    }
    if (change.tags) {
      const tags = this.resolveTags(change.tags);
      if (JSON.stringify(tags) !== JSON.stringify(contact.tags)) {
        contact.tags = tags;
        changed = true;
      }
    }
    if (!changed) return false;
    contact.updated_at = this.nowSec();
    contact.updated_by = actor;
    this.emitContact(contact, 'update', 'update_contact', actor);
    if (before.responsible_user_id !== contact.responsible_user_id) {
      this.emitContact(contact, 'responsible', 'responsible_contact', actor, { old_responsible_user_id: String(before.responsible_user_id) });
    }
    return true;
  }

  deleteContact(contact: AmoContact, actor: number): void {
    contact.is_deleted = true;
    contact.updated_at = this.nowSec();
    contact.updated_by = actor;
    this.links = this.links.filter((l) => l.contact_id !== contact.id);
    this.emitContact(contact, 'delete', 'delete_contact', actor);
  }

  // ---------------------------------------------------------------- links

  link(leadId: number, contactId: number, isMain: boolean | undefined, actor: number): AmoLink {
    let link = this.links.find((l) => l.lead_id === leadId && l.contact_id === contactId);
    const hasMain = this.links.some((l) => l.lead_id === leadId && l.main);
    if (!link) {
      link = { lead_id: leadId, contact_id: contactId, main: false };
      this.links.push(link);
      this.recordEvent({
        type: 'entity_linked', entity_id: leadId, entity_type: 'lead', created_by: actor,
        value_after: [{ link: { entity: { type: 'contact', id: contactId } } }], value_before: [],
      });
    }
    if (isMain === true || (!hasMain && isMain !== false)) {
      for (const l of this.links) if (l.lead_id === leadId) l.main = false;
      link.main = true;
    }
    return link;
  }

  unlink(leadId: number, contactId: number, actor: number): boolean {
    const idx = this.links.findIndex((l) => l.lead_id === leadId && l.contact_id === contactId);
    if (idx < 0) return false;
    const [removed] = this.links.splice(idx, 1);
    if (removed?.main) {
      const next = this.links.find((l) => l.lead_id === leadId);
      if (next) next.main = true;
    }
    this.recordEvent({
      type: 'entity_unlinked', entity_id: leadId, entity_type: 'lead', created_by: actor,
      value_after: [], value_before: [{ link: { entity: { type: 'contact', id: contactId } } }],
    });
    return true;
  }

  // ---------------------------------------------------------------- notes, tasks, loss reasons, webhooks

  addNote(entity: AmoEntityType, entityId: number, noteType: string, params: Record<string, unknown>, actor: number, responsible?: number): AmoNote {
    const now = this.nowSec();
    const note: AmoNote = {
      id: ++this.seq.note,
      entity_type: entity,
      entity_id: entityId,
      created_by: actor,
      updated_by: actor,
      created_at: now,
      updated_at: now,
      responsible_user_id: responsible ?? (actor > 0 ? actor : 0),
      group_id: 0,
      note_type: noteType,
      params,
    };
    this.notes.push(note);
    // Notes show in the lead's event feed (amoCRM event types, Kommo "Events list").
    const eventType = NOTE_EVENT_TYPES[noteType];
    if (eventType && (entity as string) === 'leads') {
      this.recordEvent({ type: eventType, entity_id: entityId, entity_type: 'lead', created_by: actor, value_after: [{ note: { id: note.id } }], value_before: [] });
    }
    return note;
  }

  addTask(t: Omit<AmoTask, 'id' | 'created_at' | 'updated_at' | 'group_id' | 'result' | 'is_completed' | 'updated_by'> & { is_completed?: boolean }): AmoTask {
    const now = this.nowSec();
    const task: AmoTask = {
      ...t,
      id: ++this.seq.task,
      updated_by: t.created_by,
      created_at: now,
      updated_at: now,
      group_id: 0,
      result: [],
      is_completed: t.is_completed ?? false,
    };
    this.tasks.push(task);
    return task;
  }

  addLossReason(name: string, sort?: number): AmoLossReason {
    const now = this.nowSec();
    const r: AmoLossReason = { id: ++this.seq.lossReason, name, sort: sort ?? (this.lossReasons.length + 1) * 10, created_at: now, updated_at: now };
    this.lossReasons.push(r);
    return r;
  }

  upsertWebhook(destination: string, settings: string[], sort: number, actor: number): AmoWebhook {
    const now = this.nowSec();
    const existing = this.webhooks.find((w) => w.destination === destination);
    if (existing) {
      existing.settings = [...settings];
      existing.sort = sort;
      existing.disabled = false;
      existing.updated_at = now;
      existing.invalidAt = [];
      return existing;
    }
    const hook: AmoWebhook = {
      id: ++this.seq.webhook,
      destination,
      settings: [...settings],
      sort,
      disabled: false,
      created_by: actor,
      created_at: now,
      updated_at: now,
      invalidAt: [],
    };
    this.webhooks.push(hook);
    return hook;
  }

  removeWebhook(destination: string): boolean {
    const before = this.webhooks.length;
    this.webhooks = this.webhooks.filter((w) => w.destination !== destination);
    return this.webhooks.length !== before;
  }
}
