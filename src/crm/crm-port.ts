/**
 * The one interface robots use to talk to a CRM. Methods are named for what the
 * regulation needs (rename a deal, move it back, explain in the card), not for a
 * CRM's REST API; each CRM has one adapter implementing it (`bitrix24/`, `amocrm/`).
 *
 * Vocabulary: a "deal" is one purchase process. In amoCRM that entity is called
 * "lead"; Bitrix24 has real leads too (entity `lead`), which pass through a lead
 * funnel before they become deals.
 */
export type CrmKind = 'bitrix24' | 'amocrm';

/** CRM entities a robot can act on. amoCRM "leads" are `deal` here. */
export type DealEntity = 'deal' | 'lead';

export interface DealRef {
  entity: DealEntity;
  id: string;
}

export interface Deal extends DealRef {
  title: string;
  /** Stage (Bitrix24 STAGE_ID / lead STATUS_ID, amoCRM status_id), as a string. */
  stageId: string;
  /** Bitrix24 category id ("0" default; "lead" for leads), amoCRM pipeline id. */
  funnelId: string;
  responsibleId: string | null;
  contactIds: string[];
  /** Custom and system field values keyed by the CRM's field code (Bitrix24 camelCase `ufCrm…`, amoCRM field id). */
  fields: Record<string, unknown>;
  /** Who made the last change, when the CRM says so. */
  modifiedBy: string | null;
  updatedAt: string | null;
  /** When the deal was created (Bitrix24 `createdTime`, amoCRM `created_at`), when the CRM says so. */
  createdAt?: string | null;
}

export interface Contact {
  id: string;
  name: string;
  phones: string[];
  emails: string[];
  /** Messenger ids, "NETWORK|id" where the CRM says the network (Bitrix24 IM `TELEGRAM|ivan`). */
  messengers?: string[];
  /** What the CRM says the contact is: Bitrix24 contact type (id and name), amoCRM tags. */
  labels?: string[];
  responsibleId?: string | null;
  /**
   * Custom field values as read: Bitrix24 `UF_CRM_…` by code (when asked for), amoCRM
   * `custom_fields_values` by field name and by field id. Lists, even for single values.
   */
  fields?: Record<string, unknown[]>;
}

export type StageSemantics = 'process' | 'success' | 'failure';

export interface FunnelStage {
  id: string;
  name: string;
  sort: number;
  semantics: StageSemantics;
  /** amoCRM «Неразобранное» (status type 1): requests nobody accepted yet. */
  incoming?: boolean;
}

/** A deal category / lead status list (Bitrix24) or a pipeline (amoCRM). */
export interface CrmFunnel {
  id: string;
  entity: DealEntity;
  name: string;
  stages: FunnelStage[];
}

export interface CrmField {
  /** The code the CRM uses in `Deal.fields`. */
  code: string;
  title: string;
  type: string;
}

export interface StageHistoryEntry {
  stageId: string;
  at: string;
}

export interface CrmUser {
  id: string;
  name: string;
  isAdmin: boolean;
  /** False for a dismissed / deactivated user (Bitrix24 `ACTIVE`, amoCRM `rights.is_active`); absent = active. */
  isActive?: boolean;
  /** Bitrix24 departments (`UF_DEPARTMENT`), amoCRM group (`rights.group_id`), as strings. */
  teamIds?: string[];
}

/**
 * Something a manager did on a deal that shows it was taken into work (takeover timer):
 * an outgoing call, a note, an e-mail or a message.
 */
export type TouchKind = 'call' | 'note' | 'email' | 'message';
export interface Touch {
  kind: TouchKind;
  /** Who made it (Bitrix24 activity `RESPONSIBLE_ID` / comment `AUTHOR_ID`; amoCRM event `created_by`). */
  userId: string;
  at: string;
}

/** A period a user is away (Bitrix24 calendar entries marked «absent»). */
export interface Absence {
  userId: string;
  from: string;
  to: string;
}

