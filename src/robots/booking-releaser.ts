import { defineRobot, type RobotContext, type TimerContext } from '../app';
import type { Deal, DealRef } from '../crm/crm-port';
import { stageByRole, type BoundRegulation } from '../regulation';
import {
  dealKey,
  dropBooking,
  fieldText,
  headsOfSales,
  inventoryDeal,
  readBooking,
  readHold,
  regulationFor,
  releaserSettingsOf,
  resolveUnit,
  roleOf,
  unitTextOf,
  writeBooking,
  type BookingCtx,
  type BookingRecord,
} from './booking/booking-context';
import { bookingText, formatTerm, formatWhen, SYSTEM_NAMES } from './booking/booking-messages';
import { extendedTimes, judgeExpiry, parseCardDate } from './booking/booking-plan';
import { bookingReleaserSettings, type BookingReleaserSettings } from './booking/booking-settings';
import { newBookingRecord, syncUnit } from './booking/unit-sync';

/**
 * Robot 5 — booking releaser (seed 004: «сколько дней квартира может быть забронирована… как
 * только бронь становится недействительной, передвигает сделку на этап «бронь истекла»»).
 * Entering the `booking` stage starts the clock: now + `duration` (per project or house, paid
 * and free apart). The manager and the head of sales are warned `warnBefore` ahead; the head of
 * sales extends a booking with the card's «Бронь до» field; at the deadline the deal moves to
 * `booking_expired`, the unit is freed, the card says why, and both are notified. A timer is
 * judged on the deal's state when it fires: a deal that left «Бронь» is never touched by it.
 */
type Ctx = RobotContext<'deal.stageChanged' | 'deal.updated' | 'deal.created', BookingReleaserSettings>;
type TimerCtx = TimerContext<BookingReleaserSettings>;

const ROBOT = 'bookingReleaser';

export const bookingReleaser = defineRobot({
  name: ROBOT,
  settings: bookingReleaserSettings,
  register(app) {
    app.on('deal.stageChanged', onStage);
    app.on('deal.updated', onUpdate);
    app.on('deal.created', onUpdate);
    app.onTimer(onTimer);
  },
});

async function onStage(ctx: Ctx): Promise<void> {
  const { deal } = ctx.payload;
  const regulation = await regulationFor(ctx as BookingCtx, deal);
  if (!regulation) return;
  if (roleOf(regulation, deal.stageId) === 'booking') return startBooking(ctx as BookingCtx, deal, regulation);
  const record = await readBooking(ctx, deal);
  // The deal left «Бронь» before its deadline: its timers go, nothing else happens to it.
  if (record && !record.expiring) await endBooking(ctx as BookingCtx, deal);
}

async function onUpdate(ctx: Ctx): Promise<void> {
  const { deal } = ctx.payload;
  const record = await readBooking(ctx, deal);
  if (record?.expiring) return;
  const regulation = await regulationFor(ctx as BookingCtx, deal);
  if (!regulation || roleOf(regulation, deal.stageId) !== 'booking') return;
  // A deal created in «Бронь», or first seen there (the app installed meanwhile): the clock starts now.
  if (!record || !record.announced) return startBooking(ctx as BookingCtx, deal, regulation);
  if (!ctx.settings.extendField) return;
  const wanted = parseCardDate(await fieldText(ctx as BookingCtx, deal, ctx.settings.extendField));
  if (wanted === null || wanted <= record.deadline + 60_000 || wanted === record.refusedExtension) return;
  await extendBooking(ctx as BookingCtx, deal, regulation, record, wanted);
}

