/**
 * Brings the inventory to what a deal's current stage says (robot 6), used by the unit status
 * sync on every deal event, by the booking releaser at expiry, and by the drift report. It
 * converges: judging the same deal again writes nothing, and a crash between the CRM write and
 * the inventory write is repaired by judging the deal again.
 */
import { createHash } from 'node:crypto';
import type { Deal } from '../../crm/crm-port';
import { InventoryConfigError, type InventoryPort, type UnitConflict } from '../../inventory/inventory-port';
import { stageById, type BoundRegulation } from '../../regulation';
import { bookingTerm, bookingTimes, isYes, planUnitSync, targetFor, type SyncStep, type Target } from './booking-plan';
import {
  clearHold,
  describeHolder,
  fieldText,
  headsOfSales,
  inventoryDeal,
  readBooking,
  readHold,
  releaserSettingsOf,
  resolveUnit,
  roleOf,
  syncSettingsOf,
  unitTextOf,
  writeBooking,
  writeHold,
  type BookingCtx,
  type BookingRecord,
} from './booking-context';
import { bookingText, formatWhen, statusName, SYSTEM_NAMES } from './booking-messages';

/** What a manager typed, as a short fixed-alphabet key part (never raw text in a Redis key). */
const textKey = (text: string) => createHash('sha1').update(text.trim().toLowerCase()).digest('hex').slice(0, 16);

export type SyncOutcome = 'no_inventory' | 'in_step' | 'written' | 'conflict' | 'unit_not_found';

export interface SyncOptions {
  /** Where the deal came from, to put it back on a booking conflict. */
  from?: string | null;
  /** Clock of the arithmetic (tests). */
  now?: number;
  /** What the inventory must say, when someone asked explicitly (the CRM's automation); default: the stage's role. */
  target?: Target;
}

/** The steps the deal's current state calls for (pure plan on the deal as given). */
export async function plannedSteps(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, asked?: Target): Promise<SyncStep[]> {
  const target = asked ?? targetFor(roleOf(regulation, deal.stageId), syncSettingsOf(ctx));
  return planUnitSync(target, await unitTextOf(ctx, deal), await readHold(ctx, deal));
}

export async function syncUnit(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, options: SyncOptions = {}): Promise<SyncOutcome> {
  const inventory = ctx.inventory();
  if (!inventory) {
    if ((await ctx.state.increment('inventory-missing-logged', 30 * 86_400)) === 1) {
      ctx.log.info('no inventory system configured (unitStatusSync.inventory): unit statuses are not synchronised for this installation');
    }
    return 'no_inventory';
  }
  const steps = await plannedSteps(ctx, deal, regulation, options.target);
  if (!steps.length) return 'in_step';
  for (const step of steps) {
    const outcome = await runStep(ctx, inventory, deal, regulation, step, options);
    if (outcome !== 'written') return outcome;
  }
  return 'written';
}

async function runStep(ctx: BookingCtx, inventory: InventoryPort, deal: Deal, regulation: BoundRegulation, step: SyncStep, options: SyncOptions): Promise<SyncOutcome> {
  const system = SYSTEM_NAMES[inventory.system];
  if (step.do === 'release') {
    const result = await inventory.release(step.unitId, inventoryDeal(ctx, deal), step.reason, { booking: step.since });
    // Not held any more (freed by hand, or by an earlier attempt): the record simply follows.
    await clearHold(ctx, deal, step.unitId);
    await ctx.report({ target: deal, summary: result.released ? `unit released (${step.reason})` : 'unit was no longer held by this deal', before: step.unitId, after: 'available' });
    return 'written';
  }
  const unit = await resolveUnit(ctx, step.unitText).catch((err: unknown) => {
    if (err instanceof InventoryConfigError && err.code === 'not_found') return null;
    throw err;
  });
  if (!unit) {
    if ((await ctx.state.increment(`unit-not-found:${deal.id}:${textKey(step.unitText)}`, 7 * 86_400)) === 1) {
      const text = bookingText(ctx.locale, 'notFound', { unit: step.unitText, system });
      await ctx.crm.addComment(deal, text);
      if (deal.responsibleId) await ctx.crm.notifyUser(deal.responsibleId, text, deal);
    }
    return 'unit_not_found';
  }
  const now = options.now ?? Date.now();
  if (step.do === 'book') {
    const record = await bookingFor(ctx, deal, unit, now);
    const result = await inventory.book(unit.id, inventoryDeal(ctx, deal), new Date(record.deadline), { paid: record.paid });
    if (!result.ok) {
      await refuseBooking(ctx, deal, regulation, step.unitText, result.conflict, options.from ?? null, system);
      return 'conflict';
    }
    await writeBooking(ctx, deal, record);
    await writeHold(ctx, deal, { unitId: unit.id, unitText: step.unitText, status: 'booked', since: record.since });
    await ctx.report({ target: deal, summary: `unit booked in ${system} until ${new Date(record.deadline).toISOString()}`, before: unit.status, after: 'booked' });
    return 'written';
  }
  const result = step.status === 'sold' ? await inventory.markSold(unit.id, inventoryDeal(ctx, deal)) : await inventory.markInExecution(unit.id, inventoryDeal(ctx, deal));
  if (!result.ok) {
    await alertSaleConflict(ctx, deal, regulation, step, result.conflict, system);
    return 'conflict';
  }
  const since = (await readHold(ctx, deal))?.since ?? new Date(now).toISOString();
  await writeHold(ctx, deal, { unitId: unit.id, unitText: step.unitText, status: step.status, since });
  await ctx.report({ target: deal, summary: `unit marked ${step.status} in ${system}`, before: unit.status, after: step.status });
  return 'written';
}

