import { PermanentCrmError } from '../../errors';
import type { TtlCache } from '../../infra/ttl-cache';
import type {
  Absence, ClientMatches, ClientSearch, Contact, ContactCommunications, CrmActivity, CrmField, CrmFunnel, CrmPort, CrmTask, CrmUser, Deal, DealEntity, DealRef, DealWithContacts, FunnelStage, NewTask, RepeatClosing, StageHistoryEntry, Touch,
} from '../crm-port';
import { findClients } from './client-search';
import type { Bitrix24RestClient } from './rest-client';
import * as activities from './activities';

/** Bitrix24 CRM entity type ids (crm.item.*). */
const ENTITY_TYPE_ID: Record<DealEntity | 'contact', number> = { lead: 1, deal: 2, contact: 3 };

type Item = Record<string, unknown>;

export interface Bitrix24Caches {
  funnels: TtlCache<CrmFunnel[]>;
  fields: TtlCache<CrmField[]>;
  users: TtlCache<CrmUser[]>;
}

/**
 * CrmPort for Bitrix24 on `crm.item.*` (the `crm.deal.*` family is frozen, per the docs).
 * One adapter per job: reading a deal fetches its contact in one `batch`; the stage history is
 * read when asked for (with coalescing, one command of a shared batch) and kept for the job.
 */
export class Bitrix24Adapter implements CrmPort {
  readonly crm = 'bitrix24' as const;
  private readonly historyOf = new Map<string, StageHistoryEntry[]>();

  constructor(
    private readonly rest: Bitrix24RestClient,
    private readonly installationId: string,
    private readonly caches: Bitrix24Caches,
    /** Bitrix24's user.get has no admin flag: the installation knows its administrators. */
    private readonly adminUserIds: readonly string[] = [],
  ) {}

  async getDealWithContacts(ref: DealRef): Promise<DealWithContacts | null> {
    const { result, errors } = await this.rest.batch({
      item: { method: 'crm.item.get', params: { entityTypeId: ENTITY_TYPE_ID[ref.entity], id: ref.id } },
      contact: { method: 'crm.item.get', params: { entityTypeId: ENTITY_TYPE_ID.contact, id: '$result[item][item][contactId]' } },
    });
    if (errors.item) return notFoundOrThrow(ref, errors.item);
    const item = (result.item as { item: Item }).item;
    const contactItem = (result.contact as { item?: Item } | undefined)?.item;
    return { deal: toDeal(ref.entity, item), contacts: contactItem ? [toContact(contactItem)] : [] };
  }

  /** The deal alone (one command), e.g. to re-check its stage right before writing. */
  async getDeal(ref: DealRef): Promise<Deal | null> {
    const item = await this.getItem(ref.entity, ref.id);
    return item ? toDeal(ref.entity, item) : null;
  }

  async getContact(id: string): Promise<Contact | null> {
    const item = await this.getItem('contact', id);
    return item ? toContact(item) : null;
  }

  /** crm.item.get through a one-command batch: a missing item comes back as an error entry, not a thrown call. */
  private async getItem(entity: DealEntity | 'contact', id: string): Promise<Item | null> {
    const { result, errors } = await this.rest.batch({ item: { method: 'crm.item.get', params: { entityTypeId: ENTITY_TYPE_ID[entity], id } } });
    if (errors.item) return notFoundOrThrow({ entity, id }, errors.item);
    return (result.item as { item: Item }).item;
  }

  async renameDeal(ref: DealRef, title: string): Promise<void> {
    await this.updateItem(ref, { title });
  }

  async moveDeal(ref: DealRef, stageId: string): Promise<void> {
    // crm.item.* names a lead's status `stageId` too (STATUS_ID only in legacy crm.lead.* and stage history).
    // Bitrix24 keeps no separate loss reason: the special failure status is the reason.
    await this.updateItem(ref, { stageId });
  }

  // region Duplicate catcher (issue 7)
  findClientsByCommunications(search: ClientSearch): Promise<ClientMatches> {
    return findClients(this.rest, search);
  }

  async linkContact(ref: DealRef, contactId: string): Promise<void> {
    const item = await this.getItem(ref.entity, ref.id);
    if (!item) return;
    const current = Array.isArray(item.contactIds) ? item.contactIds.map(Number) : item.contactId ? [Number(item.contactId)] : [];
    if (current[0] === Number(contactId)) return;
    await this.updateItem(ref, { contactIds: [Number(contactId), ...current.filter((id) => id !== Number(contactId))] });
  }