/** The deal is in «Бронь»: a record with its deadline, two timers, one note in the card. */
async function startBooking(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation): Promise<void> {
  const fresh = await ctx.crm.getDeal(deal);
  // The sync may have sent it back (the unit is taken), or the stage guard refused the move.
  if (!fresh || roleOf(regulation, fresh.stageId) !== 'booking') return;
  let record = await readBooking(ctx, fresh);
  if (!record) {
    const unitText = await unitTextOf(ctx, fresh);
    const place = unitText ? await resolveUnit(ctx, unitText).catch(() => null) : null;
    record = await newBookingRecord(ctx, fresh, place, Date.now());
  }
  await writeBooking(ctx, fresh, record);
  await scheduleTimers(ctx, fresh, record);
  if (record.announced) return;
  const hold = await readHold(ctx, fresh);
  const inventory = ctx.inventory();
  const text = bookingText(ctx.locale, 'booked', {
    until: formatWhen(record.deadline, ctx.locale),
    term: formatTerm(record.term, ctx.locale),
    unit: hold?.status === 'booked' ? hold.unitText : '',
    system: inventory ? SYSTEM_NAMES[inventory.system] : '',
  });
  await ctx.crm.addComment(fresh, text);
  await writeBooking(ctx, fresh, { ...record, announced: true });
  await ctx.report({ target: fresh, summary: `booking until ${new Date(record.deadline).toISOString()}`, after: text });
}

async function scheduleTimers(ctx: BookingCtx, deal: DealRef, record: BookingRecord): Promise<void> {
  const now = Date.now();
  const data = { since: record.since, entity: deal.entity, id: deal.id };
  await ctx.timers.schedule(ROBOT, `expire:${dealKey(deal)}`, record.deadline - now, data);
  if (record.warnAt !== null && record.warnAt > now) await ctx.timers.schedule(ROBOT, `warn:${dealKey(deal)}`, record.warnAt - now, data);
  else await ctx.timers.cancel(ROBOT, `warn:${dealKey(deal)}`);
}

async function endBooking(ctx: BookingCtx, deal: DealRef): Promise<void> {
  await ctx.timers.cancel(ROBOT, `expire:${dealKey(deal)}`);
  await ctx.timers.cancel(ROBOT, `warn:${dealKey(deal)}`);
  await dropBooking(ctx, deal);
}

/** Only the head of sales (or an administrator) extends; the new deadline reaches the inventory. */
async function extendBooking(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, record: BookingRecord, wanted: number): Promise<void> {
  const heads = await headsOfSales(ctx, regulation);
  const users = await ctx.crm.listUsers().catch(() => []);
  const mover = deal.modifiedBy;
  const moverUser = users.find((u) => u.id === mover);
  if (!mover || (!heads.includes(mover) && !moverUser?.isAdmin)) {
    await writeBooking(ctx, deal, { ...record, refusedExtension: wanted });
    const text = bookingText(ctx.locale, 'extendRefused', { until: formatWhen(record.deadline, ctx.locale) });
    await ctx.crm.addComment(deal, text);
    if (mover) await ctx.crm.notifyUser(mover, text, deal);
    await ctx.report({ target: deal, summary: `booking extension refused (${mover ?? 'unknown'} is not a head of sales)` });
    return;
  }
  const settings = releaserSettingsOf(ctx);
  const times = extendedTimes(Date.now(), wanted, settings.warnBefore);
  const hold = await readHold(ctx, deal);
  const inventory = ctx.inventory();
  if (inventory && hold?.status === 'booked') {
    const result = await inventory.extend(hold.unitId, inventoryDeal(ctx, deal), new Date(times.deadline));
    if (!result.ok) ctx.log.warn({ deal: deal.id, conflict: result.conflict }, 'the inventory refused the extension: the unit is no longer held by this deal');
  }
  const next: BookingRecord = { ...record, deadline: times.deadline, warnAt: times.warnAt, term: times.deadline - Date.parse(record.since) };
  await writeBooking(ctx, deal, next);
  await scheduleTimers(ctx, deal, next);
  const text = bookingText(ctx.locale, 'extended', { until: formatWhen(times.deadline, ctx.locale), who: moverUser?.name ?? '' });
  await ctx.crm.addComment(deal, text);
  if (deal.responsibleId) await ctx.crm.notifyUser(deal.responsibleId, text, deal);
  await ctx.report({ target: deal, summary: 'booking extended', before: new Date(record.deadline).toISOString(), after: new Date(times.deadline).toISOString() });
}

