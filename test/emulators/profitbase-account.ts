/**
 * Emulator of one Profitbase (cloud) account, API v4 (research inventory.md §1 and §5):
 * a real HTTP server on 127.0.0.1, base path `/api/v4/json`.
 *
 * ```ts
 * const pb = await ProfitbaseEmulator.start({ apiKey: 'app-123' });
 * // POST `${pb.url}/authentication` {type:'api-app', credentials:{pb_api_key}} → {access_token, remaining_time}
 * pb.unit(pb.units()[0].id).status  // 'AVAILABLE'
 * await pb.stop();
 * ```
 *
 * Faithful (documented or seen in clients): auth body and response, token in `?access_token=` or
 * `Authorization: Bearer`, 403 on an expired/invalid token, `Content-Type: application/json`
 * required for bodies, the `GET /property` envelopes (`{status:'success', data:[…]}` and
 * `{data:{properties, filteredCount}}` with `returnFilteredCount`), `{success:true, data}` for
 * `/house` and `/custom-status/list`, base statuses + `customStatusId`, the unit object of §5.1,
 * the `property_already_in_deal` conflict, 1 request/second per account.
 *
 * The real consequence of exceeding 1 rps is that **the sender IP gets blocked** (help.profitbase.ru
 * article 52900). The emulator answers a too-early request with 429 and, after
 * `blockAfterViolations` violations within a minute, answers every request with 403 HTML
 * ("IP is blocked") until `pb.unblock()` — a client must never rely on seeing 429s.
 *
 * UNCONFIRMED shapes (tolerant parsers needed): error bodies (`{status:'error', code, message}`),
 * success bodies of status-change / addPropertyDeal / removePropertyDeal / prolong, the history
 * record shape, date formats (`YYYY-MM-DD HH:mm:ss` Moscow time), what `full=true` adds (the
 * emulator always returns full objects), whether `status-change` detaches deals (it does not here).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import qs from 'qs';
import {
  BASE_STATUSES,
  DEFAULT_CUSTOM_STATUSES,
  makeUnits,
  pbDate,
  pbDateTime,
  pbTime,
  type PbBaseStatus,
  type PbCustomStatus,
  type PbHouse,
  type PbUnit,
} from './profitbase/fixtures';

export type { PbBaseStatus, PbCustomStatus, PbHouse, PbUnit };

export interface ProfitbaseOptions {
  apiKey: string;
  /** Account number, as in `pb{ACCOUNT_ID}.profitbase.ru` (default 14886). */
  accountId?: number;
  /** Number of units in the single default house (default 12). */
  units?: number;
  houseName?: string;
  tokenTtlSec?: number;
  /** Minimum spacing between requests of the account (real: 1000 ms = 1 rps). 0 disables the limit. */
  minIntervalMs?: number;
  /** After this many violations within a minute the IP is blocked (403 HTML) until `unblock()`. */
  blockAfterViolations?: number;
  /** Booking length set by `crm/addPropertyDeal` (default 3 days). */
  bookingDays?: number;
  port?: number;
}

export interface PbRecordedCall {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: unknown;
  at: number;
  status: number;
}

export interface PbHistoryRecord {
  id: number;
  propertyId: number;
  dealId: number | null;
  oldStatus: PbBaseStatus;
  newStatus: PbBaseStatus;
  oldCustomStatusId: number;
  newCustomStatusId: number;
  date: string;
  source: 'api' | 'crm' | 'ui';
}

const IP_BLOCKED_HTML =
  '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<center>IP is blocked</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const TOO_MANY_HTML =
  '<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

function pbError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ status: 'error', code, message });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function qList(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v)) return v.flatMap((x) => qList(x));
  if (isObj(v)) return Object.values(v).flatMap((x) => qList(x));
  return [];
}

