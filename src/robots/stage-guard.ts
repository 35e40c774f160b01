import { z } from 'zod';
import { defineRobot, type RobotContext } from '../app';
import type { CrmUser, Deal } from '../crm/crm-port';
import type { StageChangedPayload } from '../events';
import { revertNote } from '../regulation/messages';
import { entersMeetingHeld, evaluateMove, isViolationAlertDue, renderMessage, type BoundRegulation, type MoveDecision } from '../regulation';
import { undoExemptionKey, type UndoExemption } from '../card/undo-plan';
import { bindRegulations, describeBindingErrors, regulationOf, regulationSpecSchema } from '../regulation/installation-bindings';

/**
 * Robot 1 — stage guard. The CRM lets a manager move a deal anywhere; the regulation does not.
 * On every stage change the guard judges each step the deal took since the app last saw it
 * (allowed moves, stages that may not be skipped, required fields, closing reasons). A broken
 * rule puts the deal back where it came from in one write, explains why in the card, notifies
 * the manager, and counts the violation; the head of sales hears of repeat offenders. Entering
 * «Встреча состоялась» is recorded as a fact for the monthly manager rating.
 */
const settings = z.object({
  enabled: z.boolean().default(true),
  /** The installation's regulations: shipped presets bound to this portal's funnels (see config/presets). */
  regulations: z.array(regulationSpecSchema).default([]),
});
type Settings = z.infer<typeof settings>;
export type StageGuardSettings = Settings;
type Ctx = RobotContext<'deal.stageChanged' | 'lead.stageChanged', Settings>;

const DAY = 24 * 3600;

export const stageGuard = defineRobot({
  name: 'stageGuard',
  settings,
  register(app) {
    app.on('deal.stageChanged', guard);
    app.on('lead.stageChanged', guard);
  },
});

async function guard(ctx: Ctx): Promise<void> {
  const change = ctx.payload;
  if (change.causedByApp || !change.from) return; // the echo of our own revert, or nothing to judge against
  if (await undoneByHeadOfSales(ctx, change)) return;
  const regulation = await activeRegulation(ctx, change.deal);
  if (!regulation) return;
  const mover = await moverOf(ctx, change.deal);
  const reverted = await revertedStages(ctx, change.deal);
  const verdict = judgePath(regulation, change, mover, reverted, ctx.locale);
  if (verdict.reverting) return revert(ctx, regulation, verdict.reverting, mover);
  if (verdict.enteredMeetingHeld) await recordMeetingHeld(ctx, regulation, mover);
}

/** A head of sales undid the guard's revert from the card: that move stands (used once). */
async function undoneByHeadOfSales(ctx: Ctx, change: StageChangedPayload): Promise<boolean> {
  const key = undoExemptionKey(change.deal);
  const raw = await ctx.state.get(key);
  if (!raw) return false;
  const exemption = JSON.parse(raw) as UndoExemption;
  if (change.deal.stageId !== exemption.to || (change.from !== exemption.from && change.from !== exemption.to)) return false;
  await ctx.state.delete(key);
  return true;
}

/** Binds the installation's regulations; one that fails validation is reported and never enforced. */
async function activeRegulation(ctx: Ctx, deal: Deal): Promise<BoundRegulation | null> {
  const bindings = await bindRegulations(ctx.crm, ctx.settings.regulations, deal.entity);
  for (const failed of bindings.filter((b) => !b.ok)) {
    const once = await ctx.state.increment(`regulation-invalid:${failed.spec.preset}`, 3600);
    if (once === 1) ctx.log.error({ preset: failed.spec.preset, errors: describeBindingErrors(failed) }, 'regulation refused: the stage guard does not run on it');
  }
  return regulationOf(bindings, deal);
}

interface Mover {
  userId: string | null;
  isAdmin: boolean;
  name: string;
}

async function moverOf(ctx: Ctx, deal: Deal): Promise<Mover> {
  // Bitrix24 keeps who moved the stage (movedBy); amoCRM only who changed the lead last.
  const userId = String(deal.fields.movedBy ?? deal.modifiedBy ?? '') || null;
  const users: CrmUser[] = await ctx.crm.listUsers().catch(() => []);
  const user = users.find((u) => u.id === userId);
  return { userId, isAdmin: user?.isAdmin ?? false, name: user?.name ?? (userId ? `#${userId}` : '—') };
}

/**
 * Judges every step since the last stage the app saw (A→B→C faster than the guard reverts is
 * two steps); the first step that breaks the regulation decides, and the deal goes back to
 * where that step started.
 */
function judgePath(regulation: BoundRegulation, change: StageChangedPayload, mover: Mover, reverted: Set<string>, locale: 'ru' | 'en') {
  const history = markReverted(change.history, reverted);
  const steps = [change.from!, ...change.path];
  let enteredMeetingHeld = false;
  for (let i = 1; i < steps.length; i++) {
    const move = { fromStageId: steps[i - 1]!, toStageId: steps[i]! };
    const decision = evaluateMove(regulation, { ...move, fields: change.deal.fields, history, movedBy: { userId: mover.userId, isAdmin: mover.isAdmin }, locale });
    if (decision.verdict === 'revert') return { reverting: decision, enteredMeetingHeld: false };
    if (entersMeetingHeld(regulation, move)) enteredMeetingHeld = true;
  }
  return { reverting: null, enteredMeetingHeld };
}

