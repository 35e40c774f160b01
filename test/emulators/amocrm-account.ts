/**
 * Faithful emulator of ONE amoCRM account as seen by a public (marketplace) integration:
 * a real HTTP server on 127.0.0.1 serving OAuth (`/oauth2/access_token`) and API v4, and a
 * webhook sender that POSTs form-encoded API-v2-layout bodies to subscribed destinations.
 *
 * Formats follow /work/shared/research/amocrm.md (§1 OAuth, §2 webhooks, §3 API v4, §4 limits).
 * See the bottom of this comment for what is simplified.
 *
 * ```ts
 * const amo = await AmoCrmAccountEmulator.start({ clientId, clientSecret, redirectUri });
 * await amo.install('http://127.0.0.1:3000/amocrm/oauth/callback'); // marketplace install
 * const leadId = amo.userAddLead({ name: 'Иванов' });               // fires add_lead
 * amo.userMoveLead(leadId, amo.statusId('Переговоры'));             // fires update_lead + status_lead
 * await amo.settle();                                               // all webhooks answered
 * await amo.stop();
 * ```
 *
 * Faithful: OAuth grants and errors (single-use codes and refresh tokens, 401 "Token has been
 * revoked"), hal+json / problem+json, 204 on empty lists (and on GET of a missing single entity),
 * validation-errors shape, 7 rps per integration → 429 with a non-JSON body → 403 nginx HTML block,
 * webhook v2 layout (all strings, `old_status_id`, `modified_user_id`, date fields as scalar
 * `values[0]`), several events per POST, 2 s timeout, 100–299 success, retry schedule rules,
 * auto-disable after >100 invalid answers in 2 h, echo of the integration's own API writes with
 * `modified_user_id` = token user (or 0 with `updated_by: 0`), disconnect hook signature.
 *
 * Simplified: one integration per account (the rate limit and the block are per emulator);
 * no companies, catalogs, unsorted API, chats, `note_*`/task webhooks; of the Digital Pipeline only
 * a widget's action on a stage (./amocrm/digital-pipeline.ts);
 * linking/unlinking entities records events but fires no webhooks; a PATCH that changes
 * nothing fires nothing; `query` is a substring search (digits-only queries also match
 * formatted phones); the 50 rps per-account limit is not modelled.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAmoApp, RateLimiter, type ApiStats, type RecordedCall } from './amocrm/api';
import { OAuthServer } from './amocrm/oauth';
import {
  AmoStore,
  AmoValidationFailure,
  DEFAULT_USERS,
  type ContactChange,
  type LeadChange,
} from './amocrm/store';
import type {
  AmoContact,
  AmoCustomField,
  AmoEvent,
  AmoLead,
  AmoNote,
  AmoPipeline,
  AmoTask,
  AmoUser,
  AmoUserSeed,
  AmoWebhook,
  CfEntry,
  ValidationError,
} from './amocrm/types';
import { DigitalPipeline, type DpDelivery, type DpWidgetAction } from './amocrm/digital-pipeline';
import { WebhookDispatcher, type DeliveryRecord } from './amocrm/webhooks';

export type { AmoUserSeed, DeliveryRecord, DpDelivery, DpWidgetAction, RecordedCall };
export { AmoValidationFailure };

export interface AmoCrmAccountOptions {
  clientId: string;
  clientSecret: string;
  /** Redirect URI registered for the integration; token requests must repeat it exactly. */
  redirectUri: string;
  accountId?: number;
  subdomain?: string;
  /** Per-integration API limit (real: 7 rps), sliding 1 s window. */
  rateLimitPerSecond?: number;
  /** After this many 429s within a minute every call gets 403 nginx HTML until `unblock()`. */
  blockAfter429s?: number;
  accessTokenTtlSec?: number;
  refreshTokenTtlSec?: number;
  authCodeTtlSec?: number;
  /** Default: 1 admin, 2 & 3 managers, 4 head of sales (РОП). */
  users?: AmoUserSeed[];
  /** Delays between webhook attempts (real: 5 min, 15 min, 15 min, 1 h). */
  retryDelaysMs?: number[];
  /** How long a webhook POST may take before it counts as failed (real: 2 s). */
  webhookTimeoutMs?: number;
  /** Changes within this window go to a destination in one POST. */
  webhookBatchMs?: number;
  /** Webhook is disabled after MORE than this many invalid answers in `disableWindowMs` (real: 100 in 2 h). */
  disableAfterInvalid?: number;
  disableWindowMs?: number;
  /** Answer for GET of a single missing lead/contact/task. amoCRM answers 204 (default). */
  missingEntityStatus?: 204 | 404;
  port?: number;
}

