/**
 * Emulator of a 1C-style inventory HTTP service implementing `apps/inventory-http/openapi.yaml`:
 * a real HTTP server on 127.0.0.1 (base path `/hs/reglament/v1`, as a 1C HTTP service publishes it).
 *
 * What it keeps as the contract says: Bearer key (401 otherwise), `Idempotency-Key` required on
 * every write (400 without) and a repeated key answers the stored first answer without changing
 * anything (422 if the same key comes with another request), first deal wins (409 with the holder),
 * a booking by the holding deal is an idempotent success that moves `expiresAt`, release by a deal
 * that does not hold the unit is 409 `BOOKING_HELD_BY_OTHER_DEAL`, releasing a free unit is 200,
 * versions grow on every change, the change feed with a cursor, and optional signed push callbacks
 * (`X-Reglament-Signature: sha256=<hmac of the raw body>`), at least once.
 *
 * ```ts
 * const onec = await InventoryHttpEmulator.start({ apiKey: 'k' });
 * onec.unit('5-101')?.status  // 'available'
 * ```
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Response } from 'express';

export type OneCStatus = 'available' | 'booked' | 'in_execution' | 'sold' | 'unavailable';

export interface OneCUnit {
  id: string;
  number: string;
  project: string | null;
  house: string | null;
  status: OneCStatus;
  booking: { dealId: string; expiresAt: string | null; paid: boolean } | null;
  version: number;
}

export interface OneCChange {
  event: 'unit.status_changed';
  unitId: string;
  from: OneCStatus | null;
  to: OneCStatus;
  dealId: string | null;
  occurredAt: string;
  version: number;
}

export interface OneCRecordedCall {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  body: unknown;
  status: number;
}

export interface InventoryHttpOptions {
  apiKey: string;
  /** Units as `[project, house, number]`; default: «ЖК Северный», «Корпус 1», numbers 5-101…5-112. */
  units?: Array<[string, string, string]>;
  /** Push callbacks to this URL, signed with `callbackSecret`. */
  callbackUrl?: string;
  callbackSecret?: string;
  port?: number;
}

const DEAL_ID = /^(b24|amo):[0-9]{1,20}$/;
const UNIT_ID = /^[A-Za-z0-9._~-]{1,64}$/;
const STATUSES: OneCStatus[] = ['available', 'booked', 'in_execution', 'sold', 'unavailable'];
const RELEASE_REASONS = ['lost', 'expired', 'unit_changed', 'manual', 'drift'];
export const ONEC_BASE_PATH = '/hs/reglament/v1';

export class InventoryHttpEmulator {
  readonly calls: OneCRecordedCall[] = [];
  readonly changes: OneCChange[] = [];
  readonly deliveries: Array<{ status: number; body: string }> = [];
  private readonly units = new Map<string, OneCUnit>();
  private readonly idempotency = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  private server!: http.Server;
  private port = 0;
  private pending: Promise<unknown>[] = [];
  callbackUrl: string | undefined;

  private constructor(private readonly opts: InventoryHttpOptions) {
    this.callbackUrl = opts.callbackUrl;
    const list = opts.units ?? Array.from({ length: 12 }, (_, i) => ['ЖК Северный', 'Корпус 1', `5-${101 + i}`] as [string, string, string]);
    list.forEach(([project, house, number], i) => {
      const id = `u${1001 + i}`;
      this.units.set(id, { id, number, project, house, status: 'available', booking: null, version: 1 });
    });
  }

