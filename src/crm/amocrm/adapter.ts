import type { TtlCache } from '../../infra/ttl-cache';
import type {
  Absence, ClientMatches, ClientSearch, Contact, ContactCommunications, CrmActivity, CrmField, CrmFunnel, CrmPort, CrmTask, CrmUser, Deal, DealEntity, DealRef, DealWithContacts, MoveOptions, NewTask, RepeatClosing, StageHistoryEntry, Touch, TouchKind,
} from '../crm-port';
import { AMO_LOST, AMO_WON, communicationsPatch, findAmoClients, toAmoContact, type AmoContact, type AmoCustomFieldValue } from './client-search';
import type { InstallationLock } from '../../installations/installation-lock';
import { PermanentCrmError } from '../../errors';
import type { LaneName } from './merge-lanes';
import type { AmoIdentityIndex } from './identity-index';
import { AmoRequestMerger } from './request-merger';
import type { AmoRestClient } from './rest-client';
import { catalogLacks, refusesUnknownCatalogEntry } from './catalog-staleness';
import * as tasks from './tasks';

/** Closed-won and closed-lost have these ids in every amoCRM pipeline. */
export { AMO_LOST, AMO_WON };
export interface AmoLead {
  id: number;
  name: string;
  status_id: number;
  pipeline_id: number;
  responsible_user_id: number | null;
  updated_by?: number;
  updated_at?: number;
  created_at?: number;
  price?: number;
  custom_fields_values: AmoCustomFieldValue[] | null;
  _embedded?: { contacts?: Array<{ id: number; is_main: boolean }> };
}

export interface AmoCaches {
  funnels: TtlCache<CrmFunnel[]>;
  fields: TtlCache<CrmField[]>;
  users: TtlCache<CrmUser[]>;
  /** Loss reasons (`/api/v4/leads/loss_reasons`), read once per TTL. */
  lossReasons?: TtlCache<Array<{ id: number; name: string }>>;
  /**
   * Called when the CRM shows the cached catalog is stale: amoCRM has no webhook for field or
   * pipeline changes, so a lead in a status or with a field the cache lacks, or a write refused
   * because a status/field/user no longer exists, is how a change is noticed before the TTL ends.
   */
  stale?: (installationId: string) => void;
}

/** CrmPort for amoCRM API v4. amoCRM "leads" are deals here; notes explain, tasks notify. */
export class AmoCrmAdapter implements CrmPort {
  readonly crm = 'amocrm' as const;

  constructor(
    private readonly rest: AmoRestClient,
    private readonly installationId: string,
    private readonly caches: AmoCaches,
    /** One worker at a time per installation (creating a loss reason); without it, no lock (a single worker). */
    private readonly exclusive: InstallationLock = (_name, fn) => fn(),
    /**
     * Where lead, contact, note, task and link requests go: the account's merger shared by
     * concurrent jobs (CrmClients), or by default one of this adapter's own (no company).
     */
    private readonly merger: AmoRequestMerger = ownMerger(rest),
    /** The account's identity index (duplicate lookups without per-phone searches); none: amoCRM's search. */
    private readonly identities?: AmoIdentityIndex,
  ) {}

  async getDealWithContacts(ref: DealRef): Promise<DealWithContacts | null> {
    const lead = await this.readLead(ref.id);
    if (!lead) return null;
    const linked = lead._embedded?.contacts ?? [];
    const main = linked.find((c) => c.is_main) ?? linked[0];
    const contact = main ? await this.readContact(String(main.id)) : null;
    return { deal: toDeal(lead), contacts: contact ? [toContact(contact)] : [] };
  }

  async getDeal(ref: DealRef): Promise<Deal | null> {
    const lead = await this.readLead(ref.id);
    return lead ? toDeal(lead) : null;
  }

  async getContact(id: string): Promise<Contact | null> {
    const contact = await this.readContact(id);
    return contact ? toContact(contact) : null;
  }