/** Lead as stored, plus its contact links (for assertions). */
export interface AmoLeadSnapshot extends AmoLead {
  contacts: Array<{ id: number; is_main: boolean }>;
}

export interface HttpAnswer {
  status: number;
  body: string;
  /** `Location` header, when the callback redirected. */
  location?: string;
  error?: string;
}

type CfInputItem = { field_id?: number; field_code?: string; values: Array<{ value?: unknown; enum_id?: number; enum_code?: string }> | null };

export interface UserLeadInput {
  name?: string;
  price?: number;
  pipeline_id?: number;
  status_id?: number;
  responsible_user_id?: number;
  custom_fields_values?: CfInputItem[];
  tags?: string[];
  contactId?: number;
}

export interface UserLeadPatch {
  name?: string;
  price?: number;
  pipeline_id?: number;
  status_id?: number;
  responsible_user_id?: number;
  loss_reason_id?: number | null;
  custom_fields_values?: CfInputItem[];
}

type PhoneOrEmail = string | { value: string; enum_code?: string };

export interface UserContactInput {
  name?: string;
  first_name?: string;
  last_name?: string;
  phones?: PhoneOrEmail[];
  emails?: PhoneOrEmail[];
  responsible_user_id?: number;
  custom_fields_values?: CfInputItem[];
  /** Tag names (a contact marked «Агент», for instance). */
  tags?: string[];
}

function multitext(code: 'PHONE' | 'EMAIL', list: PhoneOrEmail[] | undefined): CfInputItem[] {
  if (!list || list.length === 0) return [];
  return [
    {
      field_code: code,
      values: list.map((v) => (typeof v === 'string' ? { value: v, enum_code: 'WORK' } : { value: v.value, enum_code: v.enum_code ?? 'WORK' })),
    },
  ];
}

export class AmoCrmAccountEmulator {
  readonly url: string;
  /** `127.0.0.1:PORT` — what amoCRM passes as `referer` (the account host). */
  readonly host: string;
  readonly accountId: number;
  readonly subdomain: string;
  readonly clientId: string;
  /** Every HTTP request received (OAuth and API v4), in order. */
  readonly calls: RecordedCall[];

  private constructor(
    private readonly clock: { offset: number },
    private readonly opts: AmoCrmAccountOptions,
    private readonly server: http.Server,
    private readonly store: AmoStore,
    private readonly oauth: OAuthServer,
    private readonly limiter: RateLimiter,
    private readonly dispatcher: WebhookDispatcher,
    private readonly apiStats: ApiStats,
    private readonly dp: DigitalPipeline,
    calls: RecordedCall[],
    port: number,
  ) {
    this.host = `127.0.0.1:${port}`;
    this.url = `http://${this.host}`;
    this.accountId = store.accountId;
    this.subdomain = store.subdomain;
    this.clientId = opts.clientId;
    this.calls = calls;
  }

