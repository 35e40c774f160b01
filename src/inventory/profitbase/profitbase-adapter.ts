import { PermanentCrmError, TransientError } from '../../errors';
import type { ProfitbaseConnection } from '../connection-settings';
import {
  InventoryConfigError,
  type BookResult,
  type ChangePage,
  type InventoryDeal,
  type InventoryPort,
  type InventoryUnit,
  type ReleaseReason,
  type ReleaseResult,
  type SaleResult,
  type UnitChange,
  type UnitConflict,
  type UnitStatus,
} from '../inventory-port';
import { normalizeUnitNumber } from '../unit-number';
import { errorCode, errorText, type PbResponse, type ProfitbaseClient } from './profitbase-client';

/**
 * Profitbase API v4 behind the InventoryPort (research inventory.md §1, §4.3, §5):
 * book = `POST /crm/addPropertyDeal` then `PATCH /reserve/prolong` to our deadline;
 * release = `POST /crm/removePropertyDeal` (only after `GET /property/deal/{dealId}` shows this
 * deal holds the unit); contract / sale = `POST /properties/{id}/status-change`;
 * changes = `POST /history`. Profitbase deal ids are the CRM's own deal ids.
 */
const STATUS_FROM_PB: Record<string, UnitStatus> = {
  AVAILABLE: 'available',
  BOOKED: 'booked',
  EXECUTION: 'in_execution',
  SOLD: 'sold',
  UNAVAILABLE: 'unavailable',
};

interface PbProperty {
  id: number;
  number?: string;
  status?: string;
  houseName?: string;
  projectName?: string;
  bookedUntilDate?: string | null;
  bookedUntilTime?: string | null;
}

interface PbHistoryRecord {
  id: number;
  propertyId: number;
  dealId?: number | null;
  oldStatus?: string;
  newStatus?: string;
  date?: string;
}

const PAGE = 100;
/** Longest house we scan for a unit number (pages of 100, each a request at 1 rps). */
const MAX_PAGES = 20;

export class ProfitbaseInventory implements InventoryPort {
  readonly system = 'profitbase' as const;

  constructor(private readonly client: ProfitbaseClient, private readonly connection: ProfitbaseConnection) {}

  dealKey(deal: InventoryDeal): string {
    return deal.id;
  }

  async getUnit(unitId: string): Promise<InventoryUnit | null> {
    if (!/^\d{1,15}$/.test(unitId)) return null;
    const res = await this.call('GET', '/property', { query: { id: unitId, full: 'true' } });
    const list = propertiesOf(res.body);
    const found = list.find((p) => String(p.id) === unitId);
    return found ? toUnit(found) : null;
  }