  static async start(opts: InventoryHttpOptions): Promise<InventoryHttpEmulator> {
    const emu = new InventoryHttpEmulator(opts);
    emu.server = http.createServer(emu.createApp());
    await new Promise<void>((resolve, reject) => {
      emu.server.once('error', reject);
      emu.server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    emu.port = (emu.server.address() as AddressInfo).port;
    return emu;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}${ONEC_BASE_PATH}`;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.pending);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Deep copy of a unit by id or number. */
  unit(idOrNumber: string): OneCUnit | undefined {
    const u = this.units.get(idOrNumber) ?? [...this.units.values()].find((x) => x.number === idOrNumber);
    return u ? structuredClone(u) : undefined;
  }

  allUnits(): OneCUnit[] {
    return [...this.units.values()].map((u) => structuredClone(u));
  }

  /** Someone in 1C changes a unit by hand (or the website sells it): a change in the feed, pushed if configured. */
  setByHand(idOrNumber: string, status: OneCStatus, dealId: string | null = null, expiresAt: string | null = null): void {
    const u = this.units.get(idOrNumber) ?? [...this.units.values()].find((x) => x.number === idOrNumber);
    if (!u) throw new Error(`1C emulator: no unit ${idOrNumber}`);
    this.apply(u, status, status === 'available' || status === 'unavailable' ? null : { dealId: dealId ?? u.booking?.dealId ?? '', expiresAt, paid: false });
  }

  /** Waits for push deliveries in flight. */
  async settle(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      await Promise.allSettled(batch);
    }
  }

  private apply(u: OneCUnit, status: OneCStatus, booking: OneCUnit['booking']): void {
    const from = u.status;
    u.status = status;
    u.booking = booking && booking.dealId ? booking : null;
    u.version += 1;
    if (from === status) return;
    const change: OneCChange = { event: 'unit.status_changed', unitId: u.id, from, to: status, dealId: booking?.dealId || null, occurredAt: new Date().toISOString(), version: u.version };
    this.changes.push(change);
    this.push(change);
  }

  private push(change: OneCChange): void {
    if (!this.callbackUrl || !this.opts.callbackSecret) return;
    const body = JSON.stringify(change);
    const signature = `sha256=${createHmac('sha256', this.opts.callbackSecret).update(body).digest('hex')}`;
    const delivery = fetch(this.callbackUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Reglament-Signature': signature }, body })
      .then((res) => this.deliveries.push({ status: res.status, body }))
      .catch(() => this.deliveries.push({ status: 0, body }));
    this.pending.push(delivery);
  }

  private createApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.use(express.json({ limit: '100kb' }));
    app.use((req, res, next) => {
      const call: OneCRecordedCall = {
        method: req.method,
        path: req.path,
        query: req.query as Record<string, unknown>,
        headers: { authorization: req.headers.authorization, 'idempotency-key': req.headers['idempotency-key'] as string | undefined },
        body: req.body,
        status: 0,
      };
      this.calls.push(call);
      res.on('finish', () => (call.status = res.statusCode));
      next();
    });
    const base = ONEC_BASE_PATH;
    app.use(base, (req, res, next) => {
      if (req.headers.authorization !== `Bearer ${this.opts.apiKey}`) return error(res, 401, 'UNAUTHORIZED', 'Неверный ключ API');
      if (['POST', 'PATCH', 'DELETE'].includes(req.method)) {
        const key = req.headers['idempotency-key'];
        if (typeof key !== 'string' || !key || key.length > 200) return error(res, 400, 'VALIDATION_ERROR', 'Нужен заголовок Idempotency-Key');
        const fingerprint = JSON.stringify([req.method, req.path, req.query, req.body ?? null]);
        const seen = this.idempotency.get(key);
        if (seen) {
          if (seen.fingerprint !== fingerprint) return error(res, 422, 'VALIDATION_ERROR', 'Idempotency-Key повторён с другим запросом');
          return void res.status(seen.status).json(seen.body);
        }
        const json = res.json.bind(res);
        res.json = (body: unknown) => {
          if (res.statusCode < 500) this.idempotency.set(key, { fingerprint, status: res.statusCode, body });
          return json(body);
        };
      }
      next();
    });

    app.get(`${base}/health`, (_req, res) => void res.json({ status: 'ok', version: '1.0.0' }));

    app.get(`${base}/units`, (req, res) => {
      const number = typeof req.query.number === 'string' ? req.query.number : '';
      if (!number || number.length > 64) return error(res, 400, 'VALIDATION_ERROR', 'number обязателен');
      const items = [...this.units.values()].filter(
        (u) => u.number.toLowerCase() === number.toLowerCase() && (!req.query.project || u.project === req.query.project) && (!req.query.house || u.house === req.query.house),
      );
      res.json({ items });
    });

    app.get(`${base}/units/:unitId`, (req, res) => {
      const u = this.lookup(req.params.unitId, res);
      if (u) res.json(u);
    });

    app.post(`${base}/units/:unitId/booking`, (req, res) => {
      const u = this.lookup(req.params.unitId, res);
      if (!u) return;
      const b = req.body as Record<string, unknown>;
      const extra = Object.keys(b ?? {}).filter((k) => !['dealId', 'expiresAt', 'paid', 'dealTitle', 'responsible'].includes(k));
      if (!isDeal(b?.dealId) || !isDate(b?.expiresAt) || (b.paid !== undefined && typeof b.paid !== 'boolean') || extra.length) {
        return error(res, 400, 'VALIDATION_ERROR', 'Ожидается {dealId, expiresAt, paid?}');
      }
      if (u.status === 'sold' || u.status === 'unavailable' || (u.booking && u.booking.dealId !== b.dealId)) return this.conflict(res, u);
      if (u.booking?.dealId === b.dealId && u.status !== 'booked') return this.conflict(res, u); // already in execution/sold for this deal
      this.apply(u, 'booked', { dealId: b.dealId as string, expiresAt: b.expiresAt as string, paid: Boolean(b.paid) });
      res.json(u);
    });

    app.patch(`${base}/units/:unitId/booking`, (req, res) => {
      const u = this.lookup(req.params.unitId, res);
      if (!u) return;
      const b = req.body as Record<string, unknown>;
      if (!isDeal(b?.dealId) || !isDate(b?.expiresAt)) return error(res, 400, 'VALIDATION_ERROR', 'Ожидается {dealId, expiresAt}');
      if (!u.booking || u.booking.dealId !== b.dealId || u.status !== 'booked') return this.conflict(res, u, 'BOOKING_HELD_BY_OTHER_DEAL');
      u.booking.expiresAt = b.expiresAt as string;
      u.version += 1;
      res.json(u);
    });

    app.delete(`${base}/units/:unitId/booking`, (req, res) => {
      const u = this.lookup(req.params.unitId, res);
      if (!u) return;
      const dealId = req.query.dealId;
      if (!isDeal(dealId) || !RELEASE_REASONS.includes(String(req.query.reason))) return error(res, 400, 'VALIDATION_ERROR', 'Ожидается ?dealId=&reason=');
      if (!u.booking) return void res.json(u);
      if (u.booking.dealId !== dealId) return this.conflict(res, u, 'BOOKING_HELD_BY_OTHER_DEAL');
      this.apply(u, 'available', null);
      res.json(u);
    });

    app.post(`${base}/units/:unitId/sale`, (req, res) => {
      const u = this.lookup(req.params.unitId, res);
      if (!u) return;
      const b = req.body as Record<string, unknown>;
      if (!isDeal(b?.dealId) || (b.stage !== 'in_execution' && b.stage !== 'sold')) return error(res, 400, 'VALIDATION_ERROR', 'Ожидается {dealId, stage}');
      if (u.status === 'unavailable' || (u.booking && u.booking.dealId !== b.dealId) || (u.status === 'sold' && u.booking?.dealId !== b.dealId)) return this.conflict(res, u);
      this.apply(u, b.stage as OneCStatus, { dealId: b.dealId as string, expiresAt: null, paid: u.booking?.paid ?? false });
      res.json(u);
    });

    app.get(`${base}/changes`, (req, res) => {
      const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 500);
      const cursor = req.query.cursor;
      if (cursor === undefined) return void res.json({ items: [], cursor: String(this.changes.length) });
      if (typeof cursor !== 'string' || !/^\d+$/.test(cursor)) return error(res, 400, 'VALIDATION_ERROR', 'cursor не распознан');
      const start = Math.min(Number(cursor), this.changes.length);
      const items = this.changes.slice(start, start + limit);
      res.json({ items, cursor: String(start + items.length) });
    });

    app.use(base, (_req, res) => error(res, 404, 'VALIDATION_ERROR', 'Нет такого метода'));
    app.use((_req, res) => void res.status(404).type('text/html').send('<html><body>404</body></html>'));
    return app;
  }

  private lookup(id: string | undefined, res: Response): OneCUnit | null {
    const u = id && UNIT_ID.test(id) ? this.units.get(id) : undefined;
    if (!u) {
      error(res, 404, 'UNIT_NOT_FOUND', `Помещение ${id} не найдено`);
      return null;
    }
    return u;
  }

  private conflict(res: Response, u: OneCUnit, code?: string): void {
    const c = code ?? (u.status === 'sold' ? 'UNIT_SOLD' : u.status === 'unavailable' ? 'UNIT_UNAVAILABLE' : 'UNIT_ALREADY_BOOKED');
    res.status(409).json({ code: c, message: 'Помещение занято другой сделкой', holder: { status: u.status, dealId: u.booking?.dealId ?? null, expiresAt: u.booking?.expiresAt ?? null } });
  }
}

function error(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ code, message });
}

const isDeal = (v: unknown): v is string => typeof v === 'string' && DEAL_ID.test(v);
const isDate = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v));
export { STATUSES as ONEC_STATUSES };