  static async start(opts: AmoCrmAccountOptions): Promise<AmoCrmAccountEmulator> {
    // The clock is shared by the store, OAuth and the dispatcher; `advanceClock` shifts it.
    const clock = { offset: 0 };
    const now = () => Date.now() + clock.offset;
    const store = new AmoStore({
      accountId: opts.accountId ?? 31_000_001,
      subdomain: opts.subdomain ?? 'reglament-demo',
      users: opts.users ?? DEFAULT_USERS,
      now,
    });
    const oauth = new OAuthServer({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      redirectUri: opts.redirectUri,
      accountId: store.accountId,
      accessTokenTtlSec: opts.accessTokenTtlSec ?? 86_400,
      refreshTokenTtlSec: opts.refreshTokenTtlSec ?? 90 * 86_400,
      authCodeTtlSec: opts.authCodeTtlSec ?? 20 * 60,
      now,
    });
    const limiter = new RateLimiter(opts.rateLimitPerSecond ?? 7, opts.blockAfter429s ?? 20);
    const dispatcher = new WebhookDispatcher(store, {
      batchMs: opts.webhookBatchMs ?? 50,
      timeoutMs: opts.webhookTimeoutMs ?? 2000,
      retryDelaysMs: opts.retryDelaysMs ?? [300_000, 900_000, 900_000, 3_600_000],
      disableAfterInvalid: opts.disableAfterInvalid ?? 100,
      disableWindowMs: opts.disableWindowMs ?? 2 * 3600 * 1000,
      userAgent: 'amoCRM-Webhooks/3.0',
    });
    store.onHook = (item) => dispatcher.enqueue(item);
    const dp = new DigitalPipeline({ accountId: store.accountId, subdomain: store.subdomain, nowSec: () => store.nowSec(), timeoutMs: opts.webhookTimeoutMs ?? 2000 });
    store.onLeadEnteredStatus = (lead) => dp.leadEntered({ id: lead.id, pipelineId: lead.pipeline_id, statusId: lead.status_id });
    const calls: RecordedCall[] = [];
    const apiStats: ApiStats = { apiCalls: 0, rateLimited: 0, blocked: 0 };
    const app = createAmoApp({ store, oauth, limiter, calls, stats: apiStats, missingEntityStatus: opts.missingEntityStatus ?? 204 });
    const server = http.createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    store.baseUrl = `http://127.0.0.1:${port}`;
    return new AmoCrmAccountEmulator(clock, opts, server, store, oauth, limiter, dispatcher, apiStats, dp, calls, port);
  }