/** The booking's record: the releaser's if it already made one for this stay in «Бронь», else a new one. */
async function bookingFor(ctx: BookingCtx, deal: Deal, unit: { project: string | null; house: string | null }, now: number): Promise<BookingRecord> {
  const existing = await readBooking(ctx, deal);
  if (existing) return existing;
  return newBookingRecord(ctx, deal, unit, now);
}

export async function newBookingRecord(ctx: BookingCtx, deal: Deal, place: { project: string | null; house: string | null } | null, now: number): Promise<BookingRecord> {
  const settings = releaserSettingsOf(ctx);
  const paid = isYes(await fieldText(ctx, deal, settings.paidField));
  const term = bookingTerm(settings, place, paid);
  const times = bookingTimes(now, term, settings.warnBefore);
  return { since: new Date(now).toISOString(), deadline: times.deadline, warnAt: times.warnAt, term, paid, unit: await unitTextOf(ctx, deal) };
}

/** Two deals cannot book one flat: the later one goes back in one write, with who holds it and until when. */
async function refuseBooking(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, unitText: string, conflict: UnitConflict, from: string | null, system: string): Promise<void> {
  const back = from && roleOf(regulation, from) !== 'booking' ? from : await stageBeforeBooking(ctx, deal, regulation);
  const holder = await describeHolder(ctx, conflict.heldByDeal);
  const text = bookingText(ctx.locale, 'conflict', {
    unit: unitText,
    holder,
    status: statusName(ctx.locale, conflict.status),
    until: conflict.bookedUntil ? formatWhen(Date.parse(conflict.bookedUntil), ctx.locale) : '',
    stage: stageById(regulation, back ?? '')?.name ?? back ?? '—',
    queue: conflict.queuePosition ? String(conflict.queuePosition) : '',
    system,
  });
  if (back && roleOf(regulation, deal.stageId) === 'booking') await ctx.crm.moveDeal(deal, back);
  await ctx.crm.addComment(deal, text);
  if (deal.responsibleId) await ctx.crm.notifyUser(deal.responsibleId, text, deal);
  await ctx.report({ target: deal, summary: `booking refused: ${unitText} held by ${conflict.heldByDeal ?? 'another deal'} (${system})`, before: deal.stageId, after: back ?? deal.stageId });
}

/** The stage the deal was in before «Бронь», from the CRM's stage history. */
async function stageBeforeBooking(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation): Promise<string | null> {
  const history = (await ctx.crm.getStageHistory(deal)).map((h) => h.stageId);
  for (let i = history.length - 1; i >= 0; i--) {
    if (roleOf(regulation, history[i]) !== 'booking' && history[i] !== deal.stageId) return history[i]!;
  }
  return null;
}

async function alertSaleConflict(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, step: Extract<SyncStep, { do: 'mark' }>, conflict: UnitConflict, system: string): Promise<void> {
  if ((await ctx.state.increment(`sale-conflict:${deal.id}:${textKey(step.unitText)}:${step.status}`, 7 * 86_400)) !== 1) return;
  const text = bookingText(ctx.locale, 'saleConflict', {
    unit: step.unitText,
    holder: await describeHolder(ctx, conflict.heldByDeal),
    status: statusName(ctx.locale, conflict.status),
    target: statusName(ctx.locale, step.status),
    system,
  });
  await ctx.crm.addComment(deal, text);
  const people = new Set([deal.responsibleId, ...(await headsOfSales(ctx, regulation))].filter((x): x is string => Boolean(x)));
  for (const id of people) await ctx.crm.notifyUser(id, text, deal);
  await ctx.report({ target: deal, summary: `unit ${step.unitText} not marked ${step.status}: held by ${conflict.heldByDeal ?? 'another deal'}` });
}