  async closeAsRepeat(ref: DealRef, close: RepeatClosing): Promise<void> {
    const fields: Record<string, unknown> = { stageId: close.stageId };
    if (close.clientContactId && close.contactIds[0] !== close.clientContactId) {
      fields.contactIds = [close.clientContactId, ...close.contactIds.filter((id) => id !== close.clientContactId)].map(Number);
    }
    await this.updateItem(ref, fields);
  }

  async addContactCommunications(contactId: string, add: ContactCommunications): Promise<void> {
    // The legacy form adds without touching existing values (restdocs crm-contact-update.md, "multiple fields");
    // whether crm.item.update keeps `fm` entries it is not sent is not documented.
    const fields: Record<string, unknown> = {};
    if (add.phones.length) fields.PHONE = add.phones.map((VALUE) => ({ VALUE, VALUE_TYPE: 'WORK' }));
    if (add.emails.length) fields.EMAIL = add.emails.map((VALUE) => ({ VALUE, VALUE_TYPE: 'WORK' }));
    if (add.messengers.length) {
      fields.IM = add.messengers.map((m) => {
        const [network, value] = m.includes('|') ? [m.slice(0, m.indexOf('|')), m.slice(m.indexOf('|') + 1)] : ['', m];
        return { VALUE: value, VALUE_TYPE: network || 'OTHER' };
      });
    }
    if (!Object.keys(fields).length) return;
    await this.rest.call('crm.contact.update', { id: Number(contactId), fields });
  }

  async worksWithoutLeads(): Promise<boolean> {
    // crm.enum.settings.mode: 1 classic (with leads), 2 simple (without leads).
    return Number(await this.rest.call('crm.settings.mode.get')) === 2;
  }

  async mergeContacts(keepId: string, duplicateId: string): Promise<boolean> {
    const result = await this.rest.call<{ STATUS?: string }>('crm.entity.mergeBatch', { params: { entityTypeId: ENTITY_TYPE_ID.contact, entityIds: [Number(keepId), Number(duplicateId)] } });
    return result?.STATUS === 'SUCCESS';
  }
  // endregion

  async addComment(ref: DealRef, text: string): Promise<void> {
    // Since crm 23.100.0 only the lower-case `fields` key is accepted.
    await this.rest.call('crm.timeline.comment.add', { fields: { ENTITY_ID: Number(ref.id), ENTITY_TYPE: ref.entity, COMMENT: text } });
  }

  async notifyUser(userId: string, text: string, about?: DealRef): Promise<void> {
    const tag = about ? `REGLAMENT|${about.entity}|${about.id}|${Date.now()}` : undefined;
    await this.rest.call('im.notify.system.add', { USER_ID: Number(userId), MESSAGE: text, ...(tag ? { TAG: tag } : {}) });
  }

  async getStageHistory(ref: DealRef): Promise<StageHistoryEntry[]> {
    const known = this.historyOf.get(refKey(ref));
    if (known) return known;
    const result = await this.rest.call<unknown>('crm.stagehistory.list', historyParams(ref));
    const history = toHistory(ref, result);
    this.historyOf.set(refKey(ref), history);
    return history;
  }

  listFunnels(): Promise<CrmFunnel[]> {
    return this.caches.funnels.get(this.installationId, () => this.readFunnels());
  }

  listFields(entity: DealEntity): Promise<CrmField[]> {
    return this.caches.fields.get(`${this.installationId}:${entity}`, async () => {
      const result = await this.rest.call<{ fields: Record<string, { title?: string; formLabel?: string; type?: string }> }>('crm.item.fields', {
        entityTypeId: ENTITY_TYPE_ID[entity],
      });
      return Object.entries(result.fields ?? {}).map(([code, f]) => ({ code, title: f.title ?? f.formLabel ?? code, type: f.type ?? 'string' }));
    });
  }

  listUsers(): Promise<CrmUser[]> {
    return this.caches.users.get(this.installationId, async () => {
      // user.get pages by 50 (`start`); employees only: bots, e-mail and open-channel users never take leads.
      const users: Array<Record<string, unknown>> = [];
      for (let start = 0; start < 5000; start += 50) {
        const page = await this.rest.call<Array<Record<string, unknown>>>('user.get', { FILTER: { ACTIVE: true, USER_TYPE: 'employee' }, start });
        users.push(...page);
        if (page.length < 50) break;
      }
      return users.map((u) => ({
        id: String(u.ID),
        name: [u.NAME, u.LAST_NAME].filter(Boolean).join(' '),
        isAdmin: this.adminUserIds.includes(String(u.ID)),
        isActive: u.ACTIVE !== false && u.ACTIVE !== 'N',
        teamIds: Array.isArray(u.UF_DEPARTMENT) ? u.UF_DEPARTMENT.map(String) : [],
      }));
    });
  }

