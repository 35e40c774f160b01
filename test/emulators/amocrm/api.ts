/**
 * Express app of the emulated amoCRM account: `/oauth2/access_token` and API v4.
 *
 * Pipeline for every request: record the call → 403 nginx HTML if the account is blocked →
 * (API v4 only) Bearer token check (401 problem json) → per-integration rate limit (429 with a
 * non-JSON body; too many 429s in a minute block the account) → handler.
 * Success bodies are `application/hal+json`, errors `application/problem+json`, empty lists 204.
 */
import express, { type Request, type Response } from 'express';
import qs from 'qs';
import type { OAuthServer } from './oauth';
import { NOTE_TYPES, WEBHOOK_SETTINGS, type AmoStore, type ContactChange, type LeadChange } from './store';
import type { AmoContact, AmoEntityType, AmoLead, AmoTask, ValidationError } from './types';
import {
  contactJson,
  customFieldJson,
  eventJson,
  leadJson,
  lossReasonJson,
  noteJson,
  pipelineJson,
  statusJson,
  taskJson,
  userJson,
  webhookJson,
} from './v4-json';

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  at: number;
  /** HTTP status answered (0 until the response is finished). */
  status: number;
}

export interface ApiStats {
  apiCalls: number;
  rateLimited: number;
  blocked: number;
}

/** Sliding one-second window per integration + escalation to a block after repeated 429s. */
export class RateLimiter {
  private accepted: number[] = [];
  private rejected: number[] = [];
  blocked = false;

  constructor(
    public limitPerSecond: number,
    public blockAfter429s: number,
  ) {}

  /** 'ok' (counted), 'limited' (answer 429) — the 429 that reaches the threshold blocks later calls. */
  hit(now = Date.now()): 'ok' | 'limited' {
    this.accepted = this.accepted.filter((t) => t > now - 1000);
    if (this.accepted.length >= this.limitPerSecond) {
      this.rejected = this.rejected.filter((t) => t > now - 60_000);
      this.rejected.push(now);
      if (this.rejected.length >= this.blockAfter429s) this.blocked = true;
      return 'limited';
    }
    this.accepted.push(now);
    return 'ok';
  }

  unblock(): void {
    this.blocked = false;
    this.rejected = [];
    this.accepted = [];
  }
}

export interface ApiContext {
  store: AmoStore;
  oauth: OAuthServer;
  limiter: RateLimiter;
  calls: RecordedCall[];
  stats: ApiStats;
  /** Status for GET of a single missing entity (real amoCRM answers 204 No Content). */
  missingEntityStatus: 204 | 404;
}

export const NGINX_403_HTML =
  '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const NGINX_429_HTML =
  '<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

// ------------------------------------------------------------------ response helpers

function hal(res: Response, status: number, body: unknown): void {
  res.status(status).set('Content-Type', 'application/hal+json').send(JSON.stringify(body));
}

function problem(res: Response, status: number, body: Record<string, unknown>): void {
  res.status(status).set('Content-Type', 'application/problem+json').send(JSON.stringify(body));
}

function noContent(res: Response): void {
  res.status(204).end();
}

function notFound(res: Response, detail = 'Entity not found'): void {
  problem(res, 404, { title: 'Not Found', type: 'https://httpstatus.es/404', status: 404, detail });
}

function badRequest(res: Response, detail: string): void {
  problem(res, 400, { title: 'Bad Request', type: 'https://httpstatus.es/400', status: 400, detail });
}

function validationProblem(res: Response, groups: Array<{ request_id: string; errors: ValidationError[] }>): void {
  problem(res, 400, {
    'validation-errors': groups,
    title: 'Bad Request',
    type: 'https://httpstatus.es/400',
    status: 400,
    detail: 'Request validation failed',
  });
}

// ------------------------------------------------------------------ query helpers

/** Flattens `x`, `x[]`, `x[0]` and comma-separated forms into a list of strings. */
function qList(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (typeof v === 'number') return [String(v)];
  if (Array.isArray(v)) return v.flatMap((x) => qList(x));
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).flatMap((x) => qList(x));
  return [];
}

function qInts(v: unknown): number[] {
  return qList(v).map(Number).filter((n) => Number.isInteger(n));
}

function qInt(v: unknown): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

function qObj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** `filter[x]=ts` (from) or `filter[x][from]=&[to]=` or `filter[x]=from,to`. */
function qRange(v: unknown): { from?: number; to?: number } | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' || typeof v === 'number') {
    const parts = String(v).split(',').map((s) => Number(s.trim()));
    return { from: Number.isFinite(parts[0]) ? parts[0] : undefined, to: Number.isFinite(parts[1]) ? parts[1] : undefined };
  }
  const o = qObj(v);
  return { from: qInt(o.from), to: qInt(o.to) };
}

function inRange(value: number | null, r: { from?: number; to?: number } | undefined): boolean {
  if (!r) return true;
  if (value === null) return false;
  if (r.from !== undefined && value < r.from) return false;
  if (r.to !== undefined && value > r.to) return false;
  return true;
}

function withSet(req: Request): Set<string> {
  return new Set(qList(req.query.with));
}

function pageParams(req: Request, max: number): { page: number; limit: number } {
  const page = Math.max(1, qInt(req.query.page) ?? 1);
  const limit = Math.min(max, Math.max(1, qInt(req.query.limit) ?? (max === 100 ? 100 : 50)));
  return { page, limit };
}

function paged<T>(
  store: AmoStore,
  req: Request,
  list: T[],
  max: number,
): { items: T[]; page: number; links: Record<string, { href: string }> } {
  const { page, limit } = pageParams(req, max);
  const items = list.slice((page - 1) * limit, page * limit);
  const base = `${store.baseUrl}${req.path}`;
  const rest = qs.stringify({ ...(req.query as Record<string, unknown>), page: undefined, limit: undefined }, { encodeValuesOnly: true });
  const mk = (p: number) => ({ href: `${base}?${rest ? `${rest}&` : ''}page=${p}&limit=${limit}` });
  const links: Record<string, { href: string }> = { self: mk(page) };
  if (page * limit < list.length) links.next = mk(page + 1);
  if (page > 1) links.prev = mk(page - 1);
  return { items, page, links };
}