export interface DealWithContacts {
  deal: Deal;
  contacts: Contact[];
}

export interface CrmPort extends CrmTaskPort {
  readonly crm: CrmKind;
  /**
   * The deal and its contacts in as few requests as the CRM allows (Bitrix24: one `batch`).
   * The stage history is not part of it (`getStageHistory`, read only when the stage changed).
   */
  getDealWithContacts(ref: DealRef): Promise<DealWithContacts | null>;
  getDeal(ref: DealRef): Promise<Deal | null>;
  getContact(id: string): Promise<Contact | null>;
  renameDeal(ref: DealRef, title: string): Promise<void>;
  /** Moves the deal; a loss reason by name goes with a move to a failure stage where the CRM keeps one (amoCRM `loss_reason_id`). */
  moveDeal(ref: DealRef, stageId: string, options?: MoveOptions): Promise<void>;
  /** A note in the card's timeline, visible to the manager. */
  addComment(ref: DealRef, text: string): Promise<void>;
  /** A personal notification to a CRM user (Bitrix24 notification, amoCRM task on the deal). */
  notifyUser(userId: string, text: string, about?: DealRef): Promise<void>;
  /** Stage history, oldest first (Bitrix24 `crm.stagehistory.list`; amoCRM events). */
  getStageHistory(ref: DealRef): Promise<StageHistoryEntry[]>;
  listFunnels(): Promise<CrmFunnel[]>;
  listFields(entity: DealEntity): Promise<CrmField[]>;
  /** Every user the CRM lists, active or not (see `isActive`). */
  listUsers(): Promise<CrmUser[]>;

  // region Duplicate catcher (issue 7)
  /**
   * Contacts holding any of these communications, their deals, and open requests with them
   * (Bitrix24: `crm.duplicate.findbycomm` and the reads in one `batch`; amoCRM: `query` then an
   * exact comparison). The search is wide; the caller compares normalised values exactly.
   */
  findClientsByCommunications(search: ClientSearch): Promise<ClientMatches>;
  /** Makes `contactId` the deal's (lead's) main contact, keeping the others. */
  linkContact(ref: DealRef, contactId: string): Promise<void>;
  /**
   * Closes a repeat request in as few writes as the CRM allows: the special status (amoCRM: with
   * its loss reason) and the client's contact made the main one (Bitrix24: one crm.item.update).
   */
  closeAsRepeat(ref: DealRef, close: RepeatClosing): Promise<void>;
  /** Adds communications to a contact in the CRM's multi-field format; never changes or removes one. */
  addContactCommunications(contactId: string, add: ContactCommunications): Promise<void>;
  /** The CRM's own merge of `duplicateId` into `keepId`; false where the CRM has no merge API. */
  mergeContacts(keepId: string, duplicateId: string): Promise<boolean>;
  /** Whether the CRM works without a separate lead entity (Bitrix24 simple CRM mode); amoCRM: false (its leads are the requests). */
  worksWithoutLeads(): Promise<boolean>;
  // endregion

  /** Makes `userId` the responsible manager of the deal (Bitrix24 `assignedById`, amoCRM `responsible_user_id`). */
  assignResponsible(ref: DealRef, userId: string): Promise<void>;
  /**
   * Outgoing calls, notes, e-mails and messages on the deal since `since` (Bitrix24
   * `crm.activity.list` + timeline comments; amoCRM `/api/v4/events`), oldest first.
   */
  listTouches(ref: DealRef, since: Date): Promise<Touch[]>;
  /**
   * Absences of these users overlapping [from, to), or null when the CRM does not expose them to
   * the app (then app-level vacations from settings are used).
   */
  listAbsences(userIds: readonly string[], from: Date, to: Date): Promise<Absence[] | null>;
}

// ---------------------------------------------------------------------------------------------
// Tasks and activities (stage timers: next steps, the no-answer cadence, touches)
// ---------------------------------------------------------------------------------------------