  async stop(): Promise<void> {
    this.dispatcher.stop();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ------------------------------------------------------------------ clock

  /** Emulator time in ms (real time shifted by `advanceClock`). Tokens, codes and entity timestamps use it. */
  now(): number {
    return Date.now() + this.clock.offset;
  }

  advanceClock(ms: number): void {
    this.clock.offset += ms;
  }

  // ------------------------------------------------------------------ stats & inspection

  get stats(): {
    apiCalls: number;
    rateLimited: number;
    blocked: number;
    refreshCalls: number;
    refreshFailures: number;
    tokenExchanges: number;
    webhookPosts: number;
    webhookFailures: number;
  } {
    const d = this.dispatcher.deliveries;
    return {
      ...this.apiStats,
      refreshCalls: this.oauth.stats.refreshCalls,
      refreshFailures: this.oauth.stats.refreshFailures,
      tokenExchanges: this.oauth.stats.tokenExchanges,
      webhookPosts: d.length,
      webhookFailures: d.filter((x) => !x.ok).length,
    };
  }

  /** Every webhook POST attempt, in order. */
  get deliveries(): DeliveryRecord[] {
    return this.dispatcher.deliveries;
  }

  get users(): AmoUser[] {
    return this.store.users;
  }

  get pipelines(): AmoPipeline[] {
    return this.store.pipelines;
  }

  get tasks(): AmoTask[] {
    return this.store.tasks;
  }

  get events(): AmoEvent[] {
    return this.store.events;
  }

  get customFields(): AmoCustomField[] {
    return this.store.fields;
  }

  mainPipeline(): AmoPipeline {
    return this.store.mainPipeline();
  }

  /** Status id by name (in the main pipeline unless `pipelineId` is given). */
  statusId(name: string, pipelineId?: number): number {
    const p = pipelineId ? this.store.pipeline(pipelineId) : this.store.mainPipeline();
    const s = p?.statuses.find((x) => x.name === name);
    if (!s) throw new Error(`amoCRM emulator: no status "${name}" in pipeline ${p?.id ?? pipelineId}`);
    return s.id;
  }

  /** Lead custom field id by name or code. */
  leadFieldId(nameOrCode: string): number {
    const f = this.store.fields.find((x) => x.entity_type === 'leads' && (x.name === nameOrCode || x.code === nameOrCode));
    if (!f) throw new Error(`amoCRM emulator: no lead field "${nameOrCode}"`);
    return f.id;
  }

  getLead(id: number): AmoLeadSnapshot | undefined {
    const lead = this.store.leads.get(id);
    if (!lead) return undefined;
    const copy = JSON.parse(JSON.stringify(lead)) as AmoLead;
    return { ...copy, contacts: this.store.contactsOfLead(id).map((l) => ({ id: l.contact_id, is_main: l.main })) };
  }

  /** First value of a lead custom field (by field id or name), as stored. */
  leadFieldValue(leadId: number, field: number | string): string | number | boolean | undefined {
    const fid = typeof field === 'number' ? field : this.leadFieldId(field);
    const entry: CfEntry | undefined = this.store.leads.get(leadId)?.custom_fields.find((e) => e.field_id === fid);
    return entry?.values[0]?.value;
  }

  getContact(id: number): (AmoContact & { leads: number[] }) | undefined {
    const c = this.store.contacts.get(id);
    if (!c) return undefined;
    return { ...JSON.parse(JSON.stringify(c)), leads: this.store.leadsOfContact(id).map((l) => l.lead_id) };
  }

  notes(leadId: number): AmoNote[] {
    return this.store.notes.filter((n) => n.entity_type === 'leads' && n.entity_id === leadId);
  }

  webhooks(): AmoWebhook[] {
    return this.store.webhooks;
  }

  // ------------------------------------------------------------------ OAuth

  /** Issues a single-use authorization code (20 min) for `userId` (default: the first admin). */
  authorize(opts: { userId?: number } = {}): { code: string } {
    const userId = opts.userId ?? this.store.users.find((u) => u.rights.is_admin)?.id ?? this.store.users[0]?.id ?? 0;
    return { code: this.oauth.issueCode(userId) };
  }

  /**
   * What amoMarket does on install: issues a code and GETs
   * `${callbackUrl}?code=…&referer=<host>&from_widget=1` (or `state=…` for button installs).
   * amoCRM does not look at the answer and never retries (research §1.1); we return it for tests.
   */
  async install(
    callbackUrl: string,
    opts: { state?: string; fromWidget?: boolean; userId?: number; timeoutMs?: number } = {},
  ): Promise<HttpAnswer & { code: string }> {
    const { code } = this.authorize({ userId: opts.userId });
    const u = new URL(callbackUrl);
    u.searchParams.set('code', code);
    u.searchParams.set('referer', this.host);
    if (opts.state !== undefined) u.searchParams.set('state', opts.state);
    if (opts.fromWidget ?? opts.state === undefined) u.searchParams.set('from_widget', '1');
    return { ...(await this.httpGet(u.toString(), opts.timeoutMs ?? 3000)), code };
  }

  /** All existing access tokens expire now (refresh tokens stay valid). */
  expireAccessTokens(): void {
    this.oauth.expireAccessTokens();
  }

  expireRefreshTokens(): void {
    this.oauth.expireRefreshTokens();
  }

  /** Revokes every code, access and refresh token. */
  revokeAll(): void {
    this.oauth.revokeAll();
  }

  /** HMAC-SHA256(client_secret, "{client_uuid}|{account_id}") in hex, as in the disconnect hook. */
  disconnectSignature(): string {
    return createHmac('sha256', this.opts.clientSecret).update(`${this.clientId}|${this.accountId}`).digest('hex');
  }

  /**
   * The integration is switched off in the account: tokens are revoked and the
   * "access revoked" hook is called with GET `?account_id=&client_uuid=&signature=`.
   */
  async disconnect(hookUrl: string): Promise<HttpAnswer> {
    this.oauth.revokeAll();
    const u = new URL(hookUrl);
    u.searchParams.set('account_id', String(this.accountId));
    u.searchParams.set('client_uuid', this.clientId);
    u.searchParams.set('signature', this.disconnectSignature());
    return this.httpGet(u.toString(), 3000);
  }

  private async httpGet(url: string, timeoutMs: number): Promise<HttpAnswer> {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      const body = await res.text();
      const location = res.headers.get('location');
      return { status: res.status, body, ...(location ? { location } : {}) };
    } catch (err) {
      return { status: 0, body: '', error: (err as Error).message };
    }
  }