async function onTimer(ctx: TimerCtx): Promise<void> {
  const ref: DealRef = { entity: ctx.data.entity === 'lead' ? 'lead' : 'deal', id: String(ctx.data.id) };
  const bctx = ctx as unknown as BookingCtx;
  const deal = await ctx.crm.getDeal(ref);
  const record = await readBooking(ctx, ref);
  if (!deal) {
    if (record) await dropBooking(ctx, ref);
    return;
  }
  const regulation = await regulationFor(bctx, deal);
  if (!regulation) return;
  const role = roleOf(regulation, deal.stageId);
  if (ctx.key.startsWith('warn:')) return warn(bctx, deal, regulation, record, role === 'booking', ctx.data);
  // A retried expiry that already moved the deal finishes the job.
  if (record?.expiring && record.since === ctx.data.since && role === 'booking_expired') return finishExpiry(bctx, deal, regulation, record);
  const verdict = judgeExpiry(Date.now(), record, { since: ctx.data.since }, role === 'booking');
  if (verdict === 'stale') {
    if (record && role !== 'booking' && !record.expiring) await dropBooking(ctx, ref);
    return;
  }
  if (verdict === 'not_yet') {
    // Fired early (clock skew between Redis and this process): a running job cannot re-add its own id, so wait it out.
    const wait = record!.deadline - Date.now();
    if (wait > 30_000) throw new Error(`booking timer of ${ref.entity} ${ref.id} fired ${wait} ms early; retried`);
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  await expire(bctx, deal, regulation, record!);
}

async function warn(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, record: BookingRecord | null, inBooking: boolean, data: Record<string, unknown>): Promise<void> {
  if (!record || record.since !== data.since || !inBooking) return;
  const text = bookingText(ctx.locale, 'warn', { deal: deal.title, unit: record.unit, until: formatWhen(record.deadline, ctx.locale) });
  const people = new Set([deal.responsibleId, ...(await headsOfSales(ctx, regulation))].filter((x): x is string => Boolean(x)));
  for (const id of people) await ctx.crm.notifyUser(id, text, deal);
  await ctx.report({ target: deal, summary: `booking expiry warned to ${[...people].join(', ')}` });
}

/**
 * The deadline passed and the deal is still in «Бронь»: the unit is freed first, then the deal
 * moves to «Бронь истекла» (so the echo of that move finds nothing left to write), then people are
 * told. A crash anywhere is finished by the retried timer or by judging the deal again.
 */
async function expire(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, record: BookingRecord): Promise<void> {
  const expired = stageByRole(regulation, 'booking_expired');
  await writeBooking(ctx, deal, { ...record, expiring: true });
  const after = { ...deal, stageId: expired?.stageId ?? deal.stageId };
  // A regulation without a «Бронь истекла» stage only warns people: the deal stays, and so does its unit.
  if (expired) await syncUnit(ctx, after, regulation);
  if (expired) await ctx.crm.moveDeal(deal, expired.stageId);
  await finishExpiry(ctx, after, regulation, record);
}

async function finishExpiry(ctx: BookingCtx, deal: Deal, regulation: BoundRegulation, record: BookingRecord): Promise<void> {
  // Converges: after a crash this frees what is still held; otherwise it writes nothing.
  await syncUnit(ctx, deal, regulation);
  const stage = stageByRole(regulation, 'booking_expired')?.name ?? '—';
  const text = bookingText(ctx.locale, 'expired', { until: formatWhen(record.deadline, ctx.locale), stage, unit: record.unit });
  await ctx.crm.addComment(deal, text);
  const alert = bookingText(ctx.locale, 'expiredAlert', { deal: deal.title, unit: record.unit });
  const people = new Set([deal.responsibleId, ...(await headsOfSales(ctx, regulation))].filter((x): x is string => Boolean(x)));
  for (const id of people) await ctx.crm.notifyUser(id, alert, deal);
  await dropBooking(ctx, deal);
  await ctx.timers.cancel(ROBOT, `warn:${dealKey(deal)}`);
  await ctx.report({ target: deal, summary: 'booking expired', before: 'booking', after: stage });
}
