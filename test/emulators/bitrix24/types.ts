/** Public types of the Bitrix24 portal emulator. */

export type AppStatus = 'L' | 'F' | 'D' | 'T' | 'P';
export type StageSemantic = 'P' | 'S' | 'F';
/** CRM entity type ids (restdocs `api-reference/crm/data-types.md#object_type`). */
export type EntityTypeId = 1 | 2 | 3;
export const ENTITY_LEAD = 1;
export const ENTITY_DEAL = 2;
export const ENTITY_CONTACT = 3;

export interface PortalUser {
  id: number;
  name: string;
  lastName: string;
  isAdmin?: boolean;
  active?: boolean;
  email?: string;
  /** Department ids (`UF_DEPARTMENT`). Default `[1]` (the company's root department). */
  departments?: number[];
}

export interface Bitrix24PortalOptions {
  /** The app's OAuth credentials, checked by `/oauth/token/`. */
  clientId: string;
  clientSecret: string;
  /** Default: random 32 hex chars. */
  memberId?: string;
  /** Leaky bucket per portal. Default `{ burst: 50, drainPerSecond: 2 }` (non-Enterprise plans). */
  rateLimit?: { burst: number; drainPerSecond: number };
  /** Access token lifetime. Default 3600. */
  accessTokenTtlSec?: number;
  /** Default: 1 admin, 2 and 3 managers, 4 head of sales. */
  users?: PortalUser[];
  /** Status reported for the app (`status`, `auth[status]`, `app.info`). Default `L`. */
  appStatus?: AppStatus;
  /** Scope granted to the app. Default `crm,im,user_brief,bizproc,placement`. */
  scope?: string;
  /** Clock in ms (tokens expiry, rate limit, timestamps). Default `Date.now`. */
  clock?: () => number;
  /** Timezone offset used in dates, e.g. `+03:00`. Default `+03:00`. */
  utcOffset?: string;
  /** Delay before the queue server starts delivering an event, ms. Default 0. */
  eventDelayMs?: number;
  /** Timeout of one event delivery, ms. Default 5000. */
  deliveryTimeoutMs?: number;
}

export interface StageDefinition {
  statusId: string;
  name: string;
  sort: number;
  semantics?: 'S' | 'F';
  color?: string;
}

export interface UserFieldDefinition {
  /** Original name, e.g. `UF_CRM_UNIT` (must start with `UF_CRM_`). */
  fieldName: string;
  title: string;
  /** `string`, `integer`, `double`, `boolean`, `date`, `datetime`, `enumeration`, … */
  type: string;
  isMultiple?: boolean;
  isRequired?: boolean;
}

export interface MultiFieldValue {
  id: number;
  typeId: 'PHONE' | 'EMAIL' | 'WEB' | 'IM';
  valueType: string;
  value: string;
}

interface CrmItemCommon {
  id: number;
  createdTime: string;
  updatedTime: string;
  createdBy: number;
  updatedBy: number;
  assignedById: number;
  opened: 'Y' | 'N';
  sourceId: string | null;
  comments: string | null;
  lastActivityBy: number;
  lastActivityTime: string;
  /** User fields in crm.item camelCase form, e.g. `ufCrmUnit` for `UF_CRM_UNIT`. */
  [userField: `ufCrm${string}`]: unknown;
}

export interface DealRecord extends CrmItemCommon {
  title: string;
  categoryId: number;
  stageId: string;
  stageSemanticId: StageSemantic;
  closed: 'Y' | 'N';
  contactId: number;
  contactIds: number[];
  companyId: number;
  leadId: number | null;
  opportunity: number;
  currencyId: string;
  typeId: string | null;
  isReturnCustomer: 'Y' | 'N';
  isRepeatedApproach: 'Y' | 'N';
  movedTime: string;
  movedBy: number;
}

