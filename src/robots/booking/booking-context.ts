/**
 * Shared I/O of the booking releaser and the unit status sync: the deal's regulation, who the
 * heads of sales are, the deal's unit field, and the two records the robots keep per deal
 * (the booking's deadline; what the app wrote to the inventory).
 */
import { createHash } from 'node:crypto';
import type { RobotContext } from '../../app';
import type { Deal, DealRef } from '../../crm/crm-port';
import type { InventoryDeal, InventoryUnit } from '../../inventory/inventory-port';
import { stageById, type BoundRegulation, type StageRole } from '../../regulation';
import { bindRegulations, regulationOf } from '../../regulation/installation-bindings';
import { robotSettingsOf } from '../../settings/installation-settings';
import { resolveFieldCode } from '../deal-renamer';
import { stageGuard } from '../stage-guard';
import type { UnitHold } from './booking-plan';
import { bookingReleaserSettings, unitStatusSyncSettings, type BookingReleaserSettings, type UnitStatusSyncSettings } from './booking-settings';

/** What both robots (and the timer, the drift report) need of a robot context. */
export type BookingCtx = Pick<RobotContext<never, unknown>, 'crm' | 'state' | 'log' | 'locale' | 'installation' | 'inventory' | 'report' | 'timers'>;

/** The bound regulation governing this deal's funnel (the installation's stage-guard regulations), or null. */
export async function regulationFor(ctx: BookingCtx, deal: Deal): Promise<BoundRegulation | null> {
  const parsed = robotSettingsOf<{ regulations: Array<{ preset: string; overrides: Record<string, unknown> }> }>(stageGuard, ctx.installation.settings);
  if (!parsed.success) return null;
  return regulationOf(await bindRegulations(ctx.crm, parsed.data.regulations, deal.entity), deal);
}

export function roleOf(regulation: BoundRegulation, stageId: string | null | undefined): StageRole | null {
  return stageId ? (stageById(regulation, stageId)?.role ?? null) : null;
}

