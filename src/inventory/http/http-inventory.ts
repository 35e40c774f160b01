import { PermanentCrmError, TransientError } from '../../errors';
import type { HttpConnection } from '../connection-settings';
import {
  InventoryConfigError,
  UNIT_STATUSES,
  type BookResult,
  type ChangePage,
  type InventoryDeal,
  type InventoryPort,
  type InventoryUnit,
  type ReleaseReason,
  type ReleaseResult,
  type SaleResult,
  type UnitConflict,
  type UnitStatus,
} from '../inventory-port';
import { normalizeUnitNumber } from '../unit-number';

/**
 * A 1C (or any) inventory service implementing `apps/inventory-http/openapi.yaml` behind the
 * InventoryPort. Every write carries an `Idempotency-Key` derived from the deal, the operation and
 * the unit, so a retried job repeats the same write and the service answers it once.
 */
interface WireUnit {
  id: string;
  number: string;
  project?: string | null;
  house?: string | null;
  status: string;
  booking?: { dealId: string; expiresAt: string | null; paid: boolean } | null;
}

interface WireConflict {
  code?: string;
  message?: string;
  holder?: { status?: string; dealId?: string | null; expiresAt?: string | null };
}

const TIMEOUT_MS = 15_000;
const CRM_PREFIX = { bitrix24: 'b24', amocrm: 'amo' } as const;

export class HttpInventory implements InventoryPort {
  readonly system = 'http' as const;

  constructor(private readonly connection: HttpConnection, private readonly timeoutMs = TIMEOUT_MS) {}

  dealKey(deal: InventoryDeal): string {
    return `${CRM_PREFIX[deal.crm]}:${deal.id}`;
  }

  async health(): Promise<{ status: string; version?: string }> {
    const res = await this.call('GET', '/health');
    return res.body as { status: string; version?: string };
  }

  async getUnit(unitId: string): Promise<InventoryUnit | null> {
    if (!/^[A-Za-z0-9._~-]{1,64}$/.test(unitId)) return null;
    const res = await this.call('GET', `/units/${unitId}`, { expected: [404] });
    return res.status === 200 ? toUnit(res.body as WireUnit) : null;
  }

  async findUnit(text: string): Promise<InventoryUnit | null> {
    const number = normalizeUnitNumber(text);
    if (!number) return null;
    const query = new URLSearchParams({ number });
    if (this.connection.project) query.set('project', this.connection.project);
    if (this.connection.house) query.set('house', this.connection.house);
    const res = await this.call('GET', `/units?${query}`);
    const items = ((res.body as { items?: WireUnit[] }).items ?? []).map(toUnit);
    // Several units with one number (no project/house configured) are ambiguous: never guess.
    if (items.length === 1) return items[0]!;
    if (items.length > 1) throw new InventoryConfigError(`${items.length} units are numbered «${number}»: set unitStatusSync.inventory.project or .house`, 'not_found');
    return this.getUnit(number);
  }

  async book(unitId: string, deal: InventoryDeal, until: Date, options: { paid?: boolean } = {}): Promise<BookResult> {
    const body = { dealId: this.dealKey(deal), expiresAt: until.toISOString(), paid: options.paid ?? false, ...(deal.title ? { dealTitle: deal.title.slice(0, 500) } : {}) };
    const res = await this.write('POST', `/units/${unitId}/booking`, body, `${this.dealKey(deal)}:book:${unitId}:${until.getTime()}`);
    return res.status === 409 ? { ok: false, conflict: toConflict(res.body) } : { ok: true };
  }

  async extend(unitId: string, deal: InventoryDeal, until: Date): Promise<BookResult> {
    const res = await this.write('PATCH', `/units/${unitId}/booking`, { dealId: this.dealKey(deal), expiresAt: until.toISOString() }, `${this.dealKey(deal)}:extend:${unitId}:${until.getTime()}`);
    return res.status === 409 ? { ok: false, conflict: toConflict(res.body) } : { ok: true };
  }

  async release(unitId: string, deal: InventoryDeal, reason: ReleaseReason, options: { booking?: string } = {}): Promise<ReleaseResult> {
    const query = new URLSearchParams({ dealId: this.dealKey(deal), reason });
    // The booking's identity keeps a later booking's release from meeting this one's stored answer.
    const res = await this.write('DELETE', `/units/${unitId}/booking?${query}`, undefined, `${this.dealKey(deal)}:release:${unitId}:${options.booking ?? 'any'}`);
    if (res.status === 409) return { released: false, why: 'not_held', heldByDeal: toConflict(res.body).heldByDeal };
    return { released: true };
  }

  markInExecution(unitId: string, deal: InventoryDeal): Promise<SaleResult> {
    return this.sale(unitId, deal, 'in_execution');
  }

