/**
 * The one interface robots use to talk to a developer's inventory system (шахматка): Profitbase,
 * or a 1C HTTP service implementing `apps/inventory-http/openapi.yaml`. Named for what the
 * regulation needs (book a flat for a deal, free it, sell it), not for either system's API; each
 * system has one adapter (`profitbase/`, `http/`).
 *
 * Rules every adapter keeps:
 * - a write by the deal that already holds the unit is a success (retries never double-book);
 * - a unit held by another deal is a conflict, never overwritten;
 * - `release` never frees a unit that another deal holds.
 */
import { UnrecoverableError } from 'bullmq';
import type { CrmKind } from '../crm/crm-port';

export const UNIT_STATUSES = ['available', 'booked', 'in_execution', 'sold', 'unavailable'] as const;
export type UnitStatus = (typeof UNIT_STATUSES)[number];

/** The deal as the inventory knows it: which CRM and its id there. */
export interface InventoryDeal {
  crm: CrmKind;
  id: string;
  title?: string;
  responsible?: string;
}

export interface InventoryUnit {
  /** The inventory's own id (Profitbase property id, the 1C unit id). */
  id: string;
  /** What a manager types: «5-101», «154». */
  number: string;
  project: string | null;
  house: string | null;
  status: UnitStatus;
  /** The deal id the inventory says holds the unit (as the inventory spells it), if any. */
  heldByDeal: string | null;
  /** ISO 8601, when the inventory keeps a booking deadline. */
  bookedUntil: string | null;
}

export type BookResult = { ok: true } | { ok: false; conflict: UnitConflict };

export interface UnitConflict {
  status: UnitStatus;
  /** The deal holding the unit, when the inventory names it. */
  heldByDeal: string | null;
  bookedUntil: string | null;
  /** The refused deal's place in the inventory's booking queue, when it was queued. */
  queuePosition?: number;
}

export type ReleaseResult = { released: true } | { released: false; why: 'not_held'; heldByDeal: string | null };

export type SaleResult = { ok: true } | { ok: false; conflict: UnitConflict };

export type ReleaseReason = 'lost' | 'expired' | 'unit_changed' | 'manual' | 'drift';

/** One change the inventory reports (a person in the UI, the site, another CRM). */
export interface UnitChange {
  unitId: string;
  from: UnitStatus | null;
  to: UnitStatus;
  /** The deal the change was made for, as the inventory spells it. */
  dealId: string | null;
  at: string;
  /** Stable id for de-duplication (Profitbase history id, 1C `unitId:version`). */
  key: string;
}

export interface ChangePage {
  changes: UnitChange[];
  /** Opaque; pass it to the next call. */
  cursor: string;
}

export interface InventoryPort {
  readonly system: 'profitbase' | 'http';
  /** The unit a deal's unit field names: an inventory id, or a number such as «5-101» within the configured project or house. */
  findUnit(text: string): Promise<InventoryUnit | null>;
  getUnit(unitId: string): Promise<InventoryUnit | null>;
  book(unitId: string, deal: InventoryDeal, until: Date, options?: { paid?: boolean }): Promise<BookResult>;
  extend(unitId: string, deal: InventoryDeal, until: Date): Promise<BookResult>;
  /** `booking` identifies the booking being ended (its start), so a later booking's release is a new write. */
  release(unitId: string, deal: InventoryDeal, reason: ReleaseReason, options?: { booking?: string }): Promise<ReleaseResult>;
  markInExecution(unitId: string, deal: InventoryDeal): Promise<SaleResult>;
  markSold(unitId: string, deal: InventoryDeal): Promise<SaleResult>;
  /** Changes since the cursor (null: from now on; the first call only returns a cursor). */
  changesSince(cursor: string | null): Promise<ChangePage>;
  /** The id the inventory uses for this deal (to compare with `heldByDeal`). */
  dealKey(deal: InventoryDeal): string;
}

/**
 * The inventory answered in a way retrying will not fix: bad key, wrong URL, a unit it does not
 * know. The job fails at once (no retries); `npm run inventory -- test` says what to change.
 */
export class InventoryConfigError extends UnrecoverableError {
  constructor(message: string, readonly code: 'bad_key' | 'wrong_url' | 'not_found' | 'refused' | 'insecure_url') {
    super(message);
    this.name = 'InventoryConfigError';
  }
}
