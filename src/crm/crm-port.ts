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
}

export interface DealWithContacts {
  deal: Deal;
  contacts: Contact[];
}

export interface CrmPort extends CrmTaskPort {
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
  listUsers(): Promise<CrmUser[]>;
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
