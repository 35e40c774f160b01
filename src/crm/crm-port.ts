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
}

export type StageSemantics = 'process' | 'success' | 'failure';

export interface FunnelStage {
  id: string;
  name: string;
  sort: number;
  semantics: StageSemantics;
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

export interface CrmPort {
  readonly crm: CrmKind;
  /** The deal and its contacts in as few requests as the CRM allows (Bitrix24: one `batch`). */
  getDealWithContacts(ref: DealRef): Promise<DealWithContacts | null>;
  getDeal(ref: DealRef): Promise<Deal | null>;
  getContact(id: string): Promise<Contact | null>;
  renameDeal(ref: DealRef, title: string): Promise<void>;
  moveDeal(ref: DealRef, stageId: string): Promise<void>;
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
