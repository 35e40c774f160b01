import type { ClientDeal, Contact, DealRef } from '../crm/crm-port';
import { type Identity, identitiesOf } from './communications';

/**
 * Who is calling again, decided from what the CRM holds. Pure. First match wins:
 * 1. agent — a matched contact is marked as an agent (contact type, tag, or the field named in settings);
 * 2. new contact of an active client — the client has a deal in a working stage;
 * 3. existing buyer («Дольщик») — no active deal, but a bought one (won, contract, registration);
 * 4. double submission — an earlier request from the same person, still open, within the window;
 * otherwise a genuine new lead.
 */
export type RepeatClass = 'agent' | 'new_contact_of_active_client' | 'existing_buyer' | 'double_submission';
export const REPEAT_CLASSES: readonly RepeatClass[] = ['agent', 'new_contact_of_active_client', 'existing_buyer', 'double_submission'];

/** What a deal means for the client: still being sold to, already bought, or over. */
export type DealStanding = 'active' | 'bought' | 'closed';

export interface RepeatInput {
  /** The new request (a Bitrix24 lead, an amoCRM lead). */
  request: DealRef & { contactIds: string[] };
  /** Its identities, the ignore list already applied. */
  identities: Identity[];
  /** Contacts the CRM found (their communications still raw). */
  contacts: Contact[];
  /** Deals and requests the CRM found. */
  deals: ClientDeal[];
  standingOf: (deal: ClientDeal) => DealStanding;
  /** Contact labels that mark an agent ("AGENT", "Агент"), compared case-insensitively. */
  agentLabels: readonly string[];
  /** A contact field (Bitrix24 `UF_CRM_…`, amoCRM field name or id) whose "yes", or a value equal to an agent label, marks an agent. */
  agentField?: string;
  doubleSubmissionWindowMs: number;
  /** Identity keys that never make a repeat (switchboard, call-center, agencies). */
  ignoredKeys: ReadonlySet<string>;
  now: number;
}

export type RepeatVerdict =
  | { repeat: false; why: 'no_identities' | 'no_client' }
  | {
      repeat: true;
      class: RepeatClass;
      /** The existing client's contact to link the request to and enrich (null: the client is only a request). */
      clientContact: Contact | null;
      /** The deal (or first request) the repeat belongs to; its responsible manager is told. */
      target: ClientDeal | null;
      /** The identities by which the client was recognised. */
      matchedBy: Identity[];
    };