export function releaserSettingsOf(ctx: Pick<BookingCtx, 'installation'>): BookingReleaserSettings {
  const parsed = robotSettingsOf<BookingReleaserSettings>({ name: 'bookingReleaser', settings: bookingReleaserSettings }, ctx.installation.settings);
  if (!parsed.success) throw new Error(`bookingReleaser settings are invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

export function syncSettingsOf(ctx: Pick<BookingCtx, 'installation'>): UnitStatusSyncSettings {
  const parsed = robotSettingsOf<UnitStatusSyncSettings>({ name: 'unitStatusSync', settings: unitStatusSyncSettings }, ctx.installation.settings);
  if (!parsed.success) throw new Error(`unitStatusSync settings are invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** Heads of sales: the setting, else the regulation's, else the CRM's administrators. */
export async function headsOfSales(ctx: BookingCtx, regulation: BoundRegulation | null): Promise<string[]> {
  const own = releaserSettingsOf(ctx).headOfSalesUserIds;
  if (own.length) return own;
  if (regulation?.settings.headOfSalesUserIds.length) return regulation.settings.headOfSalesUserIds.map(String);
  return (await ctx.crm.listUsers().catch(() => [])).filter((u) => u.isAdmin).map((u) => u.id);
}

/** Heads of sales of the installation as a whole (its first deal regulation), for reports not about one deal. */
export async function installationHeads(ctx: BookingCtx): Promise<string[]> {
  const parsed = robotSettingsOf<{ regulations: Array<{ preset: string; overrides: Record<string, unknown> }> }>(stageGuard, ctx.installation.settings);
  const bindings = parsed.success ? await bindRegulations(ctx.crm, parsed.data.regulations, 'deal') : [];
  const first = bindings.find((b) => b.ok && b.regulation.entity === 'deal');
  return headsOfSales(ctx, first?.ok ? first.regulation : null);
}

/** The text of a CRM field named per CRM (code or title), or '' when the deal has none. */
export async function fieldText(ctx: BookingCtx, deal: Deal, field: { bitrix24: string; amocrm: string } | undefined): Promise<unknown> {
  if (!field) return undefined;
  const code = resolveFieldCode(field[ctx.crm.crm], await ctx.crm.listFields(deal.entity));
  return code ? deal.fields[code] : undefined;
}

export async function unitTextOf(ctx: BookingCtx, deal: Deal): Promise<string> {
  const value = await fieldText(ctx, deal, syncSettingsOf(ctx).unitField);
  if (value === null || value === undefined) return '';
  return (Array.isArray(value) ? value.map(String).join(', ') : String(value)).trim();
}

export function inventoryDeal(ctx: BookingCtx, deal: Deal): InventoryDeal {
  return { crm: ctx.crm.crm, id: deal.id, title: deal.title, responsible: deal.responsibleId ?? undefined };
}

export const dealKey = (deal: DealRef) => `${deal.entity}:${deal.id}`;

// ---------------------------------------------------------------------------------------------
// Records kept per deal
// ---------------------------------------------------------------------------------------------

/** The booking the releaser watches: created when the deal enters «Бронь», removed when it leaves. */
export interface BookingRecord {
  since: string;
  deadline: number;
  warnAt: number | null;
  term: number;
  paid: boolean;
  unit: string;
  /** The releaser announced it in the card. */
  announced?: boolean;
  /** Expiry began (moved to «Бронь истекла»); a retried timer finishes it. */
  expiring?: boolean;
  /** The last extension value refused (so a refusal is said once). */
  refusedExtension?: number;
}

const bookingKey = (deal: DealRef) => `booking:${dealKey(deal)}`;
const holdKey = (deal: DealRef) => `unit-hold:${dealKey(deal)}`;
/** unit id → the deal holding it, for inbound changes and the drift report. */
export const HOLDERS = 'unit-holders';

export async function readBooking(ctx: Pick<BookingCtx, 'state'>, deal: DealRef): Promise<BookingRecord | null> {
  const raw = await ctx.state.get(bookingKey(deal));
  return raw ? (JSON.parse(raw) as BookingRecord) : null;
}

export async function writeBooking(ctx: Pick<BookingCtx, 'state'>, deal: DealRef, record: BookingRecord): Promise<void> {
  // Kept a little past the deadline: an expired booking needs no record for long.
  const ttl = Math.max(3600, Math.ceil((record.deadline - Date.now()) / 1000) + 30 * 86_400);
  await ctx.state.set(bookingKey(deal), JSON.stringify(record), ttl);
}

export async function dropBooking(ctx: Pick<BookingCtx, 'state'>, deal: DealRef): Promise<void> {
  await ctx.state.delete(bookingKey(deal));
}

export async function readHold(ctx: Pick<BookingCtx, 'state'>, deal: DealRef): Promise<UnitHold | null> {
  const raw = await ctx.state.get(holdKey(deal));
  return raw ? (JSON.parse(raw) as UnitHold) : null;
}

export interface HolderEntry {
  entity: Deal['entity'];
  dealId: string;
  title: string;
  unitText: string;
  status: UnitHold['status'];
}

export async function writeHold(ctx: Pick<BookingCtx, 'state'>, deal: Deal, hold: UnitHold): Promise<void> {
  await ctx.state.set(holdKey(deal), JSON.stringify(hold));
  const entry: HolderEntry = { entity: deal.entity, dealId: deal.id, title: deal.title, unitText: hold.unitText, status: hold.status };
  await ctx.state.mapSet(HOLDERS, hold.unitId, JSON.stringify(entry));
}

export async function clearHold(ctx: Pick<BookingCtx, 'state'>, deal: DealRef, unitId: string): Promise<void> {
  await ctx.state.delete(holdKey(deal));
  const holder = await ctx.state.mapAll(HOLDERS).then((all) => all[unitId]);
  if (holder && (JSON.parse(holder) as HolderEntry).dealId === deal.id) await ctx.state.mapDelete(HOLDERS, unitId);
}

/** The unit a deal's field names, cached a day per text (a Profitbase lookup by number can take pages at 1 request/s). */
export async function resolveUnit(ctx: BookingCtx, unitText: string): Promise<InventoryUnit | null> {
  const inventory = ctx.inventory();
  if (!inventory) return null;
  const cacheKey = `unit-lookup:${createHash('sha1').update(unitText.trim().toLowerCase()).digest('hex')}`;
  const cached = await ctx.state.get(cacheKey);
  if (cached) return JSON.parse(cached) as InventoryUnit;
  const unit = await inventory.findUnit(unitText);
  if (unit) await ctx.state.set(cacheKey, JSON.stringify(unit), 86_400);
  return unit;
}

/** «сделка №759 «Иванов / 5-101»», or the inventory's id when the deal is not in this CRM. */
export async function describeHolder(ctx: BookingCtx, heldByDeal: string | null): Promise<string> {
  const en = ctx.locale === 'en';
  if (!heldByDeal) return en ? 'another deal' : 'другая сделка';
  const id = heldByDeal.replace(/^(b24|amo):/, '');
  const ours = /^(b24|amo):/.test(heldByDeal) ? heldByDeal.startsWith(ctx.crm.crm === 'bitrix24' ? 'b24:' : 'amo:') : true;
  const other = ours && /^\d+$/.test(id) ? await ctx.crm.getDeal({ entity: 'deal', id }).catch(() => null) : null;
  const name = other ? ` «${other.title}»` : '';
  return en ? `deal #${id}${name}` : `сделка №${id}${name}`;
}