/** amoCRM task type / what the Bitrix24 to-do is about. */
export type TaskKind = 'call' | 'meeting' | 'follow_up';

/** An open task of a deal: an amoCRM task, a Bitrix24 activity not completed (to-do, planned call…). */
export interface CrmTask {
  id: string;
  text: string;
  /** ISO instant; null when the CRM has none. */
  dueAt: string | null;
  responsibleId: string | null;
}

export interface NewTask {
  kind: TaskKind;
  text: string;
  dueAt: Date;
  responsibleId: string;
}

/** Something that happened with the client, as the CRM recorded it. */
export interface CrmActivity {
  id: string;
  kind: 'call' | 'message' | 'note' | 'email';
  /** `incoming`: the client reached out; `outgoing`: the manager did; null for notes. */
  direction: 'incoming' | 'outgoing' | null;
  /** ISO instant. */
  at: string;
  authorId: string | null;
  /** For calls: whether a conversation took place, when the CRM says (amoCRM call status 4); else null. */
  answered: boolean | null;
  /** Short text for the attempts list («исходящий звонок, 0:45»). */
  summary: string;
}

export interface CrmTaskPort {
  /** Open tasks of the deal (amoCRM `GET /api/v4/tasks`, Bitrix24 `crm.activity.list` COMPLETED=N). */
  listOpenTasks(ref: DealRef): Promise<CrmTask[]>;
  /** A task for a manager in the deal (amoCRM `POST /api/v4/tasks`, Bitrix24 `crm.activity.todo.add`); returns its id. */
  createTask(ref: DealRef, task: NewTask): Promise<string>;
  /** Calls, messages and notes of the deal (and where the CRM keeps calls, its contacts) since `since`, oldest first. */
  listActivities(ref: DealRef, since: Date): Promise<CrmActivity[]>;
  /** How many deals of `responsibleId` sit in the stage (capped at `cap`: enough to compare with a threshold). */
  countDealsInStage(entity: DealEntity, funnelId: string, stageId: string, responsibleId: string, cap: number): Promise<number>;
}

export interface MoveOptions {
  /** amoCRM loss reason name (found in `/api/v4/leads/loss_reasons`, created if missing). */
  lossReason?: string;
}

// region Duplicate catcher (issue 7)
export interface RepeatClosing extends MoveOptions {
  stageId: string;
  /** The existing client's contact, made the request's main contact. */
  clientContactId: string | null;
  /** The request's contacts as read (kept after the client's). */
  contactIds: string[];
}

export interface ContactCommunications {
  phones: string[];
  emails: string[];
  /** "NETWORK|id" or a bare id. */
  messengers: string[];
}

export interface ClientSearch extends ContactCommunications {
  /** amoCRM contact fields (names) holding messenger ids besides the standard IM field. */
  messengerFields?: string[];
  /** Bitrix24 contact user fields (`UF_CRM_…`) to read with the found contacts (amoCRM reads them all). */
  contactFields?: string[];
  /** The request being judged: no need to read it back when it is all the CRM finds. */
  request?: DealRef;
}

/** One of a client's deals or requests, as the duplicate catcher judges it. */
export interface ClientDeal extends DealRef {
  title: string;
  stageId: string;
  funnelId: string;
  responsibleId: string | null;
  semantics: StageSemantics;
  /** ISO time of creation. */
  createdAt: string | null;
  contactIds: string[];
  /** A request that has not become a deal: a Bitrix24 lead; every amoCRM lead is one too. */
  isRequest: boolean;
  /** Where it came from (Bitrix24 SOURCE_ID), for the comment on the active deal. */
  source?: string | null;
}

export interface ClientMatches {
  contacts: Contact[];
  /** Deals of those contacts and requests holding the communications (the new one included: the caller excludes it). */
  deals: ClientDeal[];
}
// endregion