export function classifyRepeat(input: RepeatInput): RepeatVerdict {
  if (!input.identities.length) return { repeat: false, why: 'no_identities' };
  const wanted = new Map(input.identities.map((i) => [i.key, i]));
  const self = input.deals.find((d) => d.entity === input.request.entity && d.id === input.request.id);
  const others = input.deals.filter((d) => d !== self && !(d.entity === input.request.entity && d.id === input.request.id));
  const own = new Set(input.request.contactIds);

  const matched = input.contacts
    .map((contact) => ({ contact, by: identitiesOf({ phones: contact.phones, emails: contact.emails, messengers: contact.messengers ?? [] }).identities.filter((i) => wanted.has(i.key) && !input.ignoredKeys.has(i.key)) }))
    .filter((m) => m.by.length > 0);
  // The request's own contact is the client only when it has a history of its own (a form linked an existing contact).
  const hasHistory = (contactId: string) => others.some((d) => d.contactIds.includes(contactId));
  const clients = matched.filter((m) => !own.has(m.contact.id) || hasHistory(m.contact.id));
  const clientIds = new Set(clients.map((m) => m.contact.id));
  // Requests found by their own communications (Bitrix24 leads) belong to the same person too.
  const related = others.filter((d) => d.contactIds.some((id) => clientIds.has(id)) || (d.entity === 'lead' && d.isRequest));
  const byFor = (deal: ClientDeal | null): Identity[] => {
    const m = clients.find((c) => deal?.contactIds.includes(c.contact.id)) ?? clients[0] ?? matched[0];
    return m ? m.by : input.identities.filter((i) => !input.ignoredKeys.has(i.key));
  };
  const contactOf = (deal: ClientDeal | null): Contact | null =>
    clients.find((c) => deal?.contactIds.includes(c.contact.id))?.contact ?? clients.find((c) => !own.has(c.contact.id))?.contact ?? null;
  const verdict = (cls: RepeatClass, target: ClientDeal | null) => ({ repeat: true as const, class: cls, clientContact: contactOf(target), target, matchedBy: byFor(target) });

  const agent = matched.find((m) => isAgent(m.contact, input.agentLabels, input.agentField));
  if (agent) {
    const target = related.find((d) => d.contactIds.includes(agent.contact.id) && input.standingOf(d) === 'active') ?? null;
    return { repeat: true, class: 'agent', clientContact: own.has(agent.contact.id) ? contactOf(target) : agent.contact, target, matchedBy: agent.by };
  }

  const mine = self ?? null;
  const earlier = (d: ClientDeal) => !mine || isEarlier(d, mine);
  const isRecentRequest = (d: ClientDeal) =>
    d.isRequest && d.semantics === 'process' && earlier(d) && d.createdAt !== null && (mine?.createdAt ? Date.parse(mine.createdAt) : input.now) - Date.parse(d.createdAt) <= input.doubleSubmissionWindowMs;
  // A request made after this one is judged by its own event; it never makes this one a repeat.
  const considered = related.filter((d) => !d.isRequest || earlier(d));

  const active = considered.filter((d) => d.entity !== 'lead' && input.standingOf(d) === 'active' && !isRecentRequest(d));
  if (active.length) return verdict('new_contact_of_active_client', newest(active));
  const bought = considered.filter((d) => d.entity !== 'lead' && input.standingOf(d) === 'bought');
  if (bought.length) return verdict('existing_buyer', newest(bought));
  const first = considered.filter(isRecentRequest).sort((a, b) => (isEarlier(a, b) ? -1 : 1))[0];
  if (first) return verdict('double_submission', first);
  return { repeat: false, why: 'no_client' };
}

/** Values a checkbox (amoCRM `true`, Bitrix24 boolean user field `1`/`Y`) or a typed "yes" take. */
const YES = new Set(['true', '1', 'y', 'yes', 'да']);

/** An agent: a contact type or tag among the labels, or the settings' field saying "yes" or holding a label. */
export function isAgent(contact: Contact, agentLabels: readonly string[], agentField?: string): boolean {
  const labels = new Set(agentLabels.map(normalLabel));
  if ((contact.labels ?? []).some((l) => labels.has(normalLabel(l)))) return true;
  if (!agentField?.trim()) return false;
  const wanted = normalLabel(agentField);
  const values = Object.entries(contact.fields ?? {}).filter(([name]) => normalLabel(name) === wanted).flatMap(([, v]) => v);
  return values.some((v) => v === true || v === 1 || (typeof v === 'string' && (YES.has(normalLabel(v)) || labels.has(normalLabel(v)))));
}

/** Earlier by creation time; ids break ties (both CRMs number records in creation order). */
export function isEarlier(a: Pick<ClientDeal, 'createdAt' | 'id'>, b: Pick<ClientDeal, 'createdAt' | 'id'>): boolean {
  const ta = a.createdAt ? Date.parse(a.createdAt) : 0;
  const tb = b.createdAt ? Date.parse(b.createdAt) : 0;
  return ta !== tb ? ta < tb : Number(a.id) < Number(b.id);
}

function newest(deals: ClientDeal[]): ClientDeal {
  return [...deals].sort((a, b) => (isEarlier(a, b) ? 1 : -1))[0]!;
}

const normalLabel = (s: string) => s.trim().toLowerCase().replace(/ё/g, 'е');