  async findUnit(text: string): Promise<InventoryUnit | null> {
    const wanted = normalizeUnitNumber(text);
    if (!wanted) return null;
    // A long number is a Profitbase property id (what the Profitbase widget puts into the deal).
    if (/^\d{6,15}$/.test(wanted)) {
      const byId = await this.getUnit(wanted);
      if (byId) return byId;
    }
    const scope: Record<string, string | number> = {};
    if (this.connection.houseId) scope.houseId = this.connection.houseId;
    if (this.connection.projectId) scope['projectIds[0]'] = this.connection.projectId;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.call('GET', '/property', { query: { ...scope, limit: PAGE, offset: page * PAGE } });
      const list = propertiesOf(res.body);
      const hit = list.find((p) => normalizeUnitNumber(String(p.number ?? '')) === wanted);
      if (hit) return toUnit(hit);
      if (list.length < PAGE) break;
    }
    return null;
  }

  async book(unitId: string, deal: InventoryDeal, until: Date, options: { paid?: boolean } = {}): Promise<BookResult> {
    const res = await this.call('POST', '/crm/addPropertyDeal', { body: { dealId: Number(deal.id), propertyId: Number(unitId) } }, [400, 404, 409, 422]);
    if (res.status !== 200) {
      const code = errorCode(res.body);
      if (code === 'property_already_in_deal' || code === 'property_not_available') return this.queueFor(unitId, deal, await this.conflictOf(unitId, res));
      if (res.status === 404) throw new InventoryConfigError(`Profitbase has no unit ${unitId}`, 'not_found');
      throw new PermanentCrmError(`Profitbase refused to book ${unitId} for deal ${deal.id}: ${errorText(res.body)}`, code ?? 'PROFITBASE_REFUSED');
    }
    await this.prolong(unitId, until);
    const custom = options.paid ? this.connection.customStatuses.paidBooking : this.connection.customStatuses.booked;
    if (custom) await this.call('POST', `/properties/${unitId}/status-change`, { body: { status: 'BOOKED', customStatusId: custom } });
    return { ok: true };
  }

  async extend(unitId: string, deal: InventoryDeal, until: Date): Promise<BookResult> {
    if (!(await this.holds(deal, unitId))) return this.conflictOf(unitId, null);
    await this.prolong(unitId, until);
    return { ok: true };
  }

  async release(unitId: string, deal: InventoryDeal, _reason: ReleaseReason): Promise<ReleaseResult> {
    // removePropertyDeal detaches every unit of the deal; a deal holds one unit at a time here.
    if (!(await this.holds(deal, unitId))) return { released: false, why: 'not_held', heldByDeal: null };
    const res = await this.call('POST', '/crm/removePropertyDeal', { body: { dealId: Number(deal.id) } }, [404]);
    if (res.status === 404 && errorCode(res.body) !== 'deal_not_found') throw new PermanentCrmError(`Profitbase refused to release ${unitId}: ${errorText(res.body)}`, 'PROFITBASE_REFUSED');
    return { released: true };
  }

  markInExecution(unitId: string, deal: InventoryDeal): Promise<SaleResult> {
    return this.changeStatus(unitId, deal, 'EXECUTION', this.connection.customStatuses.inExecution);
  }

  markSold(unitId: string, deal: InventoryDeal): Promise<SaleResult> {
    return this.changeStatus(unitId, deal, 'SOLD', this.connection.customStatuses.sold);
  }

  async changesSince(cursor: string | null): Promise<ChangePage> {
    const state = parseCursor(cursor);
    if (!state) return { changes: [], cursor: JSON.stringify({ from: pbDateTime(Date.now() - 60_000), lastId: 0 }) };
    const changes: UnitChange[] = [];
    let lastId = state.lastId;
    let from = state.from;
    for (let offset = 0; ; offset += PAGE) {
      const res = await this.call('POST', '/history', { body: { offset, limit: PAGE, from: state.from } });
      const records = (dataOf(res.body) as PbHistoryRecord[] | null) ?? [];
      for (const r of records) {
        if (r.id <= state.lastId) continue;
        changes.push({
          unitId: String(r.propertyId),
          from: STATUS_FROM_PB[r.oldStatus ?? ''] ?? null,
          to: STATUS_FROM_PB[r.newStatus ?? ''] ?? 'unavailable',
          dealId: r.dealId ? String(r.dealId) : null,
          at: fromPbDateTime(r.date ?? '') ?? new Date().toISOString(),
          key: `pb:${r.id}`,
        });
        lastId = Math.max(lastId, r.id);
        if (r.date && r.date > from) from = r.date;
      }
      if (records.length < PAGE) break;
    }
    return { changes, cursor: JSON.stringify({ from, lastId }) };
  }

  // ---------------------------------------------------------------------------------------------

  private async changeStatus(unitId: string, deal: InventoryDeal, status: 'EXECUTION' | 'SOLD', customStatusId: number | undefined): Promise<SaleResult> {
    if (!(await this.holds(deal, unitId))) {
      // A deal reaching the contract without a booking: attach the unit first (or meet the holder).
      const attached = await this.call('POST', '/crm/addPropertyDeal', { body: { dealId: Number(deal.id), propertyId: Number(unitId) } }, [400, 404, 409, 422]);
      if (attached.status !== 200) return this.conflictOf(unitId, attached);
    }
    await this.call('POST', `/properties/${unitId}/status-change`, { body: customStatusId ? { status, customStatusId } : { status } });
    return { ok: true };
  }

  /** With `bookingQueue`, a deal refused a booked (not sold) unit waits in Profitbase's queue for it. */
  private async queueFor(unitId: string, deal: InventoryDeal, refused: { ok: false; conflict: UnitConflict }): Promise<{ ok: false; conflict: UnitConflict }> {
    if (!this.connection.bookingQueue || refused.conflict.status !== 'booked') return refused;
    const res = await this.call('POST', '/queue-reserve', { body: { propertyId: Number(unitId), dealId: Number(deal.id) } });
    const position = (dataOf(res.body) as { position?: unknown } | null)?.position;
    return { ok: false, conflict: { ...refused.conflict, ...(typeof position === 'number' ? { queuePosition: position } : {}) } };
  }

  private async holds(deal: InventoryDeal, unitId: string): Promise<boolean> {
    const res = await this.call('GET', `/property/deal/${encodeURIComponent(deal.id)}`, {}, [404]);
    return res.status === 200 && propertiesOf(res.body).some((p) => String(p.id) === unitId);
  }

  private async prolong(unitId: string, until: Date): Promise<void> {
    await this.call('PATCH', '/reserve/prolong', { body: { propertyId: Number(unitId), date: pbDateTime(until.getTime()).slice(0, 16) } });
  }

  /** Who holds the unit and until when (`GET /crm/deals/property/{id}` and the unit itself). */
  private async conflictOf(unitId: string, refusal: PbResponse | null): Promise<{ ok: false; conflict: UnitConflict }> {
    const unit = await this.getUnit(unitId);
    if (!unit) throw new InventoryConfigError(`Profitbase has no unit ${unitId}`, 'not_found');
    let heldByDeal: string | null = null;
    if (refusal === null || errorCode(refusal.body) === 'property_already_in_deal') {
      const deals = await this.call('GET', `/crm/deals/property/${unitId}`, {}, [404]);
      const list = (dataOf(deals.body) as Array<{ dealId?: number | string }> | null) ?? [];
      heldByDeal = list[0]?.dealId !== undefined ? String(list[0].dealId) : null;
    }
    return { ok: false, conflict: { status: unit.status, heldByDeal, bookedUntil: unit.bookedUntil } };
  }

  private async call(method: string, path: string, options: { query?: Record<string, string | number>; body?: unknown }, expected: number[] = []): Promise<PbResponse> {
    const res = await this.client.request(method, path, options);
    if (res.status === 200 || res.status === 201 || expected.includes(res.status)) return res;
    if (res.status === 401 || res.status === 403) throw new InventoryConfigError(`Profitbase refused access (${res.status} ${errorText(res.body)})`, 'bad_key');
    if (res.status >= 400 && res.status < 500) throw new PermanentCrmError(`Profitbase ${method} ${path}: ${res.status} ${errorText(res.body)}`, errorCode(res.body) ?? 'PROFITBASE_REFUSED');
    throw new TransientError(`Profitbase ${method} ${path}: ${res.status}`, 'PROFITBASE');
  }
}

function dataOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null && 'data' in body ? (body as { data: unknown }).data : null;
}

/** `{status, data:[…]}` or `{data:{properties:[…], filteredCount}}`. */
function propertiesOf(body: unknown): PbProperty[] {
  const data = dataOf(body);
  if (Array.isArray(data)) return data as PbProperty[];
  if (data && typeof data === 'object' && Array.isArray((data as { properties?: unknown }).properties)) return (data as { properties: PbProperty[] }).properties;
  return [];
}

function toUnit(p: PbProperty): InventoryUnit {
  const until = p.bookedUntilDate ? fromPbDateTime(`${p.bookedUntilDate} ${p.bookedUntilTime ?? '23:59'}`) : null;
  return {
    id: String(p.id),
    number: String(p.number ?? p.id),
    project: p.projectName ?? null,
    house: p.houseName ?? null,
    status: STATUS_FROM_PB[p.status ?? ''] ?? 'unavailable',
    heldByDeal: null,
    bookedUntil: until,
  };
}

const MSK_OFFSET_MS = 3 * 3600_000;

/** Profitbase prints Moscow time (UTC+3, no DST) as `YYYY-MM-DD HH:mm[:ss]`. */
export function pbDateTime(ms: number): string {
  return new Date(ms + MSK_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

export function fromPbDateTime(text: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::(\d{2}))?/.exec(text.trim());
  if (!m) return null;
  return new Date(`${m[1]}T${m[2]}:${m[3] ?? '00'}+03:00`).toISOString();
}

function parseCursor(cursor: string | null): { from: string; lastId: number } | null {
  if (!cursor) return null;
  try {
    const c = JSON.parse(cursor) as { from?: unknown; lastId?: unknown };
    if (typeof c.from === 'string' && typeof c.lastId === 'number') return { from: c.from, lastId: c.lastId };
  } catch {
    /* a cursor of another adapter: start over */
  }
  return null;
}