function orderBy<T extends { id: number; created_at: number; updated_at: number }>(list: T[], order: unknown): T[] {
  const o = qObj(order);
  const key = (['id', 'created_at', 'updated_at'] as const).find((k) => o[k] !== undefined);
  if (!key) return list;
  const dir = String(o[key]).toLowerCase() === 'desc' ? -1 : 1;
  return [...list].sort((a, b) => (a[key] - b[key]) * dir || (a.id - b.id) * dir);
}

function digits(s: string): string {
  return s.replace(/\D+/g, '');
}

/** amoCRM `query`: full-text over filled fields. Digits-only queries also match formatted phones. */
function matchesQuery(q: string, haystack: string[]): boolean {
  const needle = q.trim().toLowerCase();
  if (needle === '') return true;
  const qDigits = digits(needle);
  const digitQuery = qDigits.length >= 4 && /^[\d\s()+\-.]+$/.test(needle);
  return haystack.some((h) => {
    const hl = h.toLowerCase();
    if (hl.includes(needle)) return true;
    return digitQuery && digits(hl).includes(qDigits);
  });
}

function requestIdOf(item: unknown, index: number): string {
  const rid = (item as { request_id?: unknown } | null)?.request_id;
  return typeof rid === 'string' || typeof rid === 'number' ? String(rid) : String(index);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

// ------------------------------------------------------------------ app

export function createAmoApp(ctx: ApiContext): express.Express {
  const { store, oauth, limiter } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', (str: string) => qs.parse(str, { depth: 10, arrayLimit: 1000, parameterLimit: 10_000 }));
  app.use(express.raw({ type: () => true, limit: '20mb' }));

  // record + parse body
  app.use((req, res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let parsed: unknown;
    let parseError = false;
    if (raw.trim() !== '') {
      const ct = String(req.headers['content-type'] ?? '');
      if (ct.includes('application/x-www-form-urlencoded')) parsed = qs.parse(raw, { depth: 10, arrayLimit: 1000 });
      else {
        try {
          parsed = JSON.parse(raw);
        } catch {
          parseError = true;
          parsed = raw;
        }
      }
    }
    res.locals.body = parsed;
    res.locals.bodyError = parseError;
    const call: RecordedCall = {
      method: req.method,
      path: req.path,
      query: req.query as Record<string, unknown>,
      body: parsed,
      at: Date.now(),
      status: 0,
    };
    ctx.calls.push(call);
    res.on('finish', () => {
      call.status = res.statusCode;
    });
    if (req.path.startsWith('/api/')) ctx.stats.apiCalls++;
    next();
  });

  // account blocked after repeated limit violations: nginx HTML for every call
  app.use((_req, res, next) => {
    if (limiter.blocked) {
      ctx.stats.blocked++;
      res.status(403).set('Content-Type', 'text/html').send(NGINX_403_HTML);
      return;
    }
    next();
  });

  // ---------------------------------------------------------------- OAuth
  app.post('/oauth2/access_token', (_req, res) => {
    const body = isObj(res.locals.body) ? (res.locals.body as Record<string, unknown>) : {};
    const result = oauth.token(body);
    res.status(result.status).set('Content-Type', 'application/json').send(JSON.stringify(result.body));
  });

  // ---------------------------------------------------------------- API v4 guard
  app.use('/api', (req, res, next) => {
    const auth = String(req.headers.authorization ?? '');
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    const userId = m?.[1] ? oauth.verify(m[1].trim()) : undefined;
    if (userId === undefined) {
      problem(res, 401, { title: 'Unauthorized', type: 'https://httpstatus.es/401', status: 401, detail: 'Unauthorized' });
      return;
    }
    if (limiter.hit() === 'limited') {
      ctx.stats.rateLimited++;
      res.status(429).set('Content-Type', 'text/html').send(NGINX_429_HTML);
      return;
    }
    if (res.locals.bodyError) {
      badRequest(res, 'Invalid JSON in request body');
      return;
    }
    res.locals.userId = userId;
    next();
  });

  const me = (res: Response): number => res.locals.userId as number;
  const body = (res: Response): unknown => res.locals.body;

  // ---------------------------------------------------------------- account & users
  app.get('/api/v4/account', (req, res) => {
    const w = withSet(req);
    const out: Record<string, unknown> = {
      id: store.accountId,
      name: `Reglament demo (${store.subdomain})`,
      subdomain: store.subdomain,
      created_at: 1700000000,
      created_by: store.users[0]?.id ?? 0,
      updated_at: 1700000000,
      updated_by: store.users[0]?.id ?? 0,
      current_user_id: me(res),
      country: 'RU',
      customers_mode: 'disabled',
      is_unsorted_on: true,
      is_loss_reason_enabled: true,
      is_helpbot_enabled: false,
      is_technical_account: false,
      contact_name_display_order: 1,
      currency: 'RUB',
      currency_symbol: '₽',
      _links: { self: { href: `${store.baseUrl}/api/v4/account` } },
    };
    if (w.has('amojo_id')) out.amojo_id = `amojo-${store.accountId}`;
    if (w.has('users_groups')) out._embedded = { users_groups: [{ id: 0, name: 'Отдел продаж', uuid: null }] };
    hal(res, 200, out);
  });

  app.get('/api/v4/users', (req, res) => {
    const { items, page, links } = paged(store, req, store.users, 250);
    if (items.length === 0) return noContent(res);
    hal(res, 200, {
      _total_items: store.users.length,
      _page: page,
      _page_count: Math.ceil(store.users.length / pageParams(req, 250).limit),
      _links: links,
      _embedded: { users: items.map((u) => userJson(store, u)) },
    });
  });

  app.get('/api/v4/users/:id', (req, res) => {
    const u = store.user(Number(req.params.id));
    if (!u) return notFound(res, 'User not found');
    hal(res, 200, userJson(store, u));
  });

  // ---------------------------------------------------------------- pipelines
  app.get('/api/v4/leads/pipelines', (_req, res) => {
    hal(res, 200, {
      _total_items: store.pipelines.length,
      _links: { self: { href: `${store.baseUrl}/api/v4/leads/pipelines` } },
      _embedded: { pipelines: store.pipelines.map((p) => pipelineJson(store, p)) },
    });
  });

  app.get('/api/v4/leads/pipelines/:id', (req, res) => {
    const p = store.pipeline(Number(req.params.id));
    if (!p) return notFound(res, 'Pipeline not found');
    hal(res, 200, pipelineJson(store, p));
  });

  app.get('/api/v4/leads/pipelines/:id/statuses', (req, res) => {
    const p = store.pipeline(Number(req.params.id));
    if (!p) return notFound(res, 'Pipeline not found');
    hal(res, 200, {
      _total_items: p.statuses.length,
      _links: { self: { href: `${store.baseUrl}/api/v4/leads/pipelines/${p.id}/statuses` } },
      _embedded: { statuses: p.statuses.map((s) => statusJson(store, s)) },
    });
  });

  app.get('/api/v4/leads/pipelines/:pid/statuses/:id', (req, res) => {
    const p = store.pipeline(Number(req.params.pid));
    const s = p?.statuses.find((x) => x.id === Number(req.params.id));
    if (!p || !s) return notFound(res, 'Status not found');
    hal(res, 200, statusJson(store, s));
  });

  // ---------------------------------------------------------------- custom fields
  for (const entity of ['leads', 'contacts'] as const) {
    app.get(`/api/v4/${entity}/custom_fields`, (req, res) => {
      const list = store.fields.filter((f) => f.entity_type === entity);
      const { items, page, links } = paged(store, req, list, 250);
      if (items.length === 0) return noContent(res);
      hal(res, 200, { _total_items: list.length, _page: page, _page_count: 1, _links: links, _embedded: { custom_fields: items.map((f) => customFieldJson(store, f)) } });
    });
    app.get(`/api/v4/${entity}/custom_fields/:id`, (req, res) => {
      const f = store.fields.find((x) => x.entity_type === entity && x.id === Number(req.params.id));
      if (!f) return notFound(res);
      hal(res, 200, customFieldJson(store, f));
    });
  }

  // ---------------------------------------------------------------- loss reasons
  app.get('/api/v4/leads/loss_reasons', (req, res) => {
    const { items, page, links } = paged(store, req, store.lossReasons, 250);
    if (items.length === 0) return noContent(res);
    hal(res, 200, { _total_items: store.lossReasons.length, _page: page, _page_count: 1, _links: links, _embedded: { loss_reasons: items.map((r) => lossReasonJson(store, r)) } });
  });

  app.get('/api/v4/leads/loss_reasons/:id', (req, res) => {
    const r = store.lossReasons.find((x) => x.id === Number(req.params.id));
    if (!r) return notFound(res);
    hal(res, 200, lossReasonJson(store, r));
  });

  app.post('/api/v4/leads/loss_reasons', (_req, res) => {
    const b = body(res);
    if (!Array.isArray(b) || b.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    b.forEach((item: unknown, i: number) => {
      const name = isObj(item) ? item.name : undefined;
      if (typeof name !== 'string' || name.trim() === '') {
        groups.push({ request_id: requestIdOf(item, i), errors: [{ code: 'NotBlank', path: 'name', detail: 'This value should not be blank.' }] });
      }
    });
    if (groups.length) return validationProblem(res, groups);
    const created = b.map((item: unknown, i: number) => {
      const o = item as { name: string; sort?: unknown };
      const r = store.addLossReason(o.name, typeof o.sort === 'number' ? o.sort : undefined);
      return { ...(lossReasonJson(store, r) as object), request_id: requestIdOf(item, i) };
    });
    hal(res, 200, { _total_items: created.length, _links: { self: { href: `${store.baseUrl}/api/v4/leads/loss_reasons` } }, _embedded: { loss_reasons: created } });
  });

  // ---------------------------------------------------------------- notes & links (leads + contacts)
  const entityExists = (entity: AmoEntityType, id: number): boolean => {
    const e = entity === 'leads' ? store.leads.get(id) : store.contacts.get(id);
    return !!e && !e.is_deleted;
  };

  const createNotes = (entity: AmoEntityType, res: Response, list: unknown[], pathEntityId?: number): void => {
    if (list.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (list.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    list.forEach((item: unknown, i: number) => {
      const errors: ValidationError[] = [];
      const o = isObj(item) ? item : {};
      const entityId = pathEntityId ?? qInt(o.entity_id);
      if (entityId === undefined) errors.push({ code: 'NotBlank', path: 'entity_id', detail: 'This value should not be blank.' });
      else if (!entityExists(entity, entityId)) errors.push({ code: 'NotSupportedChoice', path: 'entity_id', detail: 'The value you selected is not a valid choice.' });
      const type = o.note_type;
      const params = isObj(o.params) ? o.params : undefined;
      if (typeof type !== 'string' || !NOTE_TYPES.has(type)) {
        errors.push({ code: 'NotSupportedChoice', path: 'note_type', detail: 'The value you selected is not a valid choice.' });
      } else if (!params) {
        errors.push({ code: 'NotBlank', path: 'params', detail: 'This value should not be blank.' });
      } else {
        const needText = ['common', 'service_message', 'extended_service_message', 'sms_in', 'sms_out', 'message_cashier'].includes(type);
        if (needText && (typeof params.text !== 'string' || params.text === '')) {
          errors.push({ code: 'NotBlank', path: 'params.text', detail: 'This value should not be blank.' });
        }
        if ((type === 'service_message' || type === 'extended_service_message') && (typeof params.service !== 'string' || params.service === '')) {
          errors.push({ code: 'NotBlank', path: 'params.service', detail: 'This value should not be blank.' });
        }
      }
      if (o.created_by !== undefined && qInt(o.created_by) !== 0 && !store.user(qInt(o.created_by) ?? -1)) {
        errors.push({ code: 'NotSupportedChoice', path: 'created_by', detail: 'The value you selected is not a valid choice.' });
      }
      if (errors.length) groups.push({ request_id: requestIdOf(item, i), errors });
    });
    if (groups.length) return validationProblem(res, groups);
    const created = list.map((item: unknown, i: number) => {
      const o = item as Record<string, unknown>;
      const entityId = pathEntityId ?? (qInt(o.entity_id) as number);
      const actor = o.created_by !== undefined ? (qInt(o.created_by) as number) : me(res);
      const responsible = qInt(o.responsible_user_id);
      const n = store.addNote(entity, entityId, o.note_type as string, o.params as Record<string, unknown>, actor, responsible);
      return { id: n.id, entity_id: n.entity_id, request_id: requestIdOf(item, i), _links: { self: { href: `${store.baseUrl}/api/v4/${entity}/${entityId}/notes/${n.id}` } } };
    });
    hal(res, 200, { _links: { self: { href: `${store.baseUrl}/api/v4/${entity}/notes` } }, _embedded: { notes: created } });
  };

  const listNotes = (entity: AmoEntityType, req: Request, res: Response, entityId?: number): void => {
    const f = qObj(req.query.filter);
    const ids = entityId !== undefined ? [entityId] : qInts(f.entity_id);
    const types = qList(f.note_type);
    let list = store.notes.filter((n) => n.entity_type === entity && (ids.length === 0 || ids.includes(n.entity_id)));
    if (types.length) list = list.filter((n) => types.includes(n.note_type));
    const updated = qRange(f.updated_at);
    list = list.filter((n) => inRange(n.updated_at, updated));
    list = orderBy(list, req.query.order);
    const { items, page, links } = paged(store, req, list, 250);
    if (items.length === 0) return noContent(res);
    hal(res, 200, { _page: page, _links: links, _embedded: { notes: items.map((n) => noteJson(store, n)) } });
  };

  const otherOf = (entity: AmoEntityType): AmoEntityType => (entity === 'leads' ? 'contacts' : 'leads');
  const linkJson = (entity: AmoEntityType, entityId: number, toId: number) => {
    const leadId = entity === 'leads' ? entityId : toId;
    const contactId = entity === 'leads' ? toId : entityId;
    const l = store.links.find((x) => x.lead_id === leadId && x.contact_id === contactId);
    return { entity_id: entityId, entity_type: entity, to_entity_id: toId, to_entity_type: otherOf(entity), metadata: { main_contact: l?.main ?? false } };
  };

  /** Validates link bodies; `items` have entity_id (batch) or use `pathEntityId`. */
  const validateLinks = (entity: AmoEntityType, list: unknown[], pathEntityId?: number) => {
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    const ok: Array<{ entityId: number; toId: number; isMain?: boolean }> = [];
    list.forEach((item: unknown, i: number) => {
      const errors: ValidationError[] = [];
      const o = isObj(item) ? item : {};
      const entityId = pathEntityId ?? qInt(o.entity_id);
      const toId = qInt(o.to_entity_id);
      if (entityId === undefined || !entityExists(entity, entityId)) errors.push({ code: 'NotSupportedChoice', path: 'entity_id', detail: 'The value you selected is not a valid choice.' });
      if (o.to_entity_type !== otherOf(entity)) errors.push({ code: 'NotSupportedChoice', path: 'to_entity_type', detail: 'The value you selected is not a valid choice.' });
      else if (toId === undefined || !entityExists(otherOf(entity), toId)) errors.push({ code: 'NotSupportedChoice', path: 'to_entity_id', detail: 'The value you selected is not a valid choice.' });
      if (errors.length) groups.push({ request_id: requestIdOf(item, i), errors });
      else {
        const meta = isObj(o.metadata) ? o.metadata : {};
        const main = meta.is_main ?? meta.main_contact;
        ok.push({ entityId: entityId as number, toId: toId as number, isMain: typeof main === 'boolean' ? main : undefined });
      }
    });
    return { groups, ok };
  };

  const doLink = (entity: AmoEntityType, res: Response, list: unknown, pathEntityId?: number): void => {
    if (!Array.isArray(list) || list.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (list.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    const { groups, ok } = validateLinks(entity, list, pathEntityId);
    if (groups.length) return validationProblem(res, groups);
    const out = ok.map(({ entityId, toId, isMain }) => {
      if (entity === 'leads') store.link(entityId, toId, isMain, me(res));
      else store.link(toId, entityId, isMain, me(res));
      return linkJson(entity, entityId, toId);
    });
    hal(res, 200, { _total_items: out.length, _links: { self: { href: `${store.baseUrl}/api/v4/${entity}/link` } }, _embedded: { links: out } });
  };

  const doUnlink = (entity: AmoEntityType, res: Response, list: unknown, pathEntityId?: number): void => {
    if (!Array.isArray(list) || list.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    const { groups, ok } = validateLinks(entity, list, pathEntityId);
    if (groups.length) return validationProblem(res, groups);
    for (const { entityId, toId } of ok) {
      if (entity === 'leads') store.unlink(entityId, toId, me(res));
      else store.unlink(toId, entityId, me(res));
    }
    noContent(res);
  };

  for (const entity of ['leads', 'contacts'] as const) {
    app.post(`/api/v4/${entity}/notes`, (_req, res) => {
      const b = body(res);
      if (!Array.isArray(b)) return badRequest(res, 'Request body must be an array');
      createNotes(entity, res, b);
    });
    app.get(`/api/v4/${entity}/notes`, (req, res) => listNotes(entity, req, res));
    app.post(`/api/v4/${entity}/link`, (_req, res) => doLink(entity, res, body(res)));
    app.post(`/api/v4/${entity}/unlink`, (_req, res) => doUnlink(entity, res, body(res)));

    app.post(`/api/v4/${entity}/:id/notes`, (req, res) => {
      const id = Number(req.params.id);
      if (!entityExists(entity, id)) return notFound(res);
      const b = body(res);
      if (!Array.isArray(b)) return badRequest(res, 'Request body must be an array');
      createNotes(entity, res, b, id);
    });
    app.get(`/api/v4/${entity}/:id/notes`, (req, res) => {
      const id = Number(req.params.id);
      if (!entityExists(entity, id)) return notFound(res);
      listNotes(entity, req, res, id);
    });
    app.get(`/api/v4/${entity}/:id/notes/:noteId`, (req, res) => {
      const n = store.notes.find((x) => x.entity_type === entity && x.entity_id === Number(req.params.id) && x.id === Number(req.params.noteId));
      if (!n) return ctx.missingEntityStatus === 204 ? noContent(res) : notFound(res);
      hal(res, 200, noteJson(store, n));
    });
    app.get(`/api/v4/${entity}/:id/links`, (req, res) => {
      const id = Number(req.params.id);
      if (!entityExists(entity, id)) return notFound(res);
      const f = qObj(req.query.filter);
      const toTypes = qList(f.to_entity_type);
      if (toTypes.length && !toTypes.includes(otherOf(entity))) return noContent(res);
      const links = entity === 'leads' ? store.contactsOfLead(id).map((l) => linkJson('leads', id, l.contact_id)) : store.leadsOfContact(id).map((l) => linkJson('contacts', id, l.lead_id));
      if (links.length === 0) return noContent(res);
      hal(res, 200, { _total_items: links.length, _links: { self: { href: `${store.baseUrl}/api/v4/${entity}/${id}/links` } }, _embedded: { links } });
    });
    app.post(`/api/v4/${entity}/:id/link`, (req, res) => {
      const id = Number(req.params.id);
      if (!entityExists(entity, id)) return notFound(res);
      doLink(entity, res, body(res), id);
    });
    app.post(`/api/v4/${entity}/:id/unlink`, (req, res) => {
      const id = Number(req.params.id);
      if (!entityExists(entity, id)) return notFound(res);
      doUnlink(entity, res, body(res), id);
    });
  }

  // ---------------------------------------------------------------- leads
  const filterLeads = (req: Request): AmoLead[] => {
    const f = qObj(req.query.filter);
    let list = [...store.leads.values()].filter((l) => !l.is_deleted);
    const ids = qInts(f.id);
    if (ids.length) list = list.filter((l) => ids.includes(l.id));
    const names = qList(f.name);
    if (names.length) list = list.filter((l) => names.includes(l.name));
    const pipelines = qInts(f.pipeline_id);
    if (pipelines.length) list = list.filter((l) => pipelines.includes(l.pipeline_id));
    if (f.statuses !== undefined) {
      const arr: unknown[] = Array.isArray(f.statuses) ? f.statuses : Object.values(qObj(f.statuses));
      const wanted = arr
        .map((p) => qObj(p))
        .map((p) => ({ pipeline_id: qInt(p.pipeline_id), status_id: qInt(p.status_id) }))
        .filter((p) => p.status_id !== undefined);
      list = list.filter((l) => wanted.some((w) => w.status_id === l.status_id && (w.pipeline_id === undefined || w.pipeline_id === l.pipeline_id)));
    }
    const resp = qInts(f.responsible_user_id);
    if (resp.length) list = list.filter((l) => resp.includes(l.responsible_user_id));
    const createdBy = qInts(f.created_by);
    if (createdBy.length) list = list.filter((l) => createdBy.includes(l.created_by));
    const updatedBy = qInts(f.updated_by);
    if (updatedBy.length) list = list.filter((l) => updatedBy.includes(l.updated_by));
    const price = f.price !== undefined ? qRange(f.price) : undefined;
    list = list.filter((l) => inRange(l.price, price));
    const created = qRange(f.created_at);
    const updated = qRange(f.updated_at);
    const closed = qRange(f.closed_at);
    list = list.filter((l) => inRange(l.created_at, created) && inRange(l.updated_at, updated) && inRange(l.closed_at, closed));
    const lossReasons = qInts(f.loss_reason_id);
    if (lossReasons.length) list = list.filter((l) => l.loss_reason_id !== null && lossReasons.includes(l.loss_reason_id));
    const q = typeof req.query.query === 'string' || typeof req.query.query === 'number' ? String(req.query.query) : '';
    if (q) {
      list = list.filter((l) =>
        matchesQuery(q, [
          String(l.id),
          l.name,
          String(l.price),
          ...l.custom_fields.flatMap((e) => e.values.map((v) => String(v.value))),
        ]),
      );
    }
    return orderBy(list.sort((a, b) => a.id - b.id), req.query.order);
  };

  app.get('/api/v4/leads', (req, res) => {
    const list = filterLeads(req);
    const { items, page, links } = paged(store, req, list, 250);
    if (items.length === 0) return noContent(res);
    const w = withSet(req);
    hal(res, 200, { _page: page, _links: links, _embedded: { leads: items.map((l) => leadJson(store, l, w)) } });
  });

  app.get('/api/v4/leads/:id', (req, res) => {
    const lead = store.leads.get(Number(req.params.id));
    if (!lead || lead.is_deleted) return ctx.missingEntityStatus === 204 ? noContent(res) : notFound(res);
    hal(res, 200, leadJson(store, lead, withSet(req)));
  });

  app.post('/api/v4/leads', (_req, res) => {
    const b = body(res);
    if (!Array.isArray(b) || b.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (b.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    const valid: Array<{ change: LeadChange; actor: number; contactIds: number[]; requestId: string }> = [];
    b.forEach((item: unknown, i: number) => {
      const errors: ValidationError[] = [];
      if (!isObj(item)) {
        groups.push({ request_id: String(i), errors: [{ code: 'InvalidType', path: '', detail: 'This value should be of type object.' }] });
        return;
      }
      const { change, actor, contactIds } = store.validateLeadBody(item, undefined, errors);
      if (errors.length) groups.push({ request_id: requestIdOf(item, i), errors });
      else valid.push({ change, actor: actor ?? me(res), contactIds, requestId: requestIdOf(item, i) });
    });
    if (groups.length) return validationProblem(res, groups);
    const out = valid.map((v) => {
      const lead = store.createLead(v.change, v.actor, v.contactIds);
      return { id: lead.id, request_id: v.requestId, _links: { self: { href: `${store.baseUrl}/api/v4/leads/${lead.id}` } } };
    });
    hal(res, 200, { _links: { self: { href: `${store.baseUrl}/api/v4/leads` } }, _embedded: { leads: out } });
  });

  type LeadUpdate = { lead: AmoLead; change: LeadChange; actor: number; requestId: string };
  const validateLeadUpdates = (res: Response, list: unknown[], pathId?: number): { groups: Array<{ request_id: string; errors: ValidationError[] }>; valid: LeadUpdate[] } => {
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    const valid: LeadUpdate[] = [];
    list.forEach((item: unknown, i: number) => {
      const errors: ValidationError[] = [];
      if (!isObj(item)) {
        groups.push({ request_id: String(i), errors: [{ code: 'InvalidType', path: '', detail: 'This value should be of type object.' }] });
        return;
      }
      const id = pathId ?? qInt(item.id);
      const lead = id === undefined ? undefined : store.leads.get(id);
      if (id === undefined) errors.push({ code: 'NotBlank', path: 'id', detail: 'This value should not be blank.' });
      else if (!lead || lead.is_deleted) errors.push({ code: 'NotSupportedChoice', path: 'id', detail: 'The value you selected is not a valid choice.' });
      if (!lead || lead.is_deleted) {
        groups.push({ request_id: requestIdOf(item, i), errors });
        return;
      }
      const { change, actor } = store.validateLeadBody(item, lead, errors);
      if (errors.length) groups.push({ request_id: requestIdOf(item, i), errors });
      else valid.push({ lead, change, actor: actor ?? me(res), requestId: requestIdOf(item, i) });
    });
    return { groups, valid };
  };

  app.patch('/api/v4/leads', (_req, res) => {
    const b = body(res);
    if (!Array.isArray(b) || b.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (b.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    const { groups, valid } = validateLeadUpdates(res, b);
    if (groups.length) return validationProblem(res, groups);
    const out = valid.map((v) => {
      store.updateLead(v.lead, v.change, v.actor);
      return { id: v.lead.id, updated_at: v.lead.updated_at, request_id: v.requestId, _links: { self: { href: `${store.baseUrl}/api/v4/leads/${v.lead.id}` } } };
    });
    hal(res, 200, { _links: { self: { href: `${store.baseUrl}/api/v4/leads` } }, _embedded: { leads: out } });
  });

  app.patch('/api/v4/leads/:id', (req, res) => {
    const id = Number(req.params.id);
    const lead = store.leads.get(id);
    if (!lead || lead.is_deleted) return notFound(res);
    const b = body(res);
    if (!isObj(b)) return badRequest(res, 'Request body must be an object');
    const { groups, valid } = validateLeadUpdates(res, [b], id);
    if (groups.length || !valid[0]) return validationProblem(res, groups);
    store.updateLead(valid[0].lead, valid[0].change, valid[0].actor);
    hal(res, 200, { id: lead.id, updated_at: lead.updated_at, _links: { self: { href: `${store.baseUrl}/api/v4/leads/${lead.id}` } } });
  });

  // ---------------------------------------------------------------- contacts
  const contactHaystack = (c: AmoContact): string[] => [
    String(c.id),
    c.name,
    c.first_name,
    c.last_name,
    ...c.custom_fields.flatMap((e) => e.values.map((v) => String(v.value))),
  ];

  app.get('/api/v4/contacts', (req, res) => {
    const f = qObj(req.query.filter);
    let list = [...store.contacts.values()].filter((c) => !c.is_deleted);
    const ids = qInts(f.id);
    if (ids.length) list = list.filter((c) => ids.includes(c.id));
    const names = qList(f.name);
    if (names.length) list = list.filter((c) => names.includes(c.name));
    const resp = qInts(f.responsible_user_id);
    if (resp.length) list = list.filter((c) => resp.includes(c.responsible_user_id));
    const created = qRange(f.created_at);
    const updated = qRange(f.updated_at);
    list = list.filter((c) => inRange(c.created_at, created) && inRange(c.updated_at, updated));
    const q = typeof req.query.query === 'string' || typeof req.query.query === 'number' ? String(req.query.query) : '';
    if (q) list = list.filter((c) => matchesQuery(q, contactHaystack(c)));
    list = orderBy(list.sort((a, b) => a.id - b.id), req.query.order);
    const { items, page, links } = paged(store, req, list, 250);
    if (items.length === 0) return noContent(res);
    const w = withSet(req);
    hal(res, 200, { _page: page, _links: links, _embedded: { contacts: items.map((c) => contactJson(store, c, w)) } });
  });

  app.get('/api/v4/contacts/:id', (req, res) => {
    const c = store.contacts.get(Number(req.params.id));
    if (!c || c.is_deleted) return ctx.missingEntityStatus === 204 ? noContent(res) : notFound(res);
    hal(res, 200, contactJson(store, c, withSet(req)));
  });

  app.post('/api/v4/contacts', (_req, res) => {
    const b = body(res);
    if (!Array.isArray(b) || b.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (b.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    const valid: Array<{ change: ContactChange; actor: number; requestId: string }> = [];
    b.forEach((item: unknown, i: number) => {
      const errors: ValidationError[] = [];
      if (!isObj(item)) {
        groups.push({ request_id: String(i), errors: [{ code: 'InvalidType', path: '', detail: 'This value should be of type object.' }] });
        return;
      }
      const { change, actor } = store.validateContactBody(item, undefined, errors);
      if (errors.length) groups.push({ request_id: requestIdOf(item, i), errors });
      else valid.push({ change, actor: actor ?? me(res), requestId: requestIdOf(item, i) });
    });
    if (groups.length) return validationProblem(res, groups);
    const out = valid.map((v) => {
      const c = store.createContact(v.change, v.actor);
      return { id: c.id, request_id: v.requestId, _links: { self: { href: `${store.baseUrl}/api/v4/contacts/${c.id}` } } };
    });
    hal(res, 200, { _links: { self: { href: `${store.baseUrl}/api/v4/contacts` } }, _embedded: { contacts: out } });
  });

  const patchContacts = (res: Response, list: unknown[], pathId?: number) => {
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    const valid: Array<{ contact: AmoContact; change: ContactChange; actor: number; requestId: string }> = [];
    list.forEach((item: unknown, i: number) => {
      const errors: ValidationError[] = [];
      if (!isObj(item)) {
        groups.push({ request_id: String(i), errors: [{ code: 'InvalidType', path: '', detail: 'This value should be of type object.' }] });
        return;
      }
      const id = pathId ?? qInt(item.id);
      const contact = id === undefined ? undefined : store.contacts.get(id);
      if (!contact || contact.is_deleted) {
        groups.push({ request_id: requestIdOf(item, i), errors: [{ code: id === undefined ? 'NotBlank' : 'NotSupportedChoice', path: 'id', detail: 'The value you selected is not a valid choice.' }] });
        return;
      }
      const { change, actor } = store.validateContactBody(item, contact, errors);
      if (errors.length) groups.push({ request_id: requestIdOf(item, i), errors });
      else valid.push({ contact, change, actor: actor ?? me(res), requestId: requestIdOf(item, i) });
    });
    return { groups, valid };
  };

  app.patch('/api/v4/contacts', (_req, res) => {
    const b = body(res);
    if (!Array.isArray(b) || b.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (b.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    const { groups, valid } = patchContacts(res, b);
    if (groups.length) return validationProblem(res, groups);
    const out = valid.map((v) => {
      store.updateContact(v.contact, v.change, v.actor);
      return { id: v.contact.id, updated_at: v.contact.updated_at, request_id: v.requestId, _links: { self: { href: `${store.baseUrl}/api/v4/contacts/${v.contact.id}` } } };
    });
    hal(res, 200, { _links: { self: { href: `${store.baseUrl}/api/v4/contacts` } }, _embedded: { contacts: out } });
  });

  app.patch('/api/v4/contacts/:id', (req, res) => {
    const id = Number(req.params.id);
    const c = store.contacts.get(id);
    if (!c || c.is_deleted) return notFound(res);
    const b = body(res);
    if (!isObj(b)) return badRequest(res, 'Request body must be an object');
    const { groups, valid } = patchContacts(res, [b], id);
    if (groups.length || !valid[0]) return validationProblem(res, groups);
    store.updateContact(valid[0].contact, valid[0].change, valid[0].actor);
    hal(res, 200, { id: c.id, updated_at: c.updated_at, _links: { self: { href: `${store.baseUrl}/api/v4/contacts/${c.id}` } } });
  });

  // ---------------------------------------------------------------- tasks
  app.get('/api/v4/tasks', (req, res) => {
    const f = qObj(req.query.filter);
    let list = [...store.tasks];
    const ids = qInts(f.id);
    if (ids.length) list = list.filter((t) => ids.includes(t.id));
    const types = qList(f.entity_type);
    if (types.length) list = list.filter((t) => t.entity_type !== null && types.includes(t.entity_type));
    const eids = qInts(f.entity_id);
    if (eids.length) list = list.filter((t) => t.entity_id !== null && eids.includes(t.entity_id));
    if (f.is_completed !== undefined) {
      const want = String(f.is_completed) === '1' || String(f.is_completed) === 'true';
      list = list.filter((t) => t.is_completed === want);
    }
    const resp = qInts(f.responsible_user_id);
    if (resp.length) list = list.filter((t) => resp.includes(t.responsible_user_id));
    const ttypes = qInts(f.task_type);
    if (ttypes.length) list = list.filter((t) => ttypes.includes(t.task_type_id));
    const updated = qRange(f.updated_at);
    list = list.filter((t) => inRange(t.updated_at, updated));
    const o = qObj(req.query.order);
    if (o.complete_till !== undefined) {
      const dir = String(o.complete_till).toLowerCase() === 'desc' ? -1 : 1;
      list.sort((a, b) => (a.complete_till - b.complete_till) * dir);
    } else list = orderBy(list, req.query.order);
    const { items, page, links } = paged(store, req, list, 250);
    if (items.length === 0) return noContent(res);
    hal(res, 200, { _page: page, _links: links, _embedded: { tasks: items.map((t) => taskJson(store, t)) } });
  });

  app.get('/api/v4/tasks/:id', (req, res) => {
    const t = store.tasks.find((x) => x.id === Number(req.params.id));
    if (!t) return ctx.missingEntityStatus === 204 ? noContent(res) : notFound(res);
    hal(res, 200, taskJson(store, t));
  });

  app.post('/api/v4/tasks', (_req, res) => {
    const b = body(res);
    if (!Array.isArray(b) || b.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (b.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    b.forEach((item: unknown, i: number) => {
      const errors: ValidationError[] = [];
      const o = isObj(item) ? item : {};
      if (typeof o.text !== 'string' || o.text.trim() === '') errors.push({ code: 'NotBlank', path: 'text', detail: 'This value should not be blank.' });
      if (o.complete_till === undefined || o.complete_till === null) errors.push({ code: 'NotBlank', path: 'complete_till', detail: 'This value should not be blank.' });
      else if (qInt(o.complete_till) === undefined) errors.push({ code: 'InvalidType', path: 'complete_till', detail: 'This value should be of type int.' });
      if (o.entity_id !== undefined || o.entity_type !== undefined) {
        const et = o.entity_type;
        const eid = qInt(o.entity_id);
        if (et !== 'leads' && et !== 'contacts') errors.push({ code: 'NotSupportedChoice', path: 'entity_type', detail: 'The value you selected is not a valid choice.' });
        else if (eid === undefined || !entityExists(et, eid)) errors.push({ code: 'NotSupportedChoice', path: 'entity_id', detail: 'The value you selected is not a valid choice.' });
      }
      if (o.responsible_user_id !== undefined && !store.user(qInt(o.responsible_user_id) ?? -1)) {
        errors.push({ code: 'NotSupportedChoice', path: 'responsible_user_id', detail: 'The value you selected is not a valid choice.' });
      }
      if (o.task_type_id !== undefined && ![1, 2].includes(qInt(o.task_type_id) ?? -1)) {
        errors.push({ code: 'NotSupportedChoice', path: 'task_type_id', detail: 'The value you selected is not a valid choice.' });
      }
      if (errors.length) groups.push({ request_id: requestIdOf(item, i), errors });
    });
    if (groups.length) return validationProblem(res, groups);
    const out = b.map((item: unknown, i: number) => {
      const o = item as Record<string, unknown>;
      const actor = o.created_by !== undefined ? (qInt(o.created_by) ?? me(res)) : me(res);
      const t = store.addTask({
        created_by: actor,
        responsible_user_id: qInt(o.responsible_user_id) ?? me(res),
        entity_id: qInt(o.entity_id) ?? null,
        entity_type: o.entity_type === 'leads' || o.entity_type === 'contacts' ? o.entity_type : null,
        duration: qInt(o.duration) ?? 0,
        is_completed: o.is_completed === true,
        task_type_id: qInt(o.task_type_id) ?? 1,
        text: o.text as string,
        complete_till: qInt(o.complete_till) as number,
      });
      return { id: t.id, request_id: requestIdOf(item, i), _links: { self: { href: `${store.baseUrl}/api/v4/tasks/${t.id}` } } };
    });
    hal(res, 200, { _links: { self: { href: `${store.baseUrl}/api/v4/tasks` } }, _embedded: { tasks: out } });
  });

  const patchTasks = (res: Response, list: unknown[], pathId?: number): void => {
    const groups: Array<{ request_id: string; errors: ValidationError[] }> = [];
    const valid: Array<{ task: AmoTask; o: Record<string, unknown>; requestId: string }> = [];
    list.forEach((item: unknown, i: number) => {
      const o = isObj(item) ? item : {};
      const id = pathId ?? qInt(o.id);
      const task = store.tasks.find((t) => t.id === id);
      if (!task) groups.push({ request_id: requestIdOf(item, i), errors: [{ code: 'NotSupportedChoice', path: 'id', detail: 'The value you selected is not a valid choice.' }] });
      else valid.push({ task, o, requestId: requestIdOf(item, i) });
    });
    if (groups.length) return validationProblem(res, groups);
    const now = store.nowSec();
    const out = valid.map(({ task, o, requestId }) => {
      if (typeof o.text === 'string') task.text = o.text;
      if (qInt(o.complete_till) !== undefined) task.complete_till = qInt(o.complete_till) as number;
      if (qInt(o.responsible_user_id) !== undefined) task.responsible_user_id = qInt(o.responsible_user_id) as number;
      if (typeof o.is_completed === 'boolean') task.is_completed = o.is_completed;
      if (isObj(o.result)) task.result = { text: String(o.result.text ?? '') };
      task.updated_at = now;
      task.updated_by = me(res);
      return { id: task.id, updated_at: task.updated_at, request_id: requestId, _links: { self: { href: `${store.baseUrl}/api/v4/tasks/${task.id}` } } };
    });
    if (pathId !== undefined && out[0]) {
      const { request_id: _ignored, ...single } = out[0];
      return hal(res, 200, single);
    }
    hal(res, 200, { _links: { self: { href: `${store.baseUrl}/api/v4/tasks` } }, _embedded: { tasks: out } });
  };

  app.patch('/api/v4/tasks', (_req, res) => {
    const b = body(res);
    if (!Array.isArray(b) || b.length === 0) return badRequest(res, 'Request body must be a non-empty array');
    if (b.length > 250) return badRequest(res, 'Too many entities in request, maximum is 250');
    patchTasks(res, b);
  });
  app.patch('/api/v4/tasks/:id', (req, res) => {
    const b = body(res);
    if (!isObj(b)) return badRequest(res, 'Request body must be an object');
    patchTasks(res, [b], Number(req.params.id));
  });

  // ---------------------------------------------------------------- events
  app.get('/api/v4/events', (req, res) => {
    const f = qObj(req.query.filter);
    let list = [...store.events];
    const ids = qList(f.id);
    if (ids.length) list = list.filter((e) => ids.includes(e.id));
    const types = qList(f.type);
    if (types.length) list = list.filter((e) => types.includes(e.type));
    const entities = qList(f.entity).map((s) => s.replace(/s$/, ''));
    if (entities.length) list = list.filter((e) => entities.includes(e.entity_type));
    const eids = qInts(f.entity_id);
    if (eids.length > 10) return validationProblem(res, [{ request_id: '0', errors: [{ code: 'TooManyItems', path: 'filter.entity_id', detail: 'This collection should contain 10 elements or less.' }] }]);
    if (eids.length) list = list.filter((e) => eids.includes(e.entity_id));
    const createdBy = qInts(f.created_by);
    if (createdBy.length) list = list.filter((e) => createdBy.includes(e.created_by));
    const created = qRange(f.created_at);
    list = list.filter((e) => inRange(e.created_at, created));
    for (const side of ['value_after', 'value_before'] as const) {
      const v = qObj(f[side]);
      if (v.leads_statuses !== undefined) {
        const raw = v.leads_statuses;
        const arr = Array.isArray(raw) ? raw : Object.values(qObj(raw));
        const wanted = arr.map((p) => qObj(p)).map((p) => ({ pipeline_id: qInt(p.pipeline_id), status_id: qInt(p.status_id) }));
        list = list.filter((e) =>
          e[side].some((val) => {
            const ls = (val as { lead_status?: { id: number; pipeline_id: number } }).lead_status;
            return !!ls && wanted.some((w) => (w.status_id === undefined || w.status_id === ls.id) && (w.pipeline_id === undefined || w.pipeline_id === ls.pipeline_id));
          }),
        );
      }
      const respIds = qInts(v.responsible_user_id);
      if (respIds.length) {
        list = list.filter((e) => e[side].some((val) => respIds.includes((val as { responsible_user?: { id: number } }).responsible_user?.id ?? -1)));
      }
    }
    list.sort((a, b) => b.created_at - a.created_at || (store.events.indexOf(b) - store.events.indexOf(a)));
    const { items, page, links } = paged(store, req, list, 100);
    if (items.length === 0) return noContent(res);
    hal(res, 200, { _page: page, _links: links, _embedded: { events: items.map((e) => eventJson(store, e)) } });
  });

  // ---------------------------------------------------------------- webhooks
  app.get('/api/v4/webhooks', (req, res) => {
    const f = qObj(req.query.filter);
    const dest = typeof f.destination === 'string' ? f.destination : undefined;
    const list = store.webhooks.filter((w) => dest === undefined || w.destination === dest);
    if (list.length === 0) return noContent(res);
    hal(res, 200, { _total_items: list.length, _links: { self: { href: `${store.baseUrl}/api/v4/webhooks` } }, _embedded: { webhooks: list.map((w) => webhookJson(store, w)) } });
  });

  const requireAdmin = (res: Response): boolean => {
    if (store.user(me(res))?.rights.is_admin) return true;
    problem(res, 403, { title: 'Forbidden', type: 'https://httpstatus.es/403', status: 403, detail: 'Access denied: only account administrators can manage webhooks' });
    return false;
  };

  app.post('/api/v4/webhooks', (_req, res) => {
    if (!requireAdmin(res)) return;
    const b = body(res);
    const o = isObj(b) ? b : {};
    const errors: ValidationError[] = [];
    let url: URL | undefined;
    try {
      url = typeof o.destination === 'string' ? new URL(o.destination) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) errors.push({ code: 'InvalidUrl', path: 'destination', detail: 'This value is not a valid URL.' });
    const settings = Array.isArray(o.settings) ? o.settings : undefined;
    if (!settings || settings.length === 0) errors.push({ code: 'NotBlank', path: 'settings', detail: 'This value should not be blank.' });
    else settings.forEach((s: unknown, i: number) => {
      if (typeof s !== 'string' || !WEBHOOK_SETTINGS.has(s)) errors.push({ code: 'NotSupportedChoice', path: `settings.${i}`, detail: 'The value you selected is not a valid choice.' });
    });
    if (errors.length) return validationProblem(res, [{ request_id: '0', errors }]);
    const hook = store.upsertWebhook(o.destination as string, settings as string[], qInt(o.sort) ?? 1, me(res));
    hal(res, 200, webhookJson(store, hook));
  });

  app.delete('/api/v4/webhooks', (_req, res) => {
    if (!requireAdmin(res)) return;
    const b = body(res);
    const dest = isObj(b) && typeof b.destination === 'string' ? b.destination : undefined;
    if (!dest) return validationProblem(res, [{ request_id: '0', errors: [{ code: 'NotBlank', path: 'destination', detail: 'This value should not be blank.' }] }]);
    if (!store.removeWebhook(dest)) return notFound(res, 'Webhook not found');
    noContent(res);
  });

  // ---------------------------------------------------------------- fallback
  app.use('/api', (_req, res) => notFound(res, 'Method not found'));
  app.use((_req, res) => {
    res.status(404).set('Content-Type', 'text/html').send('<html><body><h1>404 Not Found</h1></body></html>');
  });
  return app;
}
