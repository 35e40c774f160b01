/**
 * Changes the inventory reports on its own (a person in Profitbase or 1C, the website, another
 * sales channel). A unit sold or booked for another deal while one of our deals holds its booking
 * is the worst case of seed 000 (two managers selling one flat): the holding deal's manager and
 * the head of sales are alerted with both deals named.
 */
import type { InventoryPort, UnitChange } from '../../inventory/inventory-port';
import { describeHolder, headsOfSales, HOLDERS, regulationFor, type BookingCtx, type HolderEntry } from './booking-context';
import { bookingText, SYSTEM_NAMES } from './booking-messages';

const RANK: Record<string, number> = { available: 0, booked: 1, in_execution: 2, sold: 3, unavailable: 4 };

/**
 * Whether a change takes a unit away from the deal that holds it in our records: booked, sold or
 * taken off sale for another deal (or by hand), or moved past what this deal did (Profitbase
 * keeps the deal attached when someone sells the unit by hand in its UI). Pure.
 */
export function takesUnitFrom(change: UnitChange, holderKey: string, heldStatus: 'booked' | 'in_execution' | 'sold'): boolean {
  if (RANK[change.to]! < RANK.booked!) return false;
  if (change.dealId !== holderKey) return true;
  return RANK[change.to]! > RANK[heldStatus]!;
}

export async function handleUnitChanges(ctx: BookingCtx, inventory: InventoryPort, changes: UnitChange[]): Promise<number> {
  if (!changes.length) return 0;
  const holders = await ctx.state.mapAll(HOLDERS);
  let alerts = 0;
  for (const change of changes) {
    const raw = holders[change.unitId];
    if (!raw) continue;
    const holder = JSON.parse(raw) as HolderEntry;
    if (!takesUnitFrom(change, inventory.dealKey({ crm: ctx.crm.crm, id: holder.dealId }), holder.status)) continue;
    // At-least-once delivery (callbacks and polling may both see it): one alert per change.
    if ((await ctx.state.increment(`change-alerted:${change.key}`, 14 * 86_400)) !== 1) continue;
    const deal = await ctx.crm.getDeal({ entity: holder.entity, id: holder.dealId });
    const regulation = deal ? await regulationFor(ctx, deal) : null;
    const other = change.dealId ? await describeHolder(ctx, change.dealId) : ctx.locale === 'en' ? 'no deal (by hand)' : 'без сделки (вручную)';
    const text = bookingText(ctx.locale, 'takenElsewhere', {
      unit: holder.unitText ?? change.unitId,
      deal: deal?.title ?? `#${holder.dealId}`,
      what: whatHappened(ctx.locale, change.to),
      system: SYSTEM_NAMES[inventory.system],
      other,
    });
    const people = new Set([deal?.responsibleId, ...(await headsOfSales(ctx, regulation))].filter((x): x is string => Boolean(x)));
    const about = { entity: holder.entity, id: holder.dealId };
    for (const id of people) await ctx.crm.notifyUser(id, text, about);
    if (deal) await ctx.crm.addComment(deal, text);
    await ctx.report({ target: about, summary: `unit ${change.unitId} ${change.to} elsewhere (${change.dealId ?? 'by hand'}) while this deal holds it` });
    alerts++;
  }
  return alerts;
}

function whatHappened(locale: 'ru' | 'en', to: string): string {
  const ru: Record<string, string> = { booked: 'забронирован', in_execution: 'переведён в оформление', sold: 'продан', unavailable: 'снят с продажи' };
  const en: Record<string, string> = { booked: 'booked', in_execution: 'put into execution', sold: 'sold', unavailable: 'taken off sale' };
  return (locale === 'en' ? en : ru)[to] ?? to;
}