  async renameDeal(ref: DealRef, title: string): Promise<void> {
    // Only the changed field: sending the whole lead back overwrites concurrent edits.
    await this.patchLead(ref, { name: title });
  }

  async moveDeal(ref: DealRef, stageId: string, options: MoveOptions = {}): Promise<void> {
    // A loss reason only means something with "closed, not realised" (143).
    const lossReasonId = options.lossReason && Number(stageId) === AMO_LOST ? await this.lossReasonId(options.lossReason) : null;
    await this.patchLead(ref, { status_id: Number(stageId), ...(lossReasonId ? { loss_reason_id: lossReasonId } : {}) });
  }

  // region Merged requests (see ./request-merger.ts)
  /** A lead with its contact links; null when amoCRM has none by that id (an id that is no number cannot exist). */
  private async readLead(id: string): Promise<AmoLead | null> {
    const n = numericId(id);
    if (n === null) return null;
    const lead = (await this.merger.submit('read-leads', { entity: `leads:${n}`, id: n, element: {} })) as AmoLead | null;
    if (lead && catalogLacks(lead, this.caches, this.installationId)) this.caches.stale?.(this.installationId);
    return lead;
  }

  /**
   * Every contact read is indexed: a request's own contact is read before the duplicate catcher
   * takes its identity locks, so a concurrent request by the same person finds it (./identity-index.ts).
   */
  private async readContact(id: string): Promise<AmoContact | null> {
    const n = numericId(id);
    const contact = n === null ? null : ((await this.merger.submit('read-contacts', { entity: `contacts:${n}`, id: n, element: {} })) as AmoContact | null);
    if (contact) await this.identities?.add([contact]);
    return contact;
  }

  /** A refusal naming a status, field or user the account no longer has makes the catalog stale. */
  private async patchLead(ref: DealRef, fields: Record<string, unknown>): Promise<void> {
    const id = writableId(ref.id);
    try {
      await this.merger.submit('patch-leads', { entity: `leads:${id}`, id, element: { id, ...fields } });
    } catch (err) {
      if (refusesUnknownCatalogEntry(err)) this.caches.stale?.(this.installationId);
      throw err;
    }
  }

  /** A write about one lead (note, link, task): it keeps its place among the lead's other writes. */
  private aboutLead(lane: LaneName, leadId: string, element: Record<string, unknown>): Promise<unknown> {
    const id = writableId(leadId);
    return this.merger.submit(lane, { entity: `leads:${id}`, id, element: { entity_id: id, ...element } });
  }
  // endregion

  // region Duplicate catcher (issue 7)
  findClientsByCommunications(search: ClientSearch): Promise<ClientMatches> {
    const index = this.identities;
    if (!index) return findAmoClients(this.rest, search);
    return findAmoClients(this.rest, search, {
      index,
      // One element per id: concurrent jobs' candidates share `filter[id][]` reads.
      readWithLeads: async (ids) => (await Promise.all(ids.map((id) => this.readContact(String(id))))).filter((c): c is AmoContact => c !== null),
      readLeads: async (ids) => (await Promise.all(ids.map((id) => this.readLead(String(id))))).filter((l): l is AmoLead => l !== null),
    });
  }

  async linkContact(ref: DealRef, contactId: string): Promise<void> {
    await this.aboutLead('link-leads', ref.id, { to_entity_id: writableId(contactId), to_entity_type: 'contacts', metadata: { is_main: true } });
  }

  async closeAsRepeat(ref: DealRef, close: RepeatClosing): Promise<void> {
    if (close.clientContactId) await this.linkContact(ref, close.clientContactId);
    await this.moveDeal(ref, close.stageId, { lossReason: close.lossReason });
  }