/** History entries the app reverted do not count as stages the deal passed. */
function markReverted(history: string[], reverted: Set<string>) {
  const seen = new Map<string, number>();
  return history.map((stageId) => {
    const n = (seen.get(stageId) ?? 0) + 1;
    seen.set(stageId, n);
    return { stageId, revertedByApp: reverted.has(`${stageId}#${n}`) };
  });
}

async function revertedStages(ctx: Ctx, deal: Deal): Promise<Set<string>> {
  return new Set(await ctx.state.list(`reverted:${deal.entity}:${deal.id}`, 200));
}

async function revert(ctx: Ctx, regulation: BoundRegulation, decision: MoveDecision, mover: Mover): Promise<void> {
  const { deal } = ctx.payload;
  // Decide on the state we read; if the manager moved the deal again meanwhile, the newer
  // event judges the whole path from the stage we last saw.
  const fresh = await ctx.crm.getDeal(deal);
  if (!fresh || fresh.stageId !== deal.stageId) {
    ctx.keepLastSeenStage();
    return;
  }
  const target = decision.revertTo!;
  await rememberReverted(ctx, deal, decision.to?.stageId ?? deal.stageId);
  await ctx.crm.moveDeal(deal, target);
  const text = revertNote(regulation, decision, { from: target, to: deal.stageId }, ctx.locale);
  await ctx.crm.addComment(deal, text);
  // The responsible manager hears of it, and whoever made the move if that was someone else.
  const recipients = new Set([deal.responsibleId, mover.userId].filter((id): id is string => Boolean(id)));
  for (const userId of recipients) await ctx.crm.notifyUser(userId, text, deal);
  await countViolation(ctx, regulation, mover.userId ?? deal.responsibleId, mover.name, decision);
  await ctx.report({
    target: deal, kind: 'stage_reverted', summary: `reverted: ${decision.reasons.map((r) => r.rule).join(', ')}`, before: decision.to?.name ?? deal.stageId, after: decision.from?.name ?? target,
    why: decision.message,
    // The card's undo: back to where the manager had put the deal, while it still stands where the guard left it.
    undo: { kind: 'stage', to: { id: deal.stageId, name: decision.to?.stageId === deal.stageId ? decision.to.name : undefined }, left: { id: target, name: decision.from?.stageId === target ? decision.from.name : undefined } },
  });
}

/** The history entry we refuse is marked so that it never counts as a stage the deal passed. */
async function rememberReverted(ctx: Ctx, deal: Deal, stageId: string): Promise<void> {
  const occurrences = ctx.payload.history.filter((s) => s === stageId).length || 1;
  await ctx.state.push(`reverted:${deal.entity}:${deal.id}`, `${stageId}#${occurrences}`, 200);
}

async function countViolation(ctx: Ctx, regulation: BoundRegulation, managerId: string | null, managerName: string, decision: MoveDecision): Promise<void> {
  const day = ctx.now().toISOString().slice(0, 10);
  const who = managerId ?? 'unknown';
  await ctx.state.push(`violations:${day}`, JSON.stringify({ managerId: who, dealId: ctx.payload.deal.id, rules: decision.reasons.map((r) => r.rule), at: ctx.now().toISOString() }), 1000);
  const today = await ctx.state.increment(`violations:${day}:${who}`, 2 * DAY);
  if (!isViolationAlertDue(regulation, today)) return;
  const alert = renderMessage(regulation, 'violationAlert', { manager: managerName, count: today, threshold: regulation.settings.violationAlertThreshold }, ctx.locale);
  await ctx.alerts.raise({ kind: 'stageGuard.violations', text: alert, target: ctx.payload.deal, regulationHeads: regulation.settings.headOfSalesUserIds });
  await ctx.report({ target: ctx.payload.deal, summary: `head of sales alerted: ${today} violations today by ${managerName}` });
}

/** «Встреча состоялась» is a fact: when and who, kept for next month's lead distribution. */
async function recordMeetingHeld(ctx: Ctx, regulation: BoundRegulation, mover: Mover): Promise<void> {
  const { deal } = ctx.payload;
  const at = ctx.now();
  const managerId = deal.responsibleId ?? mover.userId ?? 'unknown';
  const fact = { dealId: deal.id, entity: deal.entity, managerId, movedBy: mover.userId, at: at.toISOString() };
  await ctx.state.push(`meetings:${at.toISOString().slice(0, 7)}`, JSON.stringify(fact), 100_000);
  await ctx.state.set(`meeting:${deal.entity}:${deal.id}`, JSON.stringify(fact));
  const users = await ctx.crm.listUsers().catch(() => []);
  const managerName = users.find((u) => u.id === managerId)?.name ?? `#${managerId}`;
  const text = renderMessage(regulation, 'meetingHeld', { date: at.toLocaleDateString(ctx.locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: 'Europe/Moscow' }), manager: managerName }, ctx.locale);
  await ctx.crm.addComment(deal, text);
  await ctx.report({ target: deal, summary: 'meeting held recorded', after: text });
}
