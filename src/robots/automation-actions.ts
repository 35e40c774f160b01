import type { Robot, TimerContext } from '../app';
import type { AutomationAction, AutomationResult } from '../automation/automation-call';
import type { Deal } from '../crm/crm-port';
import { explainDecision } from '../distribution/weighted-round-robin';
import { previousStage } from '../pipeline/stage-tracker';
import { evaluateMove } from '../regulation';
import { bindRegulations, regulationOf } from '../regulation/installation-bindings';
import { regulationFor, readHold, type BookingCtx } from './booking/booking-context';
import type { Target } from './booking/booking-plan';
import { syncUnit, type SyncOutcome } from './booking/unit-sync';
import { applyTitle, dealRenamer, type DealRenamerSettings } from './deal-renamer';
import { stageGuard, type StageGuardSettings } from './stage-guard';
import { chooseManager } from './takeover/choose-manager';
import { distributionInput, rosterOptionsOf, takeoverTimer, type TakeoverSettings } from './takeover-timer';
import { unitStatusSync } from './unit-status-sync';

/**
 * The robots' work on demand: the CRM's own automation (a Bitrix24 robot an admin placed on a
 * stage) asks for one action on one deal, and gets values back. Each action reuses its robot's
 * code and settings; none decides anything the robot would not.
 */
type Ctx<S> = TimerContext<S>;
const yes = (b: boolean) => (b ? 'Y' : 'N');

/** «Проверить переход по регламенту»: judges the move and says so; the deal is not moved. */
export async function checkTransition(ctx: Ctx<StageGuardSettings>, deal: Deal, toStage: string | undefined): Promise<AutomationResult> {
  const regulation = regulationOf(await bindRegulations(ctx.crm, ctx.settings.regulations, deal.entity), deal);
  const none = ctx.locale === 'ru' ? 'Регламент для этой воронки не подключён' : 'No regulation is bound to this funnel';
  if (!regulation) return { values: { allowed: 'Y', violations: '' }, log: none };
  const history = await ctx.crm.getStageHistory(deal);
  const from = toStage ? deal.stageId : previousStage(history, deal.stageId);
  const to = toStage || deal.stageId;
  if (!from) return { values: { allowed: 'Y', violations: '' }, log: ctx.locale === 'ru' ? 'Переходов ещё не было' : 'No move yet' };
  const decision = evaluateMove(regulation, {
    fromStageId: from,
    toStageId: to,
    fields: deal.fields,
    history: history.map((h) => ({ stageId: h.stageId, revertedByApp: false })),
    // The automation runs on behalf of no one: no exemption applies.
    movedBy: null,
    locale: ctx.locale,
  });
  const allowed = decision.verdict === 'allow';
  return { values: { allowed: yes(allowed), violations: decision.message }, log: allowed ? decision.why : decision.message };
}

/**
 * «Передать лид по распределению»: the takeover robot's distribution picks the manager. The choice
 * is kept under the call's key before the lead is assigned, so a retry after a crash assigns the
 * same manager instead of taking another turn of the rotation.
 */
export async function distributeLead(ctx: Ctx<TakeoverSettings>, deal: Deal): Promise<AutomationResult> {
  const decisionKey = `${ctx.key}:decision`;
  let decided = parseDecision(await ctx.state.get(decisionKey));
  if (!decided) {
    const choice = await chooseManager({ ...distributionInput(ctx, await rosterOptionsOf(ctx), ctx.now()), exclude: [] });
    const why = explainDecision(choice.decision);
    if (!choice.manager) return { values: { responsibleId: '', responsibleName: '' }, log: why };
    decided = { id: choice.manager.id, name: choice.manager.name, why };
    await ctx.state.set(decisionKey, JSON.stringify(decided), 7 * 86_400);
  }
  if (deal.responsibleId !== decided.id) {
    await ctx.crm.assignResponsible(deal, decided.id);
    const text = ctx.locale === 'ru' ? `Вам передан ${deal.entity === 'lead' ? 'лид' : 'сделка'} «${deal.title}» по распределению.` : `«${deal.title}» was assigned to you by distribution.`;
    await ctx.crm.notifyUser(decided.id, text, deal);
    await ctx.report({ target: deal, summary: 'assigned by distribution (automation)', kind: 'distributed', before: deal.responsibleId ?? '—', after: decided.name });
  }
  return { values: { responsibleId: decided.id, responsibleName: decided.name }, log: decided.why };
}

function parseDecision(raw: string | null): { id: string; name: string; why: string } | null {
  if (!raw) return null;
  const value = JSON.parse(raw) as { id?: unknown; name?: unknown; why?: unknown };
  return typeof value.id === 'string' ? { id: value.id, name: String(value.name ?? ''), why: String(value.why ?? '') } : null;
}

/** «Забронировать объект» / «Снять бронь»: the unit status sync, asked for a booking or a release. */
export async function changeBooking(ctx: Ctx<unknown>, deal: Deal, wanted: 'book' | 'release'): Promise<AutomationResult> {
  const booking = ctx as unknown as BookingCtx;
  const regulation = await regulationFor(booking, deal);
  const key = wanted === 'book' ? 'booked' : 'released';
  if (!regulation) return { values: { [key]: 'N', outcome: 'no_regulation' }, log: 'no regulation bound to this funnel' };
  const target: Target = wanted === 'book' ? { kind: 'hold', status: 'booked' } : { kind: 'free', reason: 'manual' };
  const outcome: SyncOutcome = await syncUnit(booking, deal, regulation, { target });
  const held = (await readHold(booking, deal)) !== null;
  const done = outcome === 'written' || outcome === 'in_step' ? (wanted === 'book' ? held : !held) : false;
  return { values: { [key]: yes(done), outcome }, log: outcome };
}

/** «Переименовать сделку»: the renamer's template. */
export async function renameByTemplate(ctx: Ctx<DealRenamerSettings>, deal: Deal): Promise<AutomationResult> {
  const snapshot = await ctx.crm.getDealWithContacts(deal);
  const title = await applyTitle(ctx, snapshot?.deal ?? deal, snapshot?.contacts ?? []);
  return { values: { title: title || deal.title }, log: title ? `title: ${title}` : 'nothing to build a title from' };
}

/** Which robot's settings and code an action runs with. */
export const ACTION_ROBOT: Record<AutomationAction, Robot<any>> = {
  checkTransition: stageGuard,
  distributeLead: takeoverTimer,
  bookUnit: unitStatusSync,
  releaseUnit: unitStatusSync,
  renameDeal: dealRenamer,
};

export async function runAutomationAction(ctx: Ctx<any>, action: AutomationAction, deal: Deal, properties: Record<string, string>): Promise<AutomationResult> {
  switch (action) {
    case 'checkTransition':
      return checkTransition(ctx, deal, properties.toStage?.trim() || undefined);
    case 'distributeLead':
      return distributeLead(ctx, deal);
    case 'bookUnit':
      return changeBooking(ctx, deal, 'book');
    case 'releaseUnit':
      return changeBooking(ctx, deal, 'release');
    case 'renameDeal':
      return renameByTemplate(ctx, deal);
  }
}