  async addContactCommunications(contactId: string, add: ContactCommunications): Promise<void> {
    const contact = await this.readContact(contactId);
    const fields = contact ? communicationsPatch(contact, add) : null;
    if (!fields) return;
    await this.merger.submit('patch-contacts', { entity: `contacts:${contact!.id}`, id: contact!.id, element: { id: contact!.id, custom_fields_values: fields } });
    // The app's own write: the index must not wait for its webhook to propose this contact.
    await this.identities?.addValues(contact!.id, add);
  }

  /** amoCRM has no public merge API (only the web UI's); the duplicate stays, linked and enriched. */
  async mergeContacts(): Promise<boolean> {
    return false;
  }

  async worksWithoutLeads(): Promise<boolean> {
    return false;
  }

  /** The loss reason's id by name, created when the account lacks it (names compare case- and space-insensitively). */
  private async lossReasonId(name: string): Promise<number> {
    const same = (a: string) => a.trim().toLowerCase().replace(/\s+/g, ' ') === name.trim().toLowerCase().replace(/\s+/g, ' ');
    const read = async () => {
      const page = await this.rest.get<{ _embedded: { loss_reasons: Array<{ id: number; name: string }> } }>('/api/v4/leads/loss_reasons', { limit: 250 });
      return page?._embedded.loss_reasons ?? [];
    };
    const known = await (this.caches.lossReasons ? this.caches.lossReasons.get(this.installationId, read) : read());
    const found = known.find((r) => same(r.name))?.id;
    if (found) return found;
    // Two workers closing the first repeats at once would each create it: one at a time, re-reading under the lock.
    return this.exclusive('amocrm:loss-reasons', async () => {
      const existing = (await read()).find((r) => same(r.name))?.id;
      this.caches.lossReasons?.clear(this.installationId);
      if (existing) return existing;
      const created = await this.rest.post<{ _embedded: { loss_reasons: Array<{ id: number }> } }>('/api/v4/leads/loss_reasons', [{ name }]);
      const id = created?._embedded.loss_reasons[0]?.id;
      if (!id) throw new Error(`amoCRM loss reason "${name}" could not be created`);
      return id;
    });
  }
  // endregion

  async addComment(ref: DealRef, text: string): Promise<void> {
    await this.aboutLead('add-lead-notes', ref.id, { note_type: 'service_message', params: { service: 'Reglament', text } });
  }

  async notifyUser(userId: string, text: string, about?: DealRef): Promise<void> {
    // amoCRM has no personal notification API for integrations: a task on the deal reaches the user.
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    const task = { text, complete_till: inAnHour, task_type_id: 1, responsible_user_id: Number(userId) };
    if (about) await this.aboutLead('add-tasks', about.id, { ...task, entity_type: 'leads' });
    else await this.merger.submit('add-tasks', { entity: `new-task:${++unattachedTasks}`, id: 0, element: task });
  }

  async getStageHistory(ref: DealRef): Promise<StageHistoryEntry[]> {
    const page = await this.rest.get<{ _embedded: { events: AmoEvent[] } }>('/api/v4/events', {
      'filter[entity]': 'lead',
      'filter[entity_id][]': ref.id,
      'filter[type]': 'lead_status_changed',
      limit: 100,
    });
    const events = chainInOrder(page?._embedded.events ?? []);
    const history: StageHistoryEntry[] = [];
    const first = events[0]?.value_before?.[0]?.lead_status;
    if (first) history.push({ stageId: String(first.id), at: '' });
    for (const e of events) {
      const to = e.value_after?.[0]?.lead_status;
      if (to) history.push({ stageId: String(to.id), at: new Date(e.created_at * 1000).toISOString() });
    }
    return history;
  }

