/**
 * The pure decisions of the booking releaser and the unit status sync: when a booking ends, when
 * the warning goes, what the inventory must say for a deal in a given stage, and which writes
 * bring it there. No I/O; `now` is passed in.
 */
import type { StageRole } from '../../regulation';
import type { BookingReleaserSettings, UnitStatusSyncSettings } from './booking-settings';
import { normalizeUnitNumber } from '../../inventory/unit-number';
import type { ReleaseReason } from '../../inventory/inventory-port';

export interface UnitPlace {
  project: string | null;
  house: string | null;
}

/** The booking term for a unit: the house's, else the project's, else the default; paid and free apart. */
export function bookingTerm(settings: Pick<BookingReleaserSettings, 'duration' | 'paidDuration' | 'byProject'>, place: UnitPlace | null, paid: boolean): number {
  const scoped = (place?.house && settings.byProject[place.house]) || (place?.project && settings.byProject[place.project]) || undefined;
  if (paid) return scoped?.paidDuration ?? settings.paidDuration;
  return scoped?.duration ?? settings.duration;
}

export interface BookingTimes {
  deadline: number;
  /** null: no warning (none configured, or the booking is shorter than the warning). */
  warnAt: number | null;
}

export function bookingTimes(now: number, term: number, warnBefore: number): BookingTimes {
  const deadline = now + term;
  const warnAt = warnBefore > 0 && deadline - warnBefore > now ? deadline - warnBefore : null;
  return { deadline, warnAt };
}

/** The same times after the head of sales moved the deadline. */
export function extendedTimes(now: number, newDeadline: number, warnBefore: number): BookingTimes {
  return bookingTimes(now, Math.max(0, newDeadline - now), warnBefore);
}

/** What a timer that fires should do, judged on the deal's state now. */
export type ExpiryVerdict = 'expire' | 'not_yet' | 'stale';

export function judgeExpiry(now: number, booking: { since: string; deadline: number } | null, timer: { since: unknown }, stillInBooking: boolean): ExpiryVerdict {
  // A timer of an earlier booking (the deal left and came back), or of a booking that is over.
  if (!booking || booking.since !== timer.since || !stillInBooking) return 'stale';
  return now + 1000 < booking.deadline ? 'not_yet' : 'expire';
}

/** Whether a card value means "yes" (Bitrix24 'Y'/'1', amoCRM true, a list value «Платная»). */
export function isYes(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isYes);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value !== 'string') return false;
  return /^(y|yes|1|true|да|платная|платно)$/i.test(value.trim());
}

/** A date from a card field: ISO text (Bitrix24), unix seconds (amoCRM), `DD.MM.YYYY[ HH:mm]`. Null when not a date. */
export function parseCardDate(value: unknown): number | null {
  if (Array.isArray(value)) return value.length ? parseCardDate(value[0]) : null;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value < 1e11 ? value * 1000 : value;
  if (typeof value !== 'string' || !value.trim()) return null;
  const text = value.trim();
  if (/^\d{9,11}$/.test(text)) return Number(text) * 1000;
  const ru = /^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{2}):(\d{2}))?$/.exec(text);
  if (ru) return Date.parse(`${ru[3]}-${ru[2]}-${ru[1]}T${ru[4] ?? '23'}:${ru[5] ?? '59'}:00+03:00`);
  // A date without a time means the end of that day in Moscow.
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return Date.parse(`${text}T23:59:00+03:00`);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

// ---------------------------------------------------------------------------------------------
// Unit status sync
// ---------------------------------------------------------------------------------------------

export type HeldStatus = 'booked' | 'in_execution' | 'sold';

/** What the app wrote to the inventory for a deal (kept per deal). */
export interface UnitHold {
  unitId: string;
  unitText: string;
  status: HeldStatus;
  /** When the booking started: identifies this booking's writes. */
  since: string;
}

/** What the inventory must say for a deal in a stage with this role. */
export type Target = { kind: 'hold'; status: HeldStatus } | { kind: 'free'; reason: ReleaseReason } | { kind: 'leave' };

export function targetFor(role: StageRole | null, settings: Pick<UnitStatusSyncSettings, 'onContract' | 'onRegistration'>): Target {
  switch (role) {
    case 'booking':
      return { kind: 'hold', status: 'booked' };
    case 'contract':
      return { kind: 'hold', status: settings.onContract };
    case 'registration':
    case 'payment_received':
      return { kind: 'hold', status: settings.onRegistration };
    case 'won':
      return { kind: 'hold', status: 'sold' };
    case 'booking_expired':
      return { kind: 'free', reason: 'expired' };
    case 'lost':
    case 'new_contact_of_active_client':
    case 'existing_buyer':
    case 'agent':
      return { kind: 'free', reason: 'lost' };
    case null:
      // A stage the regulation does not govern: change nothing.
      return { kind: 'leave' };
    default:
      // Back before the booking (the manager undid it): the unit goes back on sale.
      return { kind: 'free', reason: 'manual' };
  }
}

export type SyncStep =
  | { do: 'release'; unitId: string; reason: ReleaseReason; since: string }
  | { do: 'book'; unitText: string }
  | { do: 'mark'; unitText: string; status: 'in_execution' | 'sold' };

const RANK: Record<HeldStatus, number> = { booked: 1, in_execution: 2, sold: 3 };

/**
 * The writes that bring the inventory to what the deal's stage says, given what the app already
 * wrote for this deal. Only a unit this deal holds is ever released; a sold unit is never freed
 * by the sync; a status never goes backwards (a deal back from the contract to «Бронь» keeps it).
 */
export function planUnitSync(target: Target, unitText: string, hold: UnitHold | null): SyncStep[] {
  const wanted = normalizeUnitNumber(unitText);
  if (target.kind === 'leave') return [];
  if (target.kind === 'free') {
    if (!hold || hold.status === 'sold') return [];
    return [{ do: 'release', unitId: hold.unitId, reason: target.reason, since: hold.since }];
  }
  const steps: SyncStep[] = [];
  const sameUnit = hold !== null && normalizeUnitNumber(hold.unitText) === wanted;
  if (hold && !sameUnit && hold.status !== 'sold') steps.push({ do: 'release', unitId: hold.unitId, reason: 'unit_changed', since: hold.since });
  if (!wanted) return steps;
  if (sameUnit && RANK[hold!.status] >= RANK[target.status]) return steps;
  if (target.status === 'booked') steps.push({ do: 'book', unitText });
  else steps.push({ do: 'mark', unitText, status: target.status });
  return steps;
}
