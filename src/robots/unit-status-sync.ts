import { defineRobot, type RobotContext } from '../app';
import type { StageChangedPayload } from '../events';
import { regulationFor, type BookingCtx } from './booking/booking-context';
import { unitStatusSyncSettings, type UnitStatusSyncSettings } from './booking/booking-settings';
import { plannedSteps, syncUnit } from './booking/unit-sync';

/**
 * Robot 6 — unit status sync. Unit statuses in the inventory system (Profitbase, a 1C HTTP
 * service) follow the deals: «Бронь» books the unit (a unit another deal holds sends the deal
 * back, saying who holds it and until when), the contract and registration make it "in
 * execution" or "sold" (configurable), won makes it sold, lost or an expired booking frees it —
 * only when this deal holds it — and a new unit in the deal's field frees the old one and books
 * the new. Every decision is taken on the deal's current state, so judging a deal again (a retry,
 * the reconciliation) converges and never writes twice. Seed 000: «менеджеры забывают менять
 * статусы квартир»; two managers selling one flat is the worst that can happen.
 */
type Ctx = RobotContext<'deal.stageChanged' | 'deal.updated' | 'deal.created', UnitStatusSyncSettings>;

export const unitStatusSync = defineRobot({
  name: 'unitStatusSync',
  settings: unitStatusSyncSettings,
  register(app) {
    app.on('deal.stageChanged', follow);
    app.on('deal.updated', follow);
    app.on('deal.created', follow);
  },
});

async function follow(ctx: Ctx): Promise<void> {
  const { deal } = ctx.payload;
  const regulation = await regulationFor(ctx as BookingCtx, deal);
  if (!regulation) return;
  // Cheap look first (no inventory call): only a deal whose state calls for a write is read again.
  if (!ctx.inventory()) {
    await syncUnit(ctx as BookingCtx, deal, regulation);
    return;
  }
  if (!(await plannedSteps(ctx as BookingCtx, deal, regulation)).length) return;
  // Another robot (the stage guard) may have moved the deal meanwhile: judge what it is now.
  const fresh = await ctx.crm.getDeal(deal);
  if (!fresh) return;
  const from = 'from' in ctx.payload && fresh.stageId === deal.stageId ? (ctx.payload as StageChangedPayload).from : null;
  await syncUnit(ctx as BookingCtx, fresh, regulation, { from });
}