export interface LeadRecord extends CrmItemCommon {
  title: string;
  stageId: string;
  stageSemanticId: StageSemantic;
  name: string | null;
  lastName: string | null;
  secondName: string | null;
  contactId: number;
  contactIds: number[];
  companyId: number;
  opportunity: number;
  currencyId: string;
  isReturnCustomer: 'Y' | 'N';
  movedTime: string;
  movedBy: number;
  fm: MultiFieldValue[];
}

export interface ContactRecord extends CrmItemCommon {
  name: string | null;
  lastName: string | null;
  secondName: string | null;
  companyId: number;
  typeId: string | null;
  post: string | null;
  fm: MultiFieldValue[];
}

/** Input of the "user in the browser" helpers for leads (`statusId` is accepted as an alias of `stageId`). */
export type LeadInput = Partial<LeadRecord> & {
  statusId?: string;
  phones?: string[];
  emails?: string[];
};

export interface ContactInput {
  name?: string;
  lastName?: string;
  secondName?: string;
  assignedById?: number;
  phones?: string[];
  emails?: string[];
  [field: string]: unknown;
}

export interface CallLogEntry {
  method: string;
  params: Record<string, unknown>;
  at: number;
  userId: number | null;
  viaBatch?: boolean;
  /** Error code when the call failed. */
  error?: string;
}

export interface DeliveryRecord {
  event: string;
  handler: string;
  /** HTTP status of the handler's response; 0 on a network error/timeout. */
  status: number;
  /** The exact form-encoded body that was POSTed. */
  body: string;
  /** The same body as an object (before form encoding). */
  payload: Record<string, unknown>;
  error?: string;
  at: number;
}

export interface EventBinding {
  id: number;
  event: string;
  handler: string;
  authType: number;
}

export interface PortalStats {
  /** Every HTTP request to `/rest/…` (batch counts once), including rejected ones. */
  restCalls: number;
  /** Requests rejected with QUERY_LIMIT_EXCEEDED. */
  rateLimited: number;
  /** Every request to the OAuth token endpoint. */
  refreshCalls: number;
  refreshFailures: number;
}

export interface NotificationRecord {
  id: number;
  kind: 'system' | 'personal';
  userId: number;
  fromUserId: number | null;
  message: string;
  tag: string | null;
  at: string;
}

export interface CommentRecord {
  id: number;
  entityType: 'lead' | 'deal' | 'contact';
  entityId: number;
  comment: string;
  authorId: number;
  created: string;
}

export interface TodoRecord {
  id: number;
  ownerTypeId: number;
  ownerId: number;
  deadline: string;
  title: string;
  description: string;
  responsibleId: number;
  createdBy: number;
  /** Stage timers: a to-do is an activity (PROVIDER_ID CRM_TODO) the user completes. */
  completed: boolean;
  created: string;
}

/**
 * A CRM activity other than a to-do (stage timers): a call (TYPE_ID 2), an e-mail (4), an
 * open-line chat (6, PROVIDER_ID IMOPENLINES_SESSION); DIRECTION 1 incoming, 2 outgoing.
 */
export interface ActivityRecord {
  id: number;
  ownerTypeId: number;
  ownerId: number;
  typeId: number;
  providerId: string;
  providerTypeId: string;
  direction: 1 | 2;
  subject: string;
  completed: boolean;
  responsibleId: number;
  authorId: number;
  created: string;
  startTime: string;
  endTime: string;
}

/** A calendar entry in a user's calendar (what `calendar.accessibility.get` reports). */
export interface CalendarEntryRecord {
  id: number;
  userId: number;
  name: string;
  fromMs: number;
  toMs: number;
  accessibility: 'busy' | 'absent' | 'quest' | 'free';
}

export interface StageHistoryRecord {
  id: number;
  entityTypeId: 1 | 2;
  typeId: 1 | 2 | 3 | 5;
  ownerId: number;
  createdTime: string;
  categoryId: number | null;
  stageId: string;
  semantic: StageSemantic;
}