  // ------------------------------------------------------------------ limits

  /** Lifts the 403 block (in reality: a support ticket). */
  unblock(): void {
    this.limiter.unblock();
  }

  get isBlocked(): boolean {
    return this.limiter.blocked;
  }

  setRateLimit(perSecond: number, blockAfter429s?: number): void {
    this.limiter.limitPerSecond = perSecond;
    if (blockAfter429s !== undefined) this.limiter.blockAfter429s = blockAfter429s;
  }

  // ------------------------------------------------------------------ webhooks

  /** Resolves when no webhook batch, POST or (unless `includeRetries: false`) retry is pending. */
  async settle(opts: { includeRetries?: boolean; timeoutMs?: number } = {}): Promise<void> {
    await this.dispatcher.settle(opts.includeRetries ?? true, opts.timeoutMs ?? 15_000);
    await this.dp.settle();
  }

  /** Fires every scheduled webhook retry now (useful with the real, long retry schedule). */
  runWebhookRetriesNow(): void {
    this.dispatcher.runRetriesNow();
  }

  /** Subscribes a destination directly (as an admin in the UI would); same rules as `POST /api/v4/webhooks`. */
  addWebhook(destination: string, settings: string[], sort = 1): AmoWebhook {
    return this.store.upsertWebhook(destination, settings, sort, this.store.users[0]?.id ?? 0);
  }

  // ------------------------------------------------------------------ Digital Pipeline

  /**
   * An administrator places the widget's Digital Pipeline action on a stage and saves its settings
   * (the manifest's dp.settings fields); `webhookUrl` is the manifest's `dp.webhook_url`.
   */
  adminPlacesWidgetDpAction(statusId: number, settings: Record<string, string>, webhookUrl: string, pipelineId?: number): void {
    const pipeline = pipelineId ?? this.store.pipelines.find((p) => p.statuses.some((s) => s.id === statusId))?.id;
    if (pipeline === undefined) throw new Error(`amoCRM emulator: no status ${statusId}`);
    this.dp.place({ pipelineId: pipeline, statusId, settings, webhookUrl });
  }

  /** Every Digital Pipeline webhook POST, in order (each event is sent once). */
  get dpDeliveries(): DpDelivery[] {
    return this.dp.deliveries;
  }

  // ------------------------------------------------------------------ setup

  /** Adds a pipeline with "Неразобранное" (type 1), the given stages, 142 and 143. */
  addPipeline(name: string, statuses: Array<{ name: string; sort: number; color?: string }>): { id: number; statuses: Array<{ id: number; name: string; sort: number; type: number }> } {
    const p = this.store.addPipeline(name, statuses);
    return { id: p.id, statuses: p.statuses.map((s) => ({ id: s.id, name: s.name, sort: s.sort, type: s.type })) };
  }

  addLeadCustomField(spec: { name: string; type: string; code?: string; enums?: string[] }): AmoCustomField {
    return this.store.addCustomField('leads', spec);
  }

  addContactCustomField(spec: { name: string; type: string; code?: string; enums?: string[] }): AmoCustomField {
    return this.store.addCustomField('contacts', spec);
  }

  /** An administrator deletes a stage of a pipeline in the account settings (no webhook is sent for it). */
  adminDeletesStatus(statusId: number): void {
    const pipeline = this.store.pipelines.find((p) => p.statuses.some((s) => s.id === statusId));
    if (!pipeline) throw new Error(`amoCRM emulator: no status ${statusId}`);
    pipeline.statuses = pipeline.statuses.filter((s) => s.id !== statusId);
  }

  addLossReason(name: string): { id: number; name: string } {
    const r = this.store.addLossReason(name);
    return { id: r.id, name: r.name };
  }

  // ------------------------------------------------------------------ "user in the browser" (fires webhooks, not rate-limited)

  private validated<T>(fn: (errors: ValidationError[]) => T): T {
    const errors: ValidationError[] = [];
    const out = fn(errors);
    if (errors.length) throw new AmoValidationFailure(errors);
    return out;
  }