  markSold(unitId: string, deal: InventoryDeal): Promise<SaleResult> {
    return this.sale(unitId, deal, 'sold');
  }

  async changesSince(cursor: string | null): Promise<ChangePage> {
    const changes: ChangePage['changes'] = [];
    let next = cursor;
    for (let page = 0; page < 50; page++) {
      const query = new URLSearchParams({ limit: '100' });
      if (next) query.set('cursor', next);
      const res = await this.call('GET', `/changes?${query}`);
      const body = res.body as { items?: Array<{ unitId: string; from: string | null; to: string; dealId: string | null; occurredAt: string; version: number }>; cursor?: string };
      for (const c of body.items ?? []) {
        changes.push({ unitId: String(c.unitId), from: asStatus(c.from), to: asStatus(c.to) ?? 'unavailable', dealId: c.dealId ?? null, at: c.occurredAt, key: `${c.unitId}:${c.version}` });
      }
      const advanced = body.cursor ?? next;
      if (!next || !body.items?.length || advanced === next) return { changes, cursor: advanced ?? '' };
      next = advanced;
    }
    return { changes, cursor: next ?? '' };
  }

  // ---------------------------------------------------------------------------------------------

  private async sale(unitId: string, deal: InventoryDeal, stage: 'in_execution' | 'sold'): Promise<SaleResult> {
    const res = await this.write('POST', `/units/${unitId}/sale`, { dealId: this.dealKey(deal), stage }, `${this.dealKey(deal)}:sale-${stage}:${unitId}`);
    return res.status === 409 ? { ok: false, conflict: toConflict(res.body) } : { ok: true };
  }

  private async write(method: string, path: string, body: unknown, idempotencyKey: string) {
    const res = await this.call(method, path, { body, idempotencyKey, expected: [409] });
    return res;
  }

  private async call(method: string, path: string, options: { body?: unknown; idempotencyKey?: string; expected?: number[] } = {}): Promise<{ status: number; body: unknown }> {
    const url = this.connection.baseUrl.replace(/\/+$/, '') + path;
    const headers: Record<string, string> = { Authorization: `Bearer ${this.connection.apiKey}`, Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      // Unreachable may be a restart of the service as well as a wrong URL: retried, and `npm run inventory -- test` shows it.
      if (cause === 'ENOTFOUND' || cause === 'ECONNREFUSED') throw new TransientError(`the inventory service is not reachable at ${this.connection.baseUrl} (${cause}): check unitStatusSync.inventory.baseUrl`, 'INVENTORY_UNREACHABLE', { cause: err });
      throw new TransientError(`inventory ${method} ${path}: ${(err as Error).message}`, 'INVENTORY_NETWORK', { cause: err });
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    if (res.status === 200 || res.status === 201 || options.expected?.includes(res.status)) return { status: res.status, body };
    const reason = typeof body === 'object' && body ? `${(body as { code?: string }).code ?? ''} ${(body as { message?: string }).message ?? ''}`.trim() : String(text).slice(0, 120);
    if (res.status === 401 || res.status === 403) throw new InventoryConfigError(`the inventory service refused the API key (${res.status} ${reason}): check unitStatusSync.inventory.apiKey`, 'bad_key');
    if (res.status === 404 && path.startsWith('/units/')) throw new InventoryConfigError(`the inventory service has no unit at ${path.split('?')[0]} (${reason})`, 'not_found');
    if (res.status === 404) throw new InventoryConfigError(`${url.split('?')[0]} answered 404: the base URL does not point at the service (…/hs/reglament/v1)`, 'wrong_url');
    if (res.status === 429 || res.status >= 500) throw new TransientError(`inventory ${method} ${path}: ${res.status} ${reason}`, 'INVENTORY');
    throw new PermanentCrmError(`inventory ${method} ${path}: ${res.status} ${reason}`, 'INVENTORY_REFUSED');
  }
}

function asStatus(s: string | null | undefined): UnitStatus | null {
  return s && (UNIT_STATUSES as readonly string[]).includes(s) ? (s as UnitStatus) : null;
}

function toUnit(u: WireUnit): InventoryUnit {
  return {
    id: String(u.id),
    number: String(u.number),
    project: u.project ?? null,
    house: u.house ?? null,
    status: asStatus(u.status) ?? 'unavailable',
    heldByDeal: u.booking?.dealId ?? null,
    bookedUntil: u.booking?.expiresAt ?? null,
  };
}

function toConflict(body: unknown): UnitConflict {
  const c = (body ?? {}) as WireConflict;
  return { status: asStatus(c.holder?.status) ?? 'booked', heldByDeal: c.holder?.dealId ?? null, bookedUntil: c.holder?.expiresAt ?? null };
}
