/**
 * Faithful emulator of a Bitrix24 portal for a marketplace app, as a real HTTP server on 127.0.0.1.
 *
 * Wire formats follow the official REST docs (github.com/bitrix24/b24restdocs; summarized in
 * /work/shared/research/bitrix24.md §1, §2, §4, §5):
 * - REST at `/rest/<method>[.json]` (GET/POST; JSON, form or query params; `auth` param), responses
 *   `{result, total?, next?, time}` or `{error, error_description}` with the documented HTTP statuses;
 * - OAuth server at `/oauth/token/` and `/oauth/oauth/token/` (server_endpoint is `${url}/oauth/rest/`, so the
 *   jssdk's refresh URL `serverEndpoint.replace('/rest/','') + '/oauth/token/'` lands here), single-use refresh tokens;
 * - install: the portal POSTs the install page (UI app) or the ONAPPINSTALL callback (app without UI);
 * - events: form-encoded PHP-style POSTs from an asynchronous queue, in order, no retries, only after the
 *   installation is finished;
 * - leaky-bucket rate limit per portal → 503 QUERY_LIMIT_EXCEEDED.
 *
 * Modules live in `./bitrix24/`; this file wires them together and is the public entry point.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as qs from 'qs';
import { runBatch } from './bitrix24/batch';
import { type Actor, type CrmEvent, CrmStore, type ItemChanges } from './bitrix24/crm-store';
import { parseLegacyFm, specOf } from './bitrix24/crm-fields';
import { EventBus } from './bitrix24/events';
import { coreMethods } from './bitrix24/methods-core';
import { crmMethods } from './bitrix24/methods-crm';
import { activityMethods, addActivity, type NewActivity } from './bitrix24/methods-activities';
import { bizprocMethods, filterAllows, RobotRegistry, type RobotAnswer, type RobotRecord } from './bitrix24/methods-bizproc';
import { PlacementRegistry, placementMethods, type PlacementRecord } from './bitrix24/methods-placement';
import { type IssuedTokens, LeakyBucket, TokenStore, handleTokenRequest } from './bitrix24/oauth';
import type { CallContext, MethodHandler, MethodOutput, Params, PortalInternals } from './bitrix24/rest-context';
import type {
  AppStatus,
  Bitrix24PortalOptions,
  CallLogEntry,
  CommentRecord,
  ContactInput,
  ContactRecord,
  DealRecord,
  DeliveryRecord,
  EntityTypeId,
  EventBinding,
  LeadInput,
  LeadRecord,
  NotificationRecord,
  PortalStats,
  PortalUser,
  StageDefinition,
  StageHistoryRecord,
  TodoRecord,
  ActivityRecord,
  CalendarEntryRecord,
  UserFieldDefinition,
} from './bitrix24/types';
import { ufToCamel } from './bitrix24/uf-names';
import { RestError, formatDateTime, isPlainObject, randomHex } from './bitrix24/util';
import { toPhpForm } from './form-encode';

export * from './bitrix24/types';
export { ufToCamel } from './bitrix24/uf-names';
export type { Actor } from './bitrix24/crm-store';
export type { IssuedTokens } from './bitrix24/oauth';
export type { RobotAnswer, RobotRecord } from './bitrix24/methods-bizproc';
export type { PlacementRecord } from './bitrix24/methods-placement';

const DEFAULT_USERS: PortalUser[] = [
  { id: 1, name: 'Админ', lastName: 'Портала', isAdmin: true },
  { id: 2, name: 'Мария', lastName: 'Менеджерова' },
  { id: 3, name: 'Иван', lastName: 'Продажин' },
  { id: 4, name: 'Ольга', lastName: 'Руководитель' },
];

const QS_OPTIONS = { depth: 20, arrayLimit: 1000, parameterLimit: 100_000 } as const;
const INSTALL_FINISH_CALL = /BX24\.installFinish\s*\(\s*\)/;

export interface InstallResult {
  status: number;
  body: string;
}

export class Bitrix24PortalEmulator {
  readonly memberId: string;
  readonly stats: PortalStats = { restCalls: 0, rateLimited: 0, refreshCalls: 0, refreshFailures: 0 };
  readonly calls: CallLogEntry[] = [];

  private appToken = randomHex();
  private installState: 'none' | 'pending' | 'installed' | 'uninstalled' = 'none';
  private server: Server | null = null;
  private port = 0;
  private readonly now: () => number;
  private readonly utcOffset: string;
  private readonly users: PortalUser[];
  private readonly appStatus: AppStatus;
  private readonly scope: string;
  private readonly ttlSec: number;
  private readonly tokens: TokenStore;
  private readonly bucket: LeakyBucket;
  private readonly bus: EventBus;
  private readonly store: CrmStore;
  private readonly records = {
    notifications: [] as NotificationRecord[],
    comments: [] as CommentRecord[],
    todos: [] as TodoRecord[],
    activities: [] as ActivityRecord[],
    calendar: [] as CalendarEntryRecord[],
  };
  private readonly seq = { notification: 1, comment: 1, activity: 1 };
  private readonly methods: Record<string, MethodHandler>;
  private readonly slowAnswers = new Map<string, number>();
  private readonly failures = new Map<string, Array<{ status: number; error: string; description: string }>>();
  private readonly robotRegistry = new RobotRegistry();
  private readonly placementRegistry = new PlacementRegistry();
  /** host:port of the app's install URL: robot handlers must be on the app's domain. */
  private appHost: string | null = null;
  private exhaustAtRequest = 0;

  private constructor(private readonly options: Bitrix24PortalOptions) {
    this.now = options.clock ?? Date.now;
    this.utcOffset = options.utcOffset ?? '+03:00';
    this.memberId = options.memberId ?? randomHex();
    this.users = (options.users ?? DEFAULT_USERS).map((user) => ({ ...user }));
    this.appStatus = options.appStatus ?? 'L';
    this.scope = options.scope ?? 'crm,im,user_brief,bizproc,placement';
    this.ttlSec = options.accessTokenTtlSec ?? 3600;
    this.tokens = new TokenStore(this.now, this.ttlSec);
    const rate = options.rateLimit ?? { burst: 50, drainPerSecond: 2 };
    this.bucket = new LeakyBucket(rate.burst, rate.drainPerSecond, this.now);
    this.bus = new EventBus(this.now, options.eventDelayMs ?? 0, options.deliveryTimeoutMs ?? 5000);
    this.store = new CrmStore(this.now, this.utcOffset, (event) => this.onCrmEvent(event));
    const internals = this.internals();
    this.methods = { ...coreMethods(internals), ...crmMethods(internals), ...activityMethods(internals), ...bizprocMethods(internals, this.robotRegistry, () => this.appHost), ...placementMethods(internals, this.placementRegistry, () => this.appHost) };
  }

  static async start(options: Bitrix24PortalOptions): Promise<Bitrix24PortalEmulator> {
    const portal = new Bitrix24PortalEmulator(options);
    await portal.listen();
    return portal;
  }

  // region Addresses & state

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `127.0.0.1:PORT` — what Bitrix24 puts in `DOMAIN` / `auth[domain]`. */
  get domain(): string {
    return `127.0.0.1:${this.port}`;
  }

  get clientEndpoint(): string {
    return `${this.url}/rest/`;
  }

  /** The emulated OAuth server's REST root (`oauth.bitrix.info/rest/` in production). */
  get serverEndpoint(): string {
    return `${this.url}/oauth/rest/`;
  }

  /** Random 32 hex, fixed per installation (a new one after uninstall + install). */
  get applicationToken(): string {
    return this.appToken;
  }

  /** True once the installation is finished (UI app: after `BX24.installFinish()`; no-UI app: immediately). */
  get isInstalled(): boolean {
    return this.installState === 'installed';
  }

  get deliveries(): DeliveryRecord[] {
    return this.bus.deliveries;
  }

  get notifications(): NotificationRecord[] {
    return this.records.notifications;
  }

  get todos(): TodoRecord[] {
    return this.records.todos;
  }

  /** The application's robots as `bizproc.robot.add` / `.update` left them. */
  robots(): RobotRecord[] {
    return [...this.robotRegistry.robots.values()].map((robot) => ({ ...robot }));
  }

  /** The application's widget handlers as `placement.bind` / `.unbind` left them. */
  placements(): PlacementRecord[] {
    return this.placementRegistry.handlers.map((h) => ({ ...h }));
  }

  /**
   * What the portal POSTs into the iframe when `userId` opens a CRM card tab (restdocs widgets/crm/detail-tab.md):
   * the same query and form as the app page, with PLACEMENT and PLACEMENT_OPTIONS {"ID":"<id>"}; the form is
   * sent to the handler the application bound to that placement.
   */
  placementFrame(placement: string, id: number | string, userId: number, lang = 'ru'): { handler: string | null; query: Record<string, string>; form: Record<string, string> } {
    const frame = this.appFrame(userId, lang);
    const bound = this.placementRegistry.handlers.find((h) => h.placement === placement);
    return { handler: bound?.handler ?? null, query: frame.query, form: { ...frame.form, PLACEMENT: placement, PLACEMENT_OPTIONS: JSON.stringify({ ID: String(id) }) } };
  }

  /** Every `bizproc.event.send` the portal accepted, in order. */
  get robotAnswers(): RobotAnswer[] {
    return this.robotRegistry.answers;
  }

  bindings(): EventBinding[] {
    return this.bus.bindings.map((binding) => ({ ...binding }));
  }

  // endregion

  // region Lifecycle

  async stop(): Promise<void> {
    await this.bus.settle();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves when the event queue is empty and in-flight deliveries are done. */
  settle(): Promise<void> {
    return this.bus.settle();
  }

  /**
   * Installs the app the way Bitrix24 does. UI app (default): POSTs the install page like opening an app frame;
   * the installation is finished only if the returned HTML calls `BX24.installFinish()` — the emulator's stand-in
   * for running the page's JS. `ui: false`: POSTs the ONAPPINSTALL callback; installed immediately.
   */
  async install(appInstallUrl: string, opts: { ui?: boolean } = {}): Promise<InstallResult> {
    if (this.installState === 'uninstalled') this.appToken = randomHex();
    this.installState = 'pending';
    this.appHost = new URL(appInstallUrl).host;
    const admin = this.users.find((user) => user.isAdmin) ?? this.users[0];
    const issued = this.tokens.issue(admin?.id ?? 1, true);
    if (opts.ui === false) {
      this.installState = 'installed';
      const delivery = await this.bus.post('ONAPPINSTALL', appInstallUrl, {
        event: 'ONAPPINSTALL',
        data: { VERSION: '1', ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: 'ru' },
        ts: String(Math.floor(this.now() / 1000)),
        auth: this.installAuth(issued),
      });
      return { status: delivery.status, body: delivery.responseBody };
    }
    const url = new URL(appInstallUrl);
    url.searchParams.set('DOMAIN', this.domain);
    url.searchParams.set('PROTOCOL', '0');
    url.searchParams.set('LANG', 'ru');
    url.searchParams.set('APP_SID', randomHex());
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: toPhpForm({
        AUTH_ID: issued.accessToken,
        AUTH_EXPIRES: issued.expiresIn,
        REFRESH_ID: issued.refreshToken,
        SERVER_ENDPOINT: this.serverEndpoint,
        APPLICATION_TOKEN: this.appToken,
        APPLICATION_SCOPE: this.scope,
        member_id: this.memberId,
        status: this.appStatus,
        PLACEMENT: 'DEFAULT',
        PLACEMENT_OPTIONS: '{}',
      }),
    });
    const body = await response.text();
    if (INSTALL_FINISH_CALL.test(body)) this.installFinish();
    return { status: response.status, body };
  }

  /**
   * An automation rule reaches a robot of the app: the queue server POSTs the robot's HANDLER with
   * the documented form (workflow_id, code, document_id[], document_type[], event_token,
   * properties[], use_subscription, timeout_duration, ts, auth[] with AUTH_USER_ID's token and the
   * application_token). Throws when the robot is not registered or its FILTER hides it for this
   * document (the designer would not offer it). Returns the token the app must answer with.
   */
  async runRobot(code: string, document: { entity: 'deal' | 'lead'; id: number }, properties: Record<string, string> = {}): Promise<{ eventToken: string; status: number; responseBody: string }> {
    const robot = this.robotRegistry.robots.get(code);
    if (!robot) throw new Error(`robot ${code} is not registered`);
    const type: [string, string, string] = document.entity === 'deal' ? ['crm', 'CCrmDocumentDeal', 'DEAL'] : ['crm', 'CCrmDocumentLead', 'LEAD'];
    if (!filterAllows(robot.filter, type)) throw new Error(`robot ${code} is not offered for ${document.entity}s (FILTER)`);
    const documentId: [string, string, string] = [type[0], type[1], `${type[2]}_${document.id}`];
    const run = this.robotRegistry.issueRun(code, documentId);
    const admin = this.users.find((user) => user.isAdmin) ?? this.users[0];
    const issued = this.tokens.issue(robot.authUserId ?? admin?.id ?? 1, true);
    const delivery = await this.bus.post('ROBOT', robot.handler, {
      workflow_id: run.workflowId,
      code,
      document_id: documentId,
      document_type: type,
      event_token: run.eventToken,
      properties,
      use_subscription: robot.useSubscription === 'N' ? 'N' : 'Y',
      timeout_duration: '0',
      ts: String(Math.floor(this.now() / 1000)),
      auth: this.installAuth(issued),
    });
    return { eventToken: run.eventToken, status: delivery.status, responseBody: delivery.responseBody };
  }

  /** Resolves with the answer to `eventToken` once `bizproc.event.send` arrives (polls; test helper). */
  async robotAnswer(eventToken: string, timeoutMs = 10_000): Promise<RobotAnswer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.robotRegistry.answers.find((a) => a.eventToken === eventToken);
      if (answer) return answer;
      if (Date.now() > deadline) throw new Error(`no bizproc.event.send for ${eventToken.slice(0, 20)}… within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** What `BX24.installFinish()` does; called by `install()` when the page HTML contains that call. */
  installFinish(): void {
    if (this.installState === 'pending') this.installState = 'installed';
  }

  /**
   * Revokes all tokens, POSTs ONAPPUNINSTALL to every ONAPPUNINSTALL handler (and `handlerUrl`), removes bindings.
   * `lost: true`: the app was unreachable when the event went out; Bitrix24 does not resend it.
   */
  async uninstall(handlerUrl?: string, opts: { clean?: boolean; lost?: boolean } = {}): Promise<void> {
    await this.bus.settle();
    this.tokens.revokeAll();
    this.installState = 'uninstalled';
    const targets = this.bus.bound('ONAPPUNINSTALL').map((binding) => ({ handler: binding.handler, id: binding.id }));
    if (handlerUrl && !targets.some((target) => target.handler === handlerUrl)) targets.push({ handler: handlerUrl, id: 0 });
    for (const target of opts.lost ? [] : targets) {
      await this.bus.post('ONAPPUNINSTALL', target.handler, {
        event: 'ONAPPUNINSTALL',
        ...(target.id ? { event_handler_id: String(target.id) } : {}),
        data: { LANGUAGE_ID: 'ru', CLEAN: opts.clean === false ? 0 : 1 },
        ts: String(Math.floor(this.now() / 1000)),
        auth: {
          domain: this.domain,
          server_endpoint: this.serverEndpoint,
          client_endpoint: this.clientEndpoint,
          member_id: this.memberId,
          application_token: this.appToken,
        },
      });
    }
    this.bus.clear();
    // "On uninstall Bitrix24 deletes the application's event handlers, robots…" (restdocs settings/app-uninstallation.md).
    this.robotRegistry.clear();
    // "… handlers registered by the application widgets" too.
    this.placementRegistry.clear();
  }

  revokeTokens(): void {
    this.tokens.revokeAll();
  }

  /** Every issued access token becomes expired: the next REST call gets 401 expired_token. */
  expireAccessTokens(): void {
    this.tokens.expireAll();
  }

  /**
   * What the portal POSTs into the app's iframe when `userId` opens the app (placement DEFAULT):
   * DOMAIN, PROTOCOL, LANG, APP_SID in the query; that user's own OAuth pair, member_id, status,
   * PLACEMENT and PLACEMENT_OPTIONS in the form body.
   */
  appFrame(userId: number, lang = 'ru'): { query: Record<string, string>; form: Record<string, string> } {
    const issued = this.tokens.issue(userId, true);
    return {
      query: { DOMAIN: this.domain, PROTOCOL: '0', LANG: lang, APP_SID: randomHex() },
      form: {
        AUTH_ID: issued.accessToken,
        AUTH_EXPIRES: String(issued.expiresIn),
        REFRESH_ID: issued.refreshToken ?? '',
        member_id: this.memberId,
        status: this.appStatus,
        PLACEMENT: 'DEFAULT',
        PLACEMENT_OPTIONS: '{}',
      },
    };
  }

  /** Issues a token pair for a user, as if that user opened the app (handy for tests). */
  issueTokens(userId = 1): IssuedTokens {
    return this.tokens.issue(userId, true);
  }

  resetRateLimit(): void {
    this.bucket.reset();
  }

  /**
   * The portal's bucket is full when the `nth` next REST request arrives (1: the next one), as when
   * requests the app's own bucket never saw spent it (another copy of the app, a script with the
   * app's token): that request is refused with QUERY_LIMIT_EXCEEDED. Test control.
   */
  exhaustRateLimitAt(nth = 1): void {
    this.exhaustAtRequest = this.stats.restCalls + nth;
  }

  /**
   * A slow portal: the answer to `method` (REST method name, `batch` for a batch) leaves `ms`
   * after the call was carried out — a write is already applied while its caller still waits,
   * as when a real portal is slow or the answer is lost. A `batch` with such a command among its
   * commands is answered as late. `0` turns it off. Test control.
   */
  slowDown(method: string, ms: number): void {
    if (ms > 0) this.slowAnswers.set(method.toLowerCase(), ms);
    else this.slowAnswers.delete(method.toLowerCase());
  }

  /**
   * The next call of `method` fails as a portal in trouble answers (default 503
   * INTERNAL_SERVER_ERROR), before it is carried out; queued failures are used in order. Test control.
   */
  failNext(method: string, failure: { status?: number; error?: string; description?: string } = {}): void {
    const key = method.toLowerCase();
    const queued = this.failures.get(key) ?? [];
    queued.push({ status: failure.status ?? 503, error: failure.error ?? 'INTERNAL_SERVER_ERROR', description: failure.description ?? 'Internal server error' });
    this.failures.set(key, queued);
  }

  // endregion

  // region Setup helpers

  addCategory(name: string): number {
    return this.store.addCategory(name);
  }

  setStages(entityId: 'DEAL_STAGE' | 'STATUS' | `DEAL_STAGE_${number}` | 'CONTACT_TYPE' | 'SOURCE', stages: StageDefinition[]): void {
    this.store.setStages(entityId, stages);
  }

  addUserField(entityTypeId: EntityTypeId, def: UserFieldDefinition): void {
    this.store.addUserField(entityTypeId, def);
  }

  /** Classic CRM with leads (1, default) or simple CRM without leads (2), as crm.settings.mode.get reports. */
  setCrmMode(mode: 1 | 2): void {
    this.store.mode = mode;
  }

  /** The name of a status in a directory (`STATUS` for lead statuses, `DEAL_STAGE`, `CONTACT_TYPE`…). */
  statusName(entityId: string, statusId: string): string | undefined {
    return this.store.stagesOf(entityId).find((s) => s.statusId === statusId)?.name;
  }

  // endregion

  // region "User in the browser" helpers (fire events, not rate limited). `byUserId: null` = automation rule.

  userAddDeal(fields: Partial<DealRecord>, byUserId: Actor = 2): number {
    return this.store.create(2, this.uiChanges(2, fields), byUserId).id;
  }

  /** Returns false when nothing changed (no save, no event). */
  userUpdateDeal(id: number, fields: Partial<DealRecord>, byUserId: Actor = 2): boolean {
    return this.store.update(2, id, this.uiChanges(2, fields), byUserId, true);
  }

  /** Drag&drop on the kanban: changes the stage (records stage history, movedBy/movedTime). */
  userMoveDeal(id: number, stageId: string, byUserId: Actor = 2): boolean {
    return this.userUpdateDeal(id, { stageId }, byUserId);
  }

  userAddLead(fields: LeadInput, byUserId: Actor = 2): number {
    return this.store.create(1, this.uiChanges(1, fields), byUserId).id;
  }

  userUpdateLead(id: number, fields: LeadInput, byUserId: Actor = 2): boolean {
    return this.store.update(1, id, this.uiChanges(1, fields), byUserId, true);
  }

  userAddContact(fields: ContactInput, byUserId: Actor = 2): number {
    return this.store.create(3, this.uiChanges(3, fields), byUserId).id;
  }

  userUpdateContact(id: number, fields: ContactInput, byUserId: Actor = 2): boolean {
    return this.store.update(3, id, this.uiChanges(3, fields), byUserId, true);
  }

  // endregion

  // region Inspection

  getDeal(id: number): DealRecord | undefined {
    const item = this.store.get(2, id);
    return item ? (this.store.itemView(item) as unknown as DealRecord) : undefined;
  }

  getLead(id: number): LeadRecord | undefined {
    const item = this.store.get(1, id);
    return item ? (this.store.itemView(item) as unknown as LeadRecord) : undefined;
  }

  getContact(id: number): ContactRecord | undefined {
    const item = this.store.get(3, id);
    return item ? (this.store.itemView(item) as unknown as ContactRecord) : undefined;
  }

  // region Activities (stage timers): what a manager or the telephony records in the card

  /** A call, e-mail or open-line message recorded on a deal or lead, as the telephony or a manager would. */
  userAddsActivity(entityType: 'deal' | 'lead', id: number, activity: NewActivity): number {
    return addActivity(this.internals(), entityType === 'deal' ? 2 : 1, id, activity);
  }

  // region Catalog changes by an administrator (fire the documented events)

  /**
   * An administrator adds a custom field in the CRM settings: ONCRMDEALUSERFIELDADD /
   * ONCRMLEADUSERFIELDADD with `data[id]`, `data[entityId]` (CRM_DEAL / CRM_LEAD), `data[fieldName]`
   * (restdocs crm/deals/user-defined-fields/events). Setup code that needs no event uses `addUserField`.
   */
  adminAddsUserField(entityTypeId: 1 | 2, def: UserFieldDefinition): void {
    this.store.addUserField(entityTypeId, def);
    this.userFieldEvent(entityTypeId, 'ADD', def.fieldName.toUpperCase());
  }

  /** An administrator renames a custom field (ONCRM…USERFIELDUPDATE). */
  adminRenamesUserField(entityTypeId: 1 | 2, fieldName: string, title: string): void {
    const def = this.store.ufDefs(entityTypeId).get(fieldName.toUpperCase());
    if (!def) throw new Error(`no user field ${fieldName}`);
    def.title = title;
    this.userFieldEvent(entityTypeId, 'UPDATE', def.fieldName);
  }

  /** An administrator deletes a custom field (ONCRM…USERFIELDDELETE). */
  adminDeletesUserField(entityTypeId: 1 | 2, fieldName: string): void {
    const name = fieldName.toUpperCase();
    if (!this.store.ufDefs(entityTypeId).delete(name)) throw new Error(`no user field ${fieldName}`);
    this.userFieldEvent(entityTypeId, 'DELETE', name);
  }

  /**
   * An employee completes registration (ONUSERADD is sent then, not at the invitation), with the
   * documented `data` keys (restdocs common/events/on-user-add.md).
   */
  userJoins(user: PortalUser): void {
    this.users.push({ ...user });
    this.deliver('ONUSERADD', 1, {
      ID: String(user.id),
      ACTIVE: user.active === false ? 'N' : 'Y',
      EMAIL: user.email ?? '',
      NAME: user.name,
      LAST_NAME: user.lastName,
      PERSONAL_GENDER: '',
      PERSONAL_BIRTHDAY: '',
      UF_DEPARTMENT: (user.departments ?? [1]).map(String),
    });
  }

  private userFieldEvent(entityTypeId: 1 | 2, change: 'ADD' | 'UPDATE' | 'DELETE', fieldName: string): void {
    const entity = entityTypeId === 2 ? 'DEAL' : 'LEAD';
    this.deliver(`ONCRM${entity}USERFIELD${change}`, 1, { id: String(this.userFieldIds.get(fieldName) ?? this.nextUserFieldId(fieldName)), entityId: `CRM_${entity}`, fieldName });
  }

  private readonly userFieldIds = new Map<string, number>();
  private nextUserFieldId(fieldName: string): number {
    const id = 400 + this.userFieldIds.size;
    this.userFieldIds.set(fieldName, id);
    return id;
  }

  // endregion

  /** An administrator deactivates an employee who left (user.get with ACTIVE=true no longer lists them). */
  userLeaves(id: number): void {
    const user = this.users.find((u) => u.id === id);
    if (!user) throw new Error(`no user ${id}`);
    user.active = false;
  }

  /** The manager ticks a to-do off. */
  userCompletesTodo(id: number): void {
    const todo = this.records.todos.find((t) => t.id === id);
    if (!todo) throw new Error(`no to-do ${id}`);
    todo.completed = true;
  }

  todosOf(entityType: 'deal' | 'lead', id: number): TodoRecord[] {
    const ownerTypeId = entityType === 'deal' ? 2 : 1;
    return this.records.todos.filter((t) => t.ownerTypeId === ownerTypeId && t.ownerId === id);
  }

  // endregion

  /**
   * A manager's call, e-mail or message on a lead/deal, as telephony, the mail client or an open
   * channel records it (an activity in the timeline). No event is sent: Bitrix24 raises
   * ONCRMACTIVITYADD, which the app does not bind.
   */
  userActivity(entityType: 'deal' | 'lead', id: number, byUserId: number, kind: 'call' | 'email' | 'sms', direction: 'outgoing' | 'incoming' = 'outgoing'): number {
    return addActivity(this.internals(), entityType === 'lead' ? 1 : 2, id, { kind, direction, userId: byUserId });
  }

  /** A manager comments in the card's timeline (as `crm.timeline.comment.add` by that user). */
  userComment(entityType: 'deal' | 'lead', id: number, byUserId: number, text: string): number {
    const commentId = this.seq.comment++;
    this.records.comments.push({ id: commentId, entityType, entityId: id, comment: text, authorId: byUserId, created: formatDateTime(this.now(), this.utcOffset) });
    return commentId;
  }

  /** An entry in a user's calendar, e.g. a vacation marked «absent». */
  addCalendarEntry(userId: number, from: Date, to: Date, accessibility: CalendarEntryRecord['accessibility'] = 'absent', name = 'Отпуск'): void {
    this.records.calendar.push({ id: this.records.calendar.length + 1, userId, name, fromMs: from.getTime(), toMs: to.getTime(), accessibility });
  }

  comments(entityType: 'deal' | 'lead' | 'contact', id: number): CommentRecord[] {
    return this.records.comments.filter((comment) => comment.entityType === entityType && comment.entityId === id);
  }

  stageHistory(entityType: 'deal' | 'lead', id: number): StageHistoryRecord[] {
    const entityTypeId = entityType === 'deal' ? 2 : 1;
    return this.store.history.filter((record) => record.entityTypeId === entityTypeId && record.ownerId === id);
  }

  // endregion

  // region Internals

  private internals(): PortalInternals {
    return {
      store: this.store,
      bus: this.bus,
      users: this.users,
      notifications: this.records.notifications,
      comments: this.records.comments,
      todos: this.records.todos,
      activities: this.records.activities,
      calendar: this.records.calendar,
      scope: this.scope,
      now: () => this.now(),
      stamp: (ms?: number) => formatDateTime(ms ?? this.now(), this.utcOffset),
      nextId: (kind) => this.seq[kind]++,
      appInfo: () => ({
        ID: 5,
        CODE: this.options.clientId,
        VERSION: 1,
        STATUS: this.appStatus,
        INSTALLED: this.isInstalled,
        PAYMENT_EXPIRED: 'N',
        DAYS: null,
        LANGUAGE_ID: 'ru',
        LICENSE: 'ru_pro100',
        LICENSE_TYPE: 'pro100',
        LICENSE_FAMILY: 'pro',
      }),
    };
  }

  /** Helper input → changes; unknown keys throw (catches typos in tests). */
  private uiChanges(entityTypeId: EntityTypeId, input: object): ItemChanges {
    const { phones, emails, statusId, ...rest } = input as Record<string, unknown>;
    if (statusId !== undefined && rest.stageId === undefined) rest.stageId = statusId;
    const ufNames = new Set([...this.store.ufDefs(entityTypeId).keys()].map(ufToCamel));
    const unknown = Object.keys(rest).filter(
      (key) => !(key === 'fm' && entityTypeId !== 2) && !specOf(entityTypeId, key) && !ufNames.has(key),
    );
    if (unknown.length > 0) throw new Error(`Unknown field(s) for entityTypeId ${entityTypeId}: ${unknown.join(', ')}`);
    const changes = this.store.parseItemFields(entityTypeId, rest, 'camel');
    const toFm = (typeId: 'PHONE' | 'EMAIL', values: unknown) =>
      Array.isArray(values)
        ? parseLegacyFm(typeId, values.map((value) => ({ VALUE: String(value), VALUE_TYPE: typeId === 'PHONE' ? 'MOBILE' : 'WORK' })))
        : [];
    changes.fm.push(...toFm('PHONE', phones), ...toFm('EMAIL', emails));
    return changes;
  }

  private onCrmEvent(event: CrmEvent): void {
    this.deliver(event.event, event.actor, { FIELDS: event.fields });
  }

  /** Queues `event` to every handler bound to it, with `data` as the event's `data` block. */
  private deliver(eventName: string, actor: Actor, data: Record<string, unknown>): void {
    if (!this.isInstalled) return; // "events are not sent to the handler" until installFinish
    const event = { event: eventName, actor };
    for (const binding of this.bus.bound(event.event)) {
      const userId = binding.authType > 0 ? binding.authType : event.actor;
      // Tokens belong to the acting user (or auth_type); none when an automation rule/workflow/agent acted.
      const issued = userId === null ? null : this.tokens.issue(userId, false);
      const tokenAuth = issued ? { access_token: issued.accessToken, expires_in: String(issued.expiresIn) } : {};
      this.bus.enqueue(event.event, binding.handler, {
        event: event.event,
        event_handler_id: String(binding.id),
        data,
        ts: String(Math.floor(this.now() / 1000)),
        auth: {
          ...tokenAuth,
          scope: this.scope,
          domain: this.domain,
          server_endpoint: this.serverEndpoint,
          status: this.appStatus,
          client_endpoint: this.clientEndpoint,
          member_id: this.memberId,
          application_token: this.appToken,
        },
      });
    }
  }

  private installAuth(issued: IssuedTokens): Record<string, unknown> {
    return {
      access_token: issued.accessToken,
      expires: String(issued.expires),
      expires_in: String(issued.expiresIn),
      scope: this.scope,
      domain: this.domain,
      server_endpoint: this.serverEndpoint,
      status: this.appStatus,
      client_endpoint: this.clientEndpoint,
      member_id: this.memberId,
      user_id: String(issued.userId),
      refresh_token: issued.refreshToken,
      application_token: this.appToken,
    };
  }

  private timeBlock(startMs: number, finishMs: number, withOperating: boolean): Record<string, unknown> {
    const duration = Math.max(0, finishMs - startMs) / 1000;
    return {
      start: startMs / 1000,
      finish: finishMs / 1000,
      duration,
      processing: duration,
      date_start: formatDateTime(startMs, this.utcOffset),
      date_finish: formatDateTime(finishMs, this.utcOffset),
      ...(withOperating ? { operating_reset_at: Math.floor(finishMs / 1000) + 600, operating: 0 } : {}),
    };
  }

  /** Runs one REST method (REST call or batch sub-command) and logs it in `calls`. */
  private dispatch(method: string, params: Params, ctx: CallContext): MethodOutput {
    const logged: Params = {};
    for (const [key, value] of Object.entries(params)) if (key !== 'auth' && !key.startsWith('bx24_')) logged[key] = value;
    const entry: CallLogEntry = { method, params: logged, at: this.now(), userId: ctx.userId, ...(ctx.viaBatch ? { viaBatch: true } : {}) };
    this.calls.push(entry);
    try {
      if (method === 'batch') {
        return runBatch(params, ctx, {
          dispatch: (sub, subParams, subCtx) => this.dispatch(sub, subParams, subCtx),
          subTime: (start, finish) => this.timeBlock(start, finish, false),
          now: () => this.now(),
        });
      }
      const failure = this.failures.get(method)?.shift();
      if (failure) throw new RestError(failure.status, failure.error, failure.description);
      const handler = this.methods[method];
      if (!handler) throw new RestError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
      return handler(params, ctx);
    } catch (error) {
      entry.error = error instanceof RestError ? error.code : 'INTERNAL_SERVER_ERROR';
      throw error;
    }
  }

  // endregion

  // region HTTP

  private async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, 500, { error: 'INTERNAL_SERVER_ERROR', error_description: String(error) });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/{2,}/g, '/');
    const params: Params = {
      ...(qs.parse(url.search.replace(/^\?/, ''), QS_OPTIONS) as Params),
      ...parseBody(String(req.headers['content-type'] ?? ''), await readBody(req)),
    };
    if (/^\/oauth(\/oauth)?\/token\/?$/.test(path)) {
      this.stats.refreshCalls++;
      const { status, body } = handleTokenRequest(params, {
        clientId: this.options.clientId,
        clientSecret: this.options.clientSecret,
        tokens: this.tokens,
        describe: (issued) => this.tokenResponse(issued),
      });
      if (status !== 200) this.stats.refreshFailures++;
      send(res, status, body);
      return;
    }
    if (path.startsWith('/oauth/rest/')) {
      // The OAuth server answers `app.info` with the trusted app status (restdocs settings/oauth/simple-way.md).
      this.serveRest(path.slice('/oauth/rest/'.length), params, res, false);
      return;
    }
    if (path.startsWith('/rest/')) {
      this.serveRest(path.slice('/rest/'.length), params, res, true);
      return;
    }
    send(res, 404, { error: 'NOT_FOUND', error_description: 'Unknown path' });
  }

  private serveRest(rawMethod: string, params: Params, res: ServerResponse, isPortal: boolean): void {
    const started = this.now();
    if (isPortal) {
      this.stats.restCalls++;
      if (this.stats.restCalls === this.exhaustAtRequest) this.bucket.fill();
      if (!this.bucket.take()) {
        this.stats.rateLimited++;
        send(res, 503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
        return;
      }
    }
    const method = rawMethod.replace(/\.(json|xml)$/i, '').replace(/\/+$/, '').toLowerCase();
    const { auth, ...methodParams } = params;
    const check = this.tokens.check(auth);
    if (!check.ok) {
      send(res, check.status, { error: check.error, error_description: check.description });
      return;
    }
    try {
      if (!isPortal && method !== 'app.info') throw new RestError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!');
      const from = this.calls.length;
      const output = this.dispatch(method, methodParams, { userId: check.userId, viaBatch: false });
      // A batch carrying a slowed method is slow too (its answer carries that method's answer).
      const slow = Math.max(0, ...this.calls.slice(from).map((c) => this.slowAnswers.get(c.method.toLowerCase()) ?? 0));
      const answer = (status: number, body: unknown) => (slow ? setTimeout(() => res.destroyed || send(res, status, body), slow).unref() : send(res, status, body));
      answer(200, {
        result: output.result,
        ...(output.next !== undefined ? { next: output.next } : {}),
        ...(output.total !== undefined ? { total: output.total } : {}),
        time: this.timeBlock(started, this.now(), true),
      });
    } catch (error) {
      const restError = error instanceof RestError ? error : new RestError(500, 'INTERNAL_SERVER_ERROR', String(error));
      send(res, restError.status, { error: restError.code, error_description: restError.description });
    }
  }

  private tokenResponse(issued: IssuedTokens): Record<string, unknown> {
    return {
      access_token: issued.accessToken,
      client_endpoint: this.clientEndpoint,
      domain: this.domain,
      expires: issued.expires,
      expires_in: issued.expiresIn,
      member_id: this.memberId,
      refresh_token: issued.refreshToken,
      scope: this.scope,
      server_endpoint: this.serverEndpoint,
      status: this.appStatus,
      user_id: issued.userId,
    };
  }

  // endregion
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON bodies (what the jssdk sends) and PHP-style form bodies (`filter[ID]=1`). */
function parseBody(contentType: string, raw: string): Params {
  if (raw.trim() === '') return {};
  if (contentType.includes('json') || /^\s*\{/.test(raw)) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return isPlainObject(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
  return qs.parse(raw, QS_OPTIONS) as Params;
}