  private leadBody(input: UserLeadInput | UserLeadPatch): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const key of ['name', 'price', 'pipeline_id', 'status_id', 'responsible_user_id', 'loss_reason_id', 'custom_fields_values'] as const) {
      const v = (input as Record<string, unknown>)[key];
      if (v !== undefined) raw[key] = v;
    }
    const tags = (input as UserLeadInput).tags;
    if (tags) raw._embedded = { tags: tags.map((name) => ({ name })) };
    return raw;
  }

  /**
   * A user creates a lead in the UI (`add_lead`). Unlike the API, users may create leads
   * directly in "Неразобранное" (pass its status id).
   */
  userAddLead(input: UserLeadInput, byUserId = 2): number {
    const change: LeadChange = this.validated((errors) => {
      const raw = this.leadBody(input);
      const statusId = raw.status_id;
      // the UI may put a lead into the incoming stage; validate it separately
      let incoming: { pipeline_id: number; status_id: number } | undefined;
      if (typeof statusId === 'number') {
        const p = this.store.pipelines.find((x) => x.statuses.some((s) => s.id === statusId && s.type === 1));
        if (p) {
          incoming = { pipeline_id: p.id, status_id: statusId };
          delete raw.status_id;
          raw.pipeline_id = p.id;
        }
      }
      const { change: c } = this.store.validateLeadBody(raw, undefined, errors);
      if (incoming) Object.assign(c, incoming);
      return c;
    });
    if (input.contactId !== undefined) this.store.contactOrThrow(input.contactId);
    const lead = this.store.createLead(change, byUserId, input.contactId !== undefined ? [input.contactId] : []);
    return lead.id;
  }

  /** A user edits a lead (fires `update_lead`, plus `status_lead` / `responsible_lead` when those changed). */
  userUpdateLead(id: number, patch: UserLeadPatch, byUserId = 2): void {
    const lead = this.store.leadOrThrow(id);
    const change = this.validated((errors) => this.store.validateLeadBody(this.leadBody(patch), lead, errors).change);
    this.store.updateLead(lead, change, byUserId);
  }

  /** A user drags a lead to another stage (optionally of another pipeline). */
  userMoveLead(id: number, statusId: number, byUserId = 2, pipelineId?: number): void {
    this.userUpdateLead(id, pipelineId !== undefined ? { status_id: statusId, pipeline_id: pipelineId } : { status_id: statusId }, byUserId);
  }

  /** A user deletes a lead (`delete_lead`: `leads[delete][i][id]`). */
  userDeleteLead(id: number, byUserId = 1): void {
    this.store.deleteLead(this.store.leadOrThrow(id), byUserId);
  }

  /** A user creates a contact with phones/emails (`add_contact`). */
  userAddContact(input: UserContactInput, byUserId = 2): number {
    const change: ContactChange = this.validated((errors) => {
      const raw: Record<string, unknown> = {};
      for (const key of ['name', 'first_name', 'last_name', 'responsible_user_id'] as const) {
        if (input[key] !== undefined) raw[key] = input[key];
      }
      const cf = [...multitext('PHONE', input.phones), ...multitext('EMAIL', input.emails), ...(input.custom_fields_values ?? [])];
      if (cf.length) raw.custom_fields_values = cf;
      if (input.tags) raw._embedded = { tags: input.tags.map((name) => ({ name })) };
      return this.store.validateContactBody(raw, undefined, errors).change;
    });
    return this.store.createContact(change, byUserId).id;
  }

  /** A user edits a contact (`update_contact`). Phones/emails given replace the field's values, as in amoCRM. */
  userUpdateContact(id: number, patch: UserContactInput, byUserId = 2): void {
    const contact = this.store.contactOrThrow(id);
    const change: ContactChange = this.validated((errors) => {
      const raw: Record<string, unknown> = {};
      for (const key of ['name', 'first_name', 'last_name', 'responsible_user_id'] as const) {
        if (patch[key] !== undefined) raw[key] = patch[key];
      }
      const cf = [...multitext('PHONE', patch.phones), ...multitext('EMAIL', patch.emails), ...(patch.custom_fields_values ?? [])];
      if (cf.length) raw.custom_fields_values = cf;
      return this.store.validateContactBody(raw, contact, errors).change;
    });
    this.store.updateContact(contact, change, byUserId);
  }

  /** A user links a contact to a lead (no webhook, like API links in this emulator). */
  userLinkContact(leadId: number, contactId: number, isMain?: boolean, byUserId = 2): void {
    this.store.leadOrThrow(leadId);
    this.store.contactOrThrow(contactId);
    this.store.link(leadId, contactId, isMain, byUserId);
  }

  /** A user completes a task (e.g. the manager "took the lead into work"). */
  userCompleteTask(taskId: number, resultText = '', byUserId = 2): void {
    const t = this.store.tasks.find((x) => x.id === taskId);
    if (!t) throw new Error(`amoCRM emulator: task ${taskId} not found`);
    t.is_completed = true;
    t.result = { text: resultText };
    t.updated_at = this.store.nowSec();
    t.updated_by = byUserId;
  }

  /** A user adds a task in the UI. */
  userAddTask(input: { text: string; complete_till: number; entity_id?: number; entity_type?: 'leads' | 'contacts'; responsible_user_id?: number; task_type_id?: number }, byUserId = 2): number {
    return this.store.addTask({
      created_by: byUserId,
      responsible_user_id: input.responsible_user_id ?? byUserId,
      entity_id: input.entity_id ?? null,
      entity_type: input.entity_type ?? (input.entity_id !== undefined ? 'leads' : null),
      duration: 0,
      task_type_id: input.task_type_id ?? 1,
      text: input.text,
      complete_till: input.complete_till,
    }).id;
  }

  // ------------------------------------------------------------------ calls and chats (stage timers)

  /**
   * The telephony records a call as a note (`call_in` / `call_out`; Kommo call_status 4 =
   * conversation, 6 = not reached), on the lead or, as most integrations do, on its contact.
   */
  userRecordsCall(entity: 'leads' | 'contacts', id: number, call: { direction: 'incoming' | 'outgoing'; status: number; duration?: number; phone?: string }, byUserId = 2): number {
    const params = { uniq: `call-${this.store.nowSec()}-${id}`, duration: call.duration ?? 0, source: 'emulated-telephony', phone: call.phone ?? '+79990000000', call_status: call.status, link: '' };
    return this.store.addNote(entity, id, call.direction === 'incoming' ? 'call_in' : 'call_out', params, byUserId).id;
  }

  /** A chat message on the lead, recorded as an event the way amoCRM's chats do. */
  chatMessage(leadId: number, direction: 'incoming' | 'outgoing', byUserId = 0): void {
    this.store.recordEvent({ type: direction === 'incoming' ? 'incoming_chat_message' : 'outgoing_chat_message', entity_id: leadId, entity_type: 'lead', created_by: byUserId, value_after: [{ message: { id: `msg-${this.store.nowSec()}`, origin: 'whatsapp' } }], value_before: [] });
  }

  /**
   * A user's note on a lead in the UI: `common` (a note), `call_out` (telephony logs an outgoing
   * call), `sms_out`. Each shows in `/api/v4/events` (`common_note_added`, `outgoing_call`, `outgoing_sms`).
   * No webhook: the app does not subscribe to `note_lead`.
   */
  userAddNote(leadId: number, noteType: 'common' | 'call_out' | 'call_in' | 'sms_out', text: string, byUserId = 2): number {
    this.store.leadOrThrow(leadId);
    const params = noteType.startsWith('call') ? { uniq: `call-${Date.now()}`, duration: 60, source: 'telephony', phone: '+79990000000', link: '' } : { text };
    return this.store.addNote('leads', leadId, noteType, params, byUserId).id;
  }

  /** A user answers in a chat linked to the lead (`outgoing_chat_message` in the lead's events). */
  userSendsChatMessage(leadId: number, byUserId = 2): void {
    this.store.leadOrThrow(leadId);
    this.store.recordEvent({ type: 'outgoing_chat_message', entity_id: leadId, entity_type: 'lead', created_by: byUserId, value_after: [{ message: { talk_id: 1 } }], value_before: [] });
  }
}
