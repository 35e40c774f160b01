/**
 * The nightly drift report: every unit the app holds for a deal is compared with the deal in the
 * CRM and the unit in the inventory. Safe cases are fixed (a unit still booked for a deal that
 * was lost or whose booking expired is freed); the rest is listed for the head of sales.
 */
import { HOLDERS, readHold, regulationFor, roleOf, syncSettingsOf, type BookingCtx, type HolderEntry } from './booking-context';
import { targetFor } from './booking-plan';
import { statusName } from './booking-messages';
import { syncUnit } from './unit-sync';

export interface DriftLine {
  unitId: string;
  dealId: string;
  problem: string;
}

export interface DriftReport {
  checked: number;
  fixed: DriftLine[];
  listed: DriftLine[];
}

export async function inventoryDrift(ctx: BookingCtx, options: { fix: boolean }): Promise<DriftReport> {
  const inventory = ctx.inventory();
  const report: DriftReport = { checked: 0, fixed: [], listed: [] };
  if (!inventory) return report;
  const holders = await ctx.state.mapAll(HOLDERS);
  const ru = ctx.locale !== 'en';
  for (const [unitId, raw] of Object.entries(holders)) {
    const holder = JSON.parse(raw) as HolderEntry;
    report.checked++;
    const line = (problem: string) => ({ unitId, dealId: holder.dealId, problem });
    const deal = await ctx.crm.getDeal({ entity: holder.entity, id: holder.dealId });
    const unit = await inventory.getUnit(unitId);
    if (!unit) {
      report.listed.push(line(ru ? 'объекта нет в системе учёта' : 'the unit is gone from the inventory'));
      continue;
    }
    const regulation = deal ? await regulationFor(ctx, deal) : null;
    if (!deal || !regulation) {
      report.listed.push(line(ru ? `сделка удалена или вне регламента, объект «${statusName('ru', unit.status)}»` : `the deal is gone or ungoverned, unit ${unit.status}`));
      continue;
    }
    const target = targetFor(roleOf(regulation, deal.stageId), syncSettingsOf(ctx));
    const hold = await readHold(ctx, deal);
    const ours = inventory.dealKey({ crm: ctx.crm.crm, id: deal.id });
    if (unit.heldByDeal && unit.heldByDeal !== ours) {
      report.listed.push(line(ru ? `объект занят другой сделкой (${unit.heldByDeal}), статус «${statusName('ru', unit.status)}»` : `held by another deal (${unit.heldByDeal}), ${unit.status}`));
      continue;
    }
    if (target.kind === 'free' && (unit.status === 'booked' || unit.status === 'in_execution')) {
      // Safe: the app booked it for this deal, and the deal no longer wants it.
      if (options.fix && (await syncUnit(ctx, deal, regulation)) === 'written') report.fixed.push(line(ru ? 'освобождён: сделка закрыта или бронь истекла' : 'released: the deal was lost or its booking expired'));
      else report.listed.push(line(ru ? 'сделка закрыта, объект ещё забронирован' : 'the deal is closed, the unit is still booked'));
      continue;
    }
    if (target.kind === 'hold' && unit.status !== target.status && !(target.status === 'booked' && hold?.status !== 'booked')) {
      report.listed.push(line(ru ? `в CRM «${statusName('ru', target.status)}», в системе учёта «${statusName('ru', unit.status)}»` : `CRM says ${target.status}, the inventory ${unit.status}`));
    }
  }
  return report;
}

export function formatDrift(report: DriftReport, locale: 'ru' | 'en'): string {
  const ru = locale !== 'en';
  const lines = [
    ru ? `Сверка объектов: проверено ${report.checked}, исправлено ${report.fixed.length}, требуют внимания ${report.listed.length}.` : `Unit drift: ${report.checked} checked, ${report.fixed.length} fixed, ${report.listed.length} need attention.`,
    ...report.fixed.map((l) => `✓ ${l.unitId} / ${ru ? 'сделка' : 'deal'} ${l.dealId}: ${l.problem}`),
    ...report.listed.map((l) => `! ${l.unitId} / ${ru ? 'сделка' : 'deal'} ${l.dealId}: ${l.problem}`),
  ];
  return lines.join('\n');
}