  // Tasks and activities (stage timers): see ./activities.ts
  listOpenTasks(ref: DealRef): Promise<CrmTask[]> {
    return activities.listOpenTasks(this.rest, ref);
  }

  createTask(ref: DealRef, task: NewTask): Promise<string> {
    return activities.createTask(this.rest, ref, task);
  }

  listActivities(ref: DealRef, since: Date): Promise<CrmActivity[]> {
    return activities.listActivities(this.rest, ref, since);
  }

  countDealsInStage(entity: DealEntity, funnelId: string, stageId: string, responsibleId: string, cap: number): Promise<number> {
    return activities.countDealsInStage(this.rest, entity, funnelId, stageId, responsibleId, cap);
  }

  async assignResponsible(ref: DealRef, userId: string): Promise<void> {
    await this.updateItem(ref, { assignedById: Number(userId) });
  }

  /**
   * Outgoing calls and e-mails (`crm.activity.list`, TYPE_ID 2 / 4 with DIRECTION 2), messages
   * (SMS and open-channel activities) and timeline comments created since `since`.
   */
  async listTouches(ref: DealRef, since: Date): Promise<Touch[]> {
    const after = since.toISOString();
    const { result } = await this.rest.batch({
      activities: {
        method: 'crm.activity.list',
        params: {
          filter: { OWNER_TYPE_ID: ENTITY_TYPE_ID[ref.entity], OWNER_ID: Number(ref.id), '>=CREATED': after },
          select: ['ID', 'TYPE_ID', 'PROVIDER_ID', 'DIRECTION', 'RESPONSIBLE_ID', 'AUTHOR_ID', 'CREATED'],
          order: { ID: 'ASC' },
        },
      },
      comments: {
        method: 'crm.timeline.comment.list',
        params: { filter: { ENTITY_ID: Number(ref.id), ENTITY_TYPE: ref.entity, '>=CREATED': after }, select: ['ID', 'AUTHOR_ID', 'CREATED'], order: { ID: 'ASC' } },
      },
    });
    const touches: Touch[] = [];
    for (const a of (Array.isArray(result.activities) ? result.activities : []) as Item[]) {
      const kind = activityKind(a);
      if (kind) touches.push({ kind, userId: String(a.RESPONSIBLE_ID ?? a.AUTHOR_ID ?? ''), at: String(a.CREATED ?? '') });
    }
    for (const c of (Array.isArray(result.comments) ? result.comments : []) as Item[]) {
      touches.push({ kind: 'note', userId: String(c.AUTHOR_ID ?? ''), at: String(c.CREATED ?? '') });
    }
    return touches.filter((t) => Date.parse(t.at) >= since.getTime()).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }

  /**
   * The absence chart is not in Bitrix24's REST API; calendar entries marked «absent»
   * (`calendar.accessibility.get`, scope `calendar`) are. Without that scope: null.
   */
  async listAbsences(userIds: readonly string[], from: Date, to: Date): Promise<Absence[] | null> {
    if (!userIds.length) return [];
    let result: Record<string, Item[]>;
    try {
      result = await this.rest.call<Record<string, Item[]>>('calendar.accessibility.get', {
        users: userIds.map(Number),
        from: from.toISOString().slice(0, 10),
        to: to.toISOString().slice(0, 10),
      });
    } catch (err) {
      if (err instanceof PermanentCrmError && /^(insufficient_scope|ACCESS_DENIED|ERROR_METHOD_NOT_FOUND)$/i.test(err.code)) return null;
      throw err;
    }
    const absences: Absence[] = [];
    for (const [userId, entries] of Object.entries(result ?? {})) {
      for (const e of Array.isArray(entries) ? entries : []) {
        if (e.ACCESSIBILITY !== 'absent') continue;
        absences.push({ userId, from: new Date(Number(e.DATE_FROM_TS_UTC) * 1000).toISOString(), to: new Date(Number(e.DATE_TO_TS_UTC) * 1000).toISOString() });
      }
    }
    return absences;
  }

  private async updateItem(ref: DealRef, fields: Record<string, unknown>): Promise<void> {
    await this.rest.call('crm.item.update', { entityTypeId: ENTITY_TYPE_ID[ref.entity], id: Number(ref.id), fields });
  }