  listFunnels(): Promise<CrmFunnel[]> {
    return this.caches.funnels.get(this.installationId, async () => {
      const page = await this.rest.get<{ _embedded: { pipelines: AmoPipeline[] } }>('/api/v4/leads/pipelines');
      return (page?._embedded.pipelines ?? []).map((p) => ({
        id: String(p.id),
        entity: 'deal' as const,
        name: p.name,
        stages: p._embedded.statuses
          .map((s) => ({
            id: String(s.id),
            name: s.name,
            sort: s.sort,
            semantics: s.id === AMO_WON ? ('success' as const) : s.id === AMO_LOST ? ('failure' as const) : ('process' as const),
            ...(s.type === 1 ? { incoming: true } : {}),
          }))
          .sort((a, b) => a.sort - b.sort),
      }));
    });
  }

  listFields(): Promise<CrmField[]> {
    return this.caches.fields.get(this.installationId, async () => {
      const page = await this.rest.get<{ _embedded: { custom_fields: Array<{ id: number; name: string; type: string }> } }>('/api/v4/leads/custom_fields', { limit: 250 });
      return (page?._embedded.custom_fields ?? []).map((f) => ({ code: String(f.id), title: f.name, type: f.type }));
    });
  }

  listUsers(): Promise<CrmUser[]> {
    return this.caches.users.get(this.installationId, async () => {
      type AmoUser = { id: number; name: string; rights?: { is_admin?: boolean; is_active?: boolean; group_id?: number | null } };
      const users: AmoUser[] = [];
      for (let page = 1; page <= 20; page++) {
        const answer = await this.rest.get<{ _embedded: { users: AmoUser[] }; _page_count?: number }>('/api/v4/users', { limit: 250, page });
        users.push(...(answer?._embedded.users ?? []));
        if (!answer || page >= (answer._page_count ?? 1)) break;
      }
      return users.map((u) => ({
        id: String(u.id),
        name: u.name,
        isAdmin: Boolean(u.rights?.is_admin),
        isActive: u.rights?.is_active !== false,
        // Group 0 is the account's default «Отдел продаж».
        teamIds: [String(u.rights?.group_id ?? 0)],
      }));
    });
  }

  // Tasks and activities (stage timers): see ./tasks.ts
  listOpenTasks(ref: DealRef): Promise<CrmTask[]> {
    return tasks.listOpenTasks(this.rest, ref);
  }

  async createTask(ref: DealRef, task: NewTask): Promise<string> {
    const created = (await this.aboutLead('add-tasks', ref.id, tasks.taskElement(task))) as { id?: number } | null;
    return String(created?.id ?? '');
  }

  async listActivities(ref: DealRef, since: Date): Promise<CrmActivity[]> {
    const lead = await this.getDeal(ref);
    return tasks.listActivities(this.rest, ref, lead?.contactIds ?? [], since);
  }

  countDealsInStage(entity: DealEntity, funnelId: string, stageId: string, responsibleId: string, cap: number): Promise<number> {
    return tasks.countDealsInStage(this.rest, entity, funnelId, stageId, responsibleId, cap);
  }

  async assignResponsible(ref: DealRef, userId: string): Promise<void> {
    await this.patchLead(ref, { responsible_user_id: Number(userId) });
  }

  /** The lead's outgoing calls, notes, e-mails and messages from `/api/v4/events` (one page of 100 is plenty for minutes). */
  async listTouches(ref: DealRef, since: Date): Promise<Touch[]> {
    const page = await this.rest.get<{ _embedded: { events: Array<{ type: string; created_by: number; created_at: number }> } }>('/api/v4/events', {
      'filter[entity]': 'lead',
      'filter[entity_id][]': ref.id,
      'filter[type]': Object.keys(TOUCH_EVENT_TYPES).join(','),
      'filter[created_at][from]': Math.floor(since.getTime() / 1000),
      limit: 100,
    });
    return (page?._embedded.events ?? [])
      .filter((e) => TOUCH_EVENT_TYPES[e.type] && e.created_at * 1000 >= Math.floor(since.getTime() / 1000) * 1000)
      .map((e) => ({ kind: TOUCH_EVENT_TYPES[e.type]!, userId: String(e.created_by), at: new Date(e.created_at * 1000).toISOString() }))
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }

  /** amoCRM has no absence calendar in its API: vacations come from the app's settings. */
  async listAbsences(): Promise<Absence[] | null> {
    return null;
  }
}

/** amoCRM event types that show a manager took the lead into work. */
const TOUCH_EVENT_TYPES: Record<string, TouchKind> = {
  outgoing_call: 'call',
  common_note_added: 'note',
  outgoing_mail: 'email',
  outgoing_chat_message: 'message',
  outgoing_sms: 'message',
};

interface AmoEvent {
  id: string;
  created_at: number;
  value_before?: Array<{ lead_status?: { id: number; pipeline_id: number } }>;
  value_after?: Array<{ lead_status?: { id: number; pipeline_id: number } }>;
}
interface AmoPipeline {
  id: number;
  name: string;
  _embedded: { statuses: Array<{ id: number; name: string; sort: number; type: number }> };
}

/**
 * Status events in the order they happened. Timestamps have one-second resolution and event ids
 * are not sequential, so moves within one second are ordered by their chain: each move starts
 * where the previous one ended.
 */
function chainInOrder(events: AmoEvent[]): AmoEvent[] {
  const stageOf = (v: AmoEvent['value_before']) => String(v?.[0]?.lead_status?.id ?? '');
  const remaining = [...events].sort((a, b) => a.created_at - b.created_at);
  const ordered: AmoEvent[] = [];
  while (remaining.length) {
    const second = remaining[0]!.created_at;
    const sameSecond = remaining.filter((e) => e.created_at === second);
    const previous = ordered.length ? stageOf(ordered[ordered.length - 1]!.value_after) : null;
    const enteredHere = new Set(sameSecond.map((e) => stageOf(e.value_after)));
    const next =
      sameSecond.find((e) => previous !== null && stageOf(e.value_before) === previous) ??
      sameSecond.find((e) => !enteredHere.has(stageOf(e.value_before))) ??
      sameSecond[0]!;
    ordered.push(next);
    remaining.splice(remaining.indexOf(next), 1);
  }
  return ordered;
}

export function toDeal(lead: AmoLead): Deal {
  const fields: Record<string, unknown> = { price: lead.price ?? null };
  for (const cf of lead.custom_fields_values ?? []) {
    const values = cf.values.map((v) => v.value);
    fields[String(cf.field_id)] = values.length > 1 ? values : values[0];
  }
  return {
    entity: 'deal',
    id: String(lead.id),
    title: lead.name,
    stageId: String(lead.status_id),
    funnelId: String(lead.pipeline_id),
    responsibleId: lead.responsible_user_id ? String(lead.responsible_user_id) : null,
    contactIds: (lead._embedded?.contacts ?? []).map((c) => String(c.id)),
    fields,
    modifiedBy: lead.updated_by !== undefined ? String(lead.updated_by) : null,
    updatedAt: lead.updated_at ? new Date(lead.updated_at * 1000).toISOString() : null,
    createdAt: lead.created_at ? new Date(lead.created_at * 1000).toISOString() : null,
  };
}

function toContact(contact: AmoContact): Contact {
  return toAmoContact(contact);
}

/** Tasks on no lead are about nothing that orders them: each gets an entity key of its own. */
let unattachedTasks = 0;

/** amoCRM ids are positive integers; anything else names no entity. */
function numericId(id: string): number | null {
  return /^[1-9]\d{0,15}$/.test(id) ? Number(id) : null;
}

function writableId(id: string): number {
  const n = numericId(id);
  if (n === null) throw new PermanentCrmError(`amoCRM: "${id.slice(0, 40)}" is not an entity id`, 'BAD_ID');
  return n;
}

function ownMerger(rest: AmoRestClient): AmoRequestMerger {
  const merger = new AmoRequestMerger();
  merger.useTransport(rest);
  return merger;
}