export class ProfitbaseEmulator {
  /** API base: `${origin}/api/v4/json` (what the app configures instead of `https://pbNNN.profitbase.ru/api/v4/json`). */
  get url(): string {
    return `${this.origin}/api/v4/json`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  readonly accountId: number;
  readonly calls: PbRecordedCall[] = [];
  readonly stats = { calls: 0, authCalls: 0, rateLimited: 0, blocked: 0, statusChanges: 0 };
  readonly history: PbHistoryRecord[] = [];
  customStatuses: PbCustomStatus[] = DEFAULT_CUSTOM_STATUSES.map((s) => ({ ...s }));

  private readonly house: PbHouse;
  private readonly unitMap = new Map<number, PbUnit>();
  /** dealId → unit ids */
  private readonly deals = new Map<number, Set<number>>();
  private readonly tokens = new Map<string, number>();
  /** propertyId → the booking queue, first in line first. */
  private readonly queues = new Map<number, Array<{ id: number; propertyId: number; dealId: number }>>();
  private queueSeq = 0;
  private lastAcceptedAt = Number.NEGATIVE_INFINITY;
  private violations: number[] = [];
  private blockedFlag = false;
  private clockOffset = 0;
  private historySeq = 0;
  private server!: http.Server;
  private port = 0;

  private constructor(private readonly opts: ProfitbaseOptions) {
    this.accountId = opts.accountId ?? 14886;
    this.house = {
      id: 99001,
      title: opts.houseName ?? 'ЖК Демо, корпус 1',
      projectId: 50001,
      projectName: 'ЖК Демо',
      address: 'г. Москва, ул. Демонстрационная, 1',
      isArchive: false,
    };
    for (const u of makeUnits(opts.units ?? 12, this.house, 10_301_001)) this.unitMap.set(u.id, u);
  }

  static async start(opts: ProfitbaseOptions): Promise<ProfitbaseEmulator> {
    const pb = new ProfitbaseEmulator(opts);
    pb.server = http.createServer(pb.createApp());
    await new Promise<void>((resolve, reject) => {
      pb.server.once('error', reject);
      pb.server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    pb.port = (pb.server.address() as AddressInfo).port;
    return pb;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ------------------------------------------------------------------ helpers for tests/demo

  now(): number {
    return Date.now() + this.clockOffset;
  }

  advanceClock(ms: number): void {
    this.clockOffset += ms;
  }

  /** A deep copy of a unit (undefined when unknown). */
  unit(id: number): PbUnit | undefined {
    const u = this.unitMap.get(id);
    return u ? (JSON.parse(JSON.stringify(u)) as PbUnit) : undefined;
  }

  units(): PbUnit[] {
    return [...this.unitMap.values()].map((u) => JSON.parse(JSON.stringify(u)) as PbUnit);
  }

  houses(): PbHouse[] {
    return [{ ...this.house }];
  }

  /** Deal ids queued for a unit, first in line first. */
  queueOf(unitId: number): number[] {
    return (this.queues.get(unitId) ?? []).map((q) => q.dealId);
  }

  /** Deal the unit is attached to, if any. */
  dealOf(unitId: number): number | undefined {
    for (const [dealId, ids] of this.deals) if (ids.has(unitId)) return dealId;
    return undefined;
  }

  /** A person changes the status in the Profitbase UI (no API call, no rate limit). */
  setUnitStatus(unitId: number, status: PbBaseStatus, customStatusId?: number): void {
    const u = this.unitMap.get(unitId);
    if (!u) throw new Error(`Profitbase emulator: unit ${unitId} not found`);
    this.applyStatus(u, status, customStatusId, this.dealOf(unitId) ?? null, 'ui');
  }

  expireTokens(): void {
    for (const k of this.tokens.keys()) this.tokens.set(k, this.now() - 1);
  }

  get isBlocked(): boolean {
    return this.blockedFlag;
  }

  /** Lifts the IP block (in reality: a support request). */
  unblock(): void {
    this.blockedFlag = false;
    this.violations = [];
    this.lastAcceptedAt = Number.NEGATIVE_INFINITY;
  }

  // ------------------------------------------------------------------ state changes

  private customFor(status: PbBaseStatus): number {
    return this.customStatuses.find((s) => s.baseStatus === status)?.id ?? 0;
  }

  private applyStatus(u: PbUnit, status: PbBaseStatus, customStatusId: number | undefined, dealId: number | null, source: PbHistoryRecord['source']): void {
    const oldStatus = u.status;
    const oldCustom = u.customStatusId;
    const now = this.now();
    u.status = status;
    u.customStatusId = customStatusId ?? this.customFor(status);
    if (status === 'AVAILABLE' || status === 'UNAVAILABLE') {
      u.bookedAt = null;
      u.bookedUntilDate = null;
      u.bookedUntilTime = null;
      u.soldAt = null;
    }
    if (status === 'BOOKED' && oldStatus !== 'BOOKED') {
      u.bookedAt = pbDateTime(now);
      const until = now + (this.opts.bookingDays ?? 3) * 86_400_000;
      u.bookedUntilDate = pbDate(until);
      u.bookedUntilTime = pbTime(until);
    }
    if (status === 'SOLD' && oldStatus !== 'SOLD') u.soldAt = pbDateTime(now);
    if (oldStatus !== status || oldCustom !== u.customStatusId) {
      this.history.push({
        id: ++this.historySeq,
        propertyId: u.id,
        dealId,
        oldStatus,
        newStatus: status,
        oldCustomStatusId: oldCustom,
        newCustomStatusId: u.customStatusId,
        date: pbDateTime(now),
        source,
      });
      u.countHistoryRecord = String(Number(u.countHistoryRecord) + 1);
      this.stats.statusChanges++;
    }
  }

  // ------------------------------------------------------------------ HTTP

  private createApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.disable('etag');
    app.set('query parser', (str: string) => qs.parse(str, { depth: 5, arrayLimit: 1000 }));
    app.use(express.raw({ type: () => true, limit: '5mb' }));

    // record
    app.use((req, res, next) => {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      let parsed: unknown;
      let jsonError = false;
      const isJson = String(req.headers['content-type'] ?? '').toLowerCase().includes('application/json');
      if (raw.trim() !== '') {
        try {
          parsed = JSON.parse(raw);
        } catch {
          jsonError = true;
          parsed = raw;
        }
      }
      res.locals.raw = raw;
      res.locals.body = parsed;
      res.locals.jsonError = jsonError;
      res.locals.isJson = isJson;
      const call: PbRecordedCall = { method: req.method, path: req.path, query: req.query as Record<string, unknown>, body: parsed, at: Date.now(), status: 0 };
      this.calls.push(call);
      this.stats.calls++;
      res.on('finish', () => {
        call.status = res.statusCode;
      });
      next();
    });

    // IP block, then the 1 rps limit (every request of the account counts, authentication included)
    app.use((_req, res, next) => {
      if (this.blockedFlag) {
        this.stats.blocked++;
        res.status(403).set('Content-Type', 'text/html').send(IP_BLOCKED_HTML);
        return;
      }
      const minInterval = this.opts.minIntervalMs ?? 1000;
      const t = Date.now();
      if (minInterval > 0 && t - this.lastAcceptedAt < minInterval) {
        this.violations = this.violations.filter((v) => v > t - 60_000);
        this.violations.push(t);
        this.stats.rateLimited++;
        if (this.violations.length >= (this.opts.blockAfterViolations ?? 3)) this.blockedFlag = true;
        res.status(429).set('Content-Type', 'text/html').send(TOO_MANY_HTML);
        return;
      }
      this.lastAcceptedAt = t;
      next();
    });

    const base = '/api/v4/json';

    // bodies must be JSON
    app.use(base, (req, res, next) => {
      if (['POST', 'PUT', 'PATCH'].includes(req.method) && (res.locals.raw as string).trim() !== '') {
        if (!res.locals.isJson) return pbError(res, 415, 'unsupported_media_type', 'Content-Type must be application/json');
        if (res.locals.jsonError) return pbError(res, 400, 'invalid_json', 'Request body is not valid JSON');
      }
      next();
    });

    app.post(`${base}/authentication`, (_req, res) => {
      this.stats.authCalls++;
      const b = res.locals.body;
      if (!isObj(b) || b.type !== 'api-app' || !isObj(b.credentials)) {
        return pbError(res, 400, 'invalid_request', 'Expected {"type":"api-app","credentials":{"pb_api_key":"…"}}');
      }
      if (b.credentials.pb_api_key !== this.opts.apiKey) return pbError(res, 401, 'invalid_credentials', 'Invalid API key');
      const ttl = this.opts.tokenTtlSec ?? 86_400;
      const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256' })).toString('base64url');
      const iat = Math.floor(this.now() / 1000);
      const payload = Buffer.from(
        JSON.stringify({ iat, exp: iat + ttl, account_id: this.accountId, type: 'api-app', jti: randomBytes(12).toString('hex') }),
      ).toString('base64url');
      const token = `${header}.${payload}.${randomBytes(64).toString('base64url')}`;
      this.tokens.set(token, this.now() + ttl * 1000);
      res.status(200).json({ access_token: token, remaining_time: ttl });
    });

    // token: ?access_token= or Authorization: Bearer
    app.use(base, (req, res, next) => {
      const fromQuery = typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
      const m = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
      const token = fromQuery ?? m?.[1]?.trim();
      const exp = token ? this.tokens.get(token) : undefined;
      if (exp === undefined || exp <= this.now()) {
        return pbError(res, 403, 'access_denied', 'Access token is invalid or expired');
      }
      next();
    });

    app.get(`${base}/property`, (req, res) => this.listProperties(req, res));

    app.get(`${base}/property/deal/:dealId`, (req, res) => {
      const ids = this.deals.get(Number(req.params.dealId));
      const data = ids ? [...ids].map((id) => this.unitMap.get(id)).filter((u): u is PbUnit => !!u) : [];
      res.json({ status: 'success', data });
    });

    app.get(`${base}/property/history/:id`, (req, res) => {
      const id = Number(req.params.id);
      if (!this.unitMap.has(id)) return pbError(res, 404, 'property_not_found', `Property ${id} not found`);
      const offset = toInt(req.query.offset) ?? 0;
      const limit = toInt(req.query.limit) ?? 100;
      res.json({ status: 'success', data: this.history.filter((h) => h.propertyId === id).slice(offset, offset + limit) });
    });

    app.post(`${base}/properties/:id/status-change`, (req, res) => {
      const id = Number(req.params.id);
      const u = this.unitMap.get(id);
      if (!u) return pbError(res, 404, 'property_not_found', `Property ${id} not found`);
      const b = res.locals.body;
      const status = isObj(b) ? b.status : undefined;
      if (typeof status !== 'string' || !(BASE_STATUSES as readonly string[]).includes(status)) {
        return pbError(res, 400, 'invalid_status', `Status must be one of ${BASE_STATUSES.join(', ')}`);
      }
      let custom: number | undefined;
      if (isObj(b) && b.customStatusId !== undefined) {
        custom = toInt(b.customStatusId);
        const cs = this.customStatuses.find((s) => s.id === custom);
        if (!cs || cs.baseStatus !== status) return pbError(res, 400, 'invalid_custom_status', 'customStatusId does not match the base status');
      }
      this.applyStatus(u, status as PbBaseStatus, custom, this.dealOf(id) ?? null, 'api');
      res.json({ status: 'success', data: { id: u.id, status: u.status, customStatusId: u.customStatusId } });
    });

    app.get(`${base}/custom-status/list`, (req, res) => {
      const crm = req.query.crm;
      if (crm !== undefined && crm !== 'amo' && crm !== 'bitrix') return pbError(res, 400, 'invalid_crm', 'crm must be amo or bitrix');
      const id = toInt(req.query.id);
      const list = id !== undefined ? this.customStatuses.filter((s) => s.id === id) : this.customStatuses;
      res.json({ success: true, data: { customStatuses: list } });
    });

    app.get(`${base}/house`, (_req, res) => {
      res.json({ success: true, data: [this.house] });
    });

    app.get(`${base}/projects`, (_req, res) => {
      res.json([{ id: this.house.projectId, title: this.house.projectName, isArchive: false }]);
    });

    app.post(`${base}/crm/addPropertyDeal`, (_req, res) => {
      const b = res.locals.body;
      const dealId = isObj(b) ? toInt(b.dealId) : undefined;
      const propertyId = isObj(b) ? toInt(b.propertyId) : undefined;
      if (dealId === undefined || propertyId === undefined) return pbError(res, 400, 'invalid_request', 'dealId and propertyId are required');
      const u = this.unitMap.get(propertyId);
      if (!u) return pbError(res, 404, 'property_not_found', `Property ${propertyId} not found`);
      const current = this.dealOf(propertyId);
      if (current === dealId) return res.json({ status: 'success', data: { dealId, propertyId } }); // idempotent
      if (current !== undefined) {
        return pbError(res, 409, 'property_already_in_deal', `Property ${propertyId} is already attached to deal ${current}`);
      }
      if (u.status === 'SOLD' || u.status === 'UNAVAILABLE') {
        return pbError(res, 400, 'property_not_available', `Property ${propertyId} has status ${u.status}`);
      }
      const set = this.deals.get(dealId) ?? new Set<number>();
      set.add(propertyId);
      this.deals.set(dealId, set);
      u.countDeals += 1;
      this.applyStatus(u, 'BOOKED', undefined, dealId, 'crm');
      res.json({ status: 'success', data: { dealId, propertyId } });
    });

    app.post(`${base}/crm/removePropertyDeal`, (_req, res) => {
      const b = res.locals.body;
      const dealId = isObj(b) ? toInt(b.dealId) : undefined;
      if (dealId === undefined) return pbError(res, 400, 'invalid_request', 'dealId is required');
      const ids = this.deals.get(dealId);
      if (!ids || ids.size === 0) return pbError(res, 404, 'deal_not_found', `Deal ${dealId} has no properties`);
      this.deals.delete(dealId);
      for (const id of ids) {
        const u = this.unitMap.get(id);
        if (!u) continue;
        u.countDeals = Math.max(0, u.countDeals - 1);
        if (u.status === 'BOOKED' || u.status === 'EXECUTION') this.applyStatus(u, 'AVAILABLE', undefined, dealId, 'crm');
      }
      res.json({ status: 'success', data: { dealId, propertyIds: [...ids] } });
    });

    app.get(`${base}/crm/deals`, (req, res) => {
      const only = toInt(req.query.dealId);
      const data = [...this.deals.entries()]
        .filter(([d]) => only === undefined || d === only)
        .flatMap(([dealId, ids]) => [...ids].map((propertyId) => ({ dealId, propertyId })));
      res.json({ status: 'success', data });
    });

    // Deals a unit is attached to (research §1.3 "CRM: deals of a unit").
    app.get(`${base}/crm/deals/property/:propertyId`, (req, res) => {
      const id = Number(req.params.propertyId);
      if (!this.unitMap.has(id)) return pbError(res, 404, 'property_not_found', `Property ${id} not found`);
      const data = [...this.deals.entries()].filter(([, ids]) => ids.has(id)).map(([dealId]) => ({ dealId, propertyId: id }));
      res.json({ status: 'success', data });
    });

    // Booking queue (очередь бронирования, research §1.3): deals waiting for a unit, in order.
    app.post(`${base}/queue-reserve`, (_req, res) => {
      const b = res.locals.body;
      const dealId = isObj(b) ? toInt(b.dealId) : undefined;
      const propertyId = isObj(b) ? toInt(b.propertyId) : undefined;
      if (dealId === undefined || propertyId === undefined) return pbError(res, 400, 'invalid_request', 'propertyId and dealId are required');
      if (!this.unitMap.has(propertyId)) return pbError(res, 404, 'property_not_found', `Property ${propertyId} not found`);
      const queue = this.queues.get(propertyId) ?? [];
      let entry = queue.find((q) => q.dealId === dealId);
      if (!entry) {
        entry = { id: ++this.queueSeq, propertyId, dealId };
        queue.push(entry);
        this.queues.set(propertyId, queue);
      }
      res.json({ status: 'success', data: { ...entry, position: queue.indexOf(entry) + 1 } });
    });

    app.get(`${base}/queue-reserve/list`, (req, res) => {
      const propertyId = toInt(req.query.propertyId);
      if (propertyId === undefined) return pbError(res, 400, 'invalid_request', 'propertyId is required');
      res.json({ status: 'success', data: (this.queues.get(propertyId) ?? []).map((q, i) => ({ ...q, position: i + 1 })) });
    });

    app.post(`${base}/queue-reserve/delete`, (req, res) => {
      const id = toInt(req.query.id);
      for (const [propertyId, queue] of this.queues) this.queues.set(propertyId, queue.filter((q) => q.id !== id));
      res.json({ status: 'success' });
    });

    app.patch(`${base}/reserve/prolong`, (_req, res) => {
      const b = res.locals.body;
      const propertyId = isObj(b) ? toInt(b.propertyId) : undefined;
      const date = isObj(b) && typeof b.date === 'string' ? b.date : undefined;
      const u = propertyId !== undefined ? this.unitMap.get(propertyId) : undefined;
      if (!u) return pbError(res, 404, 'property_not_found', 'Property not found');
      const m = date ? /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})/.exec(date) : null;
      if (!m?.[1] || !m[2]) return pbError(res, 400, 'invalid_date', 'date must be "YYYY-MM-DD HH:mm"');
      if (u.status !== 'BOOKED') return pbError(res, 400, 'property_not_booked', `Property ${u.id} is not booked`);
      u.bookedUntilDate = m[1];
      u.bookedUntilTime = m[2];
      res.json({ status: 'success', data: { propertyId: u.id, bookedUntilDate: u.bookedUntilDate, bookedUntilTime: u.bookedUntilTime } });
    });

    app.post(`${base}/history`, (_req, res) => {
      const b = isObj(res.locals.body) ? res.locals.body : {};
      const offset = toInt(b.offset) ?? 0;
      const limit = Math.min(toInt(b.limit) ?? 100, 1000);
      const ids = Array.isArray(b.property_ids) ? b.property_ids.map((x) => toInt(x)).filter((x): x is number => x !== undefined) : [];
      const from = typeof b.from === 'string' ? b.from : undefined;
      const to = typeof b.to === 'string' ? b.to : undefined;
      const list = this.history.filter(
        (h) => (ids.length === 0 || ids.includes(h.propertyId)) && (!from || h.date >= from) && (!to || h.date <= to),
      );
      res.json({ status: 'success', data: list.slice(offset, offset + limit) });
    });

    app.use(base, (_req, res) => pbError(res, 404, 'not_found', 'Method not found'));
    app.use((_req, res) => {
      res.status(404).set('Content-Type', 'text/html').send('<html><body><h1>404 Not Found</h1></body></html>');
    });
    return app;
  }

  private listProperties(req: Request, res: Response): void {
    const q = req.query as Record<string, unknown>;
    let list = [...this.unitMap.values()];
    const ids = qList(q.id).concat(qList(q.ids)).map(Number).filter(Number.isInteger);
    if (ids.length) list = list.filter((u) => ids.includes(u.id));
    const houses = qList(q.houseId).map(Number);
    if (houses.length) list = list.filter((u) => houses.includes(u.house_id));
    const projects = qList(q.projectId).concat(qList(q.projectIds)).map(Number);
    if (projects.length) list = list.filter(() => projects.includes(this.house.projectId));
    const statuses = qList(q.status);
    if (statuses.length) list = list.filter((u) => statuses.includes(u.status));
    const minFloor = toInt(q.minFloor);
    const maxFloor = toInt(q.maxFloor);
    if (minFloor !== undefined) list = list.filter((u) => u.floor >= minFloor);
    if (maxFloor !== undefined) list = list.filter((u) => u.floor <= maxFloor);
    const offset = toInt(q.offset) ?? 0;
    const limit = toInt(q.limit) ?? 100;
    const page = list.slice(offset, offset + limit);
    if (q.returnFilteredCount === 'true' || q.returnFilteredCount === '1') {
      res.json({ status: 'success', data: { properties: page, filteredCount: list.length } });
      return;
    }
    res.json({ status: 'success', data: page });
  }
}