  private async readFunnels(): Promise<CrmFunnel[]> {
    const first = await this.rest.batch({
      categories: { method: 'crm.category.list', params: { entityTypeId: ENTITY_TYPE_ID.deal } },
      leadStatuses: { method: 'crm.status.list', params: { filter: { ENTITY_ID: 'STATUS' } } },
    });
    const categories = ((first.result.categories as { categories?: Array<{ id: number; name: string }> })?.categories ?? []);
    const stageCommands = Object.fromEntries(
      categories.slice(0, 50).map((c) => [`c${c.id}`, { method: 'crm.status.list', params: { filter: { ENTITY_ID: Number(c.id) === 0 ? 'DEAL_STAGE' : `DEAL_STAGE_${c.id}` } } }]),
    );
    const stages = categories.length ? (await this.rest.batch(stageCommands)).result : {};
    const funnels: CrmFunnel[] = categories.map((c) => ({
      id: String(c.id),
      entity: 'deal',
      name: c.name,
      stages: toStages(stages[`c${c.id}`]),
    }));
    funnels.push({ id: 'lead', entity: 'lead', name: 'Лиды', stages: toStages(first.result.leadStatuses) });
    return funnels;
  }
}

function historyParams(ref: DealRef) {
  return {
    entityTypeId: ENTITY_TYPE_ID[ref.entity],
    order: { ID: 'ASC' },
    filter: { OWNER_ID: Number(ref.id) },
    select: ['ID', 'STAGE_ID', 'STATUS_ID', 'CREATED_TIME', 'TYPE_ID'],
  };
}

function toHistory(ref: DealRef, raw: unknown): StageHistoryEntry[] {
  const items = ((raw as { items?: Item[] })?.items ?? []) as Item[];
  return items
    .map((row) => ({ stageId: String(ref.entity === 'lead' ? row.STATUS_ID : row.STAGE_ID), at: String(row.CREATED_TIME ?? ''), id: Number(row.ID) }))
    .sort((a, b) => a.id - b.id)
    .map(({ stageId, at }) => ({ stageId, at }));
}

function toStages(raw: unknown): FunnelStage[] {
  const rows = (Array.isArray(raw) ? raw : []) as Item[];
  return rows
    .map((s) => ({
      id: String(s.STATUS_ID),
      name: String(s.NAME),
      sort: Number(s.SORT),
      semantics: s.SEMANTICS === 'S' ? ('success' as const) : s.SEMANTICS === 'F' ? ('failure' as const) : ('process' as const),
    }))
    .sort((a, b) => a.sort - b.sort);
}

export function toDeal(entity: DealEntity, item: Item): Deal {
  const stage = item.stageId ?? item.statusId;
  const contactIds = Array.isArray(item.contactIds) ? item.contactIds.map(String) : item.contactId ? [String(item.contactId)] : [];
  return {
    entity,
    id: String(item.id),
    title: String(item.title ?? ''),
    stageId: String(stage ?? ''),
    funnelId: entity === 'lead' ? 'lead' : String(item.categoryId ?? 0),
    responsibleId: item.assignedById ? String(item.assignedById) : null,
    contactIds,
    fields: item,
    modifiedBy: item.updatedBy ? String(item.updatedBy) : null,
    updatedAt: item.updatedTime ? String(item.updatedTime) : null,
    createdAt: item.createdTime ? String(item.createdTime) : null,
  };
}

function toContact(item: Item): Contact {
  const fm = Array.isArray(item.fm) ? (item.fm as Item[]) : [];
  const values = (type: string) => fm.filter((v) => String(v.typeId).toUpperCase() === type).map((v) => String(v.value));
  return {
    id: String(item.id),
    name: [item.lastName, item.name].filter((p) => typeof p === 'string' && p.trim()).join(' '),
    phones: values('PHONE'),
    emails: values('EMAIL'),
    messengers: fm.filter((v) => String(v.typeId).toUpperCase() === 'IM').map((v) => `${String(v.valueType ?? '')}|${String(v.value)}`),
    labels: item.typeId ? [String(item.typeId)] : [],
    responsibleId: item.assignedById ? String(item.assignedById) : null,
  };
}

function notFoundOrThrow(ref: { entity: string; id: string }, error: { error: string; error_description?: string }): null {
  if (/NOT_FOUND/i.test(error.error) || /not found/i.test(error.error_description ?? '')) return null;
  throw new Error(`Bitrix24 crm.item.get ${ref.entity} ${ref.id}: ${error.error} ${error.error_description ?? ''}`);
}

/** crm.activity TYPE_ID: 2 call, 4 e-mail; DIRECTION 2 = outgoing. SMS and open-channel sessions are messages. */
function activityKind(a: Item): Touch['kind'] | null {
  const type = Number(a.TYPE_ID);
  const outgoing = Number(a.DIRECTION) === 2;
  if (type === 2 && outgoing) return 'call';
  if (type === 4 && outgoing) return 'email';
  if (/^(CRM_SMS|IMOPENLINES_SESSION|CRM_WHATSAPP|CRM_NOTIFICATION)/.test(String(a.PROVIDER_ID ?? ''))) return 'message';
  return null;
}

const refKey = (ref: DealRef) => `${ref.entity}:${ref.id}`;
