import { defineRobot, resolveSettings, type TimerContext } from '../app';
import type { Deal, DealRef } from '../crm/crm-port';
import { stageById, type BoundRegulation, type BoundStage } from '../regulation';
import { bindRegulations, regulationOf } from '../regulation/installation-bindings';
import { runCadenceStep, startCadence } from '../stage-timers/cadence';
import { limitDue } from '../stage-timers/limit-due';
import { DAY_S, ROBOT, scheduleOf, stageTimersSettings, timerKey, type DealCtx, type StageCtx, type StageTimersSettings, type Stay, type TimerData, type TimersCtx } from '../stage-timers/shared';
import { humanDuration, texts } from '../stage-timers/texts';
import { stageGuard } from './stage-guard';

/**
 * Robot — stage timers (seed 002 time rules, seed 001 process alerts). The regulation says how
 * long a deal may stay in a stage (`timeLimit`) and which task a stage needs (`nextStep`); this
 * robot keeps those promises with delayed timers:
 * - a deal stuck past its limit is reported (manager, heads of sales, or both), reminded, escalated;
 * - a touch-based limit («Отложенный спрос») restarts at every call, note or message and ends in a task;
 * - entering «Отправлено КП» / «Встреча назначена» without an open task creates the feedback / meeting task;
 * - «Не дозвонились» runs the call cadence (`../stage-timers/cadence.ts`);
 * - a lead without a (living) responsible and a manager with too many untouched leads alert the heads of sales.
 * Every timer names the deal's stay in its stage; a timer of an older stay does nothing.
 */
export const stageTimers = defineRobot({
  name: ROBOT,
  settings: stageTimersSettings,
  register(app) {
    app.on('deal.stageChanged', onStageChanged);
    app.on('lead.stageChanged', onStageChanged);
    app.on('deal.created', checkAssigned);
    app.on('deal.updated', checkAssigned);
    app.on('lead.created', checkAssigned);
    app.on('lead.updated', checkAssigned);
    app.onTimer(onTimer);
  },
});

const stayKey = (ref: DealRef) => `stay:${ref.entity}:${ref.id}`;

async function onStageChanged(ctx: StageCtx): Promise<void> {
  const { deal } = ctx.payload;
  // The stage guard may have put the deal back already (then the stay it came from goes on, timers
  // and all), or the deal moved on (its own event decides): act only on the stage the deal is in.
  const fresh = await ctx.crm.getDeal(deal);
  if (!fresh || fresh.stageId !== deal.stageId) return;
  for (const kind of ['limit', 'escalate', 'cadence'] as const) await ctx.timers.cancel(ROBOT, timerKey(kind, deal));
  const regulation = await regulationFor(ctx, deal);
  const stage = regulation ? stageById(regulation, deal.stageId) : undefined;
  if (!regulation || !stage || !hasWork(stage)) return;
  const now = ctx.now();
  const stay: Stay = { id: `${deal.entity}:${deal.id}:${deal.stageId}@${now.getTime()}`, stageId: deal.stageId, enteredAt: now.toISOString() };
  await ctx.state.set(stayKey(deal), JSON.stringify(stay), 70 * DAY_S);
  if (stage.timeLimit) await scheduleLimit(ctx, 'limit', deal, stay, now, 0, stage.timeLimit.maxTimeMs, stage.timeLimit.clock);
  if (stage.timeLimit?.escalation) await scheduleLimit(ctx, 'escalate', deal, stay, now, 0, stage.timeLimit.escalation.afterMs, stage.timeLimit.clock);
  if (stage.nextStep) await ensureNextStep(ctx, deal, stage);
  if (stage.role === 'no_answer' && ctx.settings.noAnswer.enabled && !ctx.payload.causedByApp) await startCadence(ctx, deal, stay);
  if (stage.role === 'in_work') await checkOverload(ctx, regulation, deal, stage);
}

function hasWork(stage: BoundStage): boolean {
  return Boolean(stage.timeLimit || stage.nextStep || stage.role === 'no_answer' || stage.role === 'in_work');
}

export async function regulationFor(ctx: TimersCtx, deal: Deal): Promise<BoundRegulation | null> {
  const specs = resolveSettings(stageGuard, ctx.installation).regulations;
  return regulationOf(await bindRegulations(ctx.crm, specs, deal.entity), deal);
}

async function scheduleLimit(ctx: TimersCtx, kind: 'limit' | 'escalate', deal: DealRef, stay: Stay, from: Date, n: number, afterMs: number, clock: 'working' | 'calendar'): Promise<void> {
  const due = limitDue(scheduleOf(ctx), clock, from, afterMs);
  const data: TimerData = { kind, entity: deal.entity, id: deal.id, stay: stay.id, from: from.toISOString(), n };
  await ctx.timers.schedule(ROBOT, timerKey(kind, deal), due.getTime() - ctx.now().getTime(), { ...data, dueAt: due.toISOString() });
}

// ---------------------------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------------------------

async function onTimer(ctx: TimerContext<StageTimersSettings>): Promise<void> {
  const data = ctx.data as unknown as TimerData;
  const ref: DealRef = { entity: data.entity, id: data.id };
  const stay = JSON.parse((await ctx.state.get(stayKey(ref))) ?? 'null') as Stay | null;
  const deal = await ctx.crm.getDeal(ref);
  // The deal left the stage (or came back since): this timer belongs to a stay that is over.
  if (!deal || !stay || stay.id !== data.stay || deal.stageId !== stay.stageId) return;
  const regulation = await regulationFor(ctx, deal);
  const stage = regulation ? stageById(regulation, deal.stageId) : undefined;
  if (!regulation || !stage) return;
  if (data.kind === 'cadence') return runCadenceStep(ctx, regulation, deal, stay, data.n);
  const limit = stage.timeLimit;
  if (!limit) return;
  if (limit.since === 'last_touch') {
    const touch = await lastTouch(ctx, deal, new Date(data.from));
    if (touch) {
      // A touch restarts the clock: no alert, the limit counts again from the touch.
      await scheduleLimit(ctx, data.kind, deal, stay, touch, 0, data.kind === 'escalate' ? limit.escalation!.afterMs : limit.maxTimeMs, limit.clock);
      await ctx.report({ target: deal, summary: `${stage.name}: touched ${touch.toISOString()}, the ${humanDuration(limit.maxTimeMs, 'en')} limit restarts` });
      return;
    }
  }
  // Once per stay and step: marked after it is done, so a failure is retried and a done step is not repeated.
  const done = `fired:${stay.id}:${data.kind}:${data.n}`;
  if (!(await ctx.state.get(done))) {
    if (data.kind === 'escalate') await tell(ctx, regulation, deal, stage, limit.escalation!.notify, limit.escalation!.afterMs, 'notify');
    else await tell(ctx, regulation, deal, stage, limit.notify, limit.maxTimeMs + data.n * (limit.repeatEveryMs ?? 0), limit.action);
    await ctx.state.set(done, '1', 70 * DAY_S);
  }
  if (data.kind === 'limit' && limit.repeatEveryMs) await scheduleLimit(ctx, 'limit', deal, stay, ctx.now(), data.n + 1, limit.repeatEveryMs, limit.clock);
}

/** The newest call, note or message by the responsible since `since` (any author when the deal has none). */
async function lastTouch(ctx: TimersCtx, deal: Deal, since: Date): Promise<Date | null> {
  const activities = await ctx.crm.listActivities(deal, new Date(since.getTime() + 1000));
  const mine = activities.filter((a) => !deal.responsibleId || a.authorId === deal.responsibleId);
  const last = mine[mine.length - 1];
  return last ? new Date(last.at) : null;
}

async function tell(ctx: TimersCtx, regulation: BoundRegulation, deal: Deal, stage: BoundStage, who: readonly string[], elapsedMs: number, action: 'notify' | 'task'): Promise<void> {
  const info = await dealInfo(ctx, deal, stage);
  const limit = humanDuration(elapsedMs, ctx.locale);
  if (who.includes('manager') && deal.responsibleId) {
    if (action === 'task') {
      const text = texts.untouched(info, limit, ctx.locale);
      const open = await ctx.crm.listOpenTasks(deal);
      if (!open.length) await ctx.crm.createTask(deal, { kind: 'call', text, dueAt: limitDue(scheduleOf(ctx), 'working', ctx.now(), 3_600_000), responsibleId: deal.responsibleId });
      await ctx.report({ target: deal, summary: open.length ? `${stage.name}: untouched for ${limit}; the manager already has an open task` : `${stage.name}: untouched for ${limit}: task for the manager`, after: text });
    } else {
      const text = texts.stuckForManager(info, limit, ctx.locale);
      await ctx.crm.notifyUser(deal.responsibleId, text, deal);
      await ctx.report({ target: deal, summary: `${stage.name}: over ${limit}, manager told`, after: text });
    }
  }
  if (who.includes('head_of_sales')) {
    const text = texts.stuckForHead(info, limit, ctx.locale);
    await ctx.alerts.raise({ kind: 'stage.overdue', text, target: deal, regulationHeads: regulation.settings.headOfSalesUserIds });
    await ctx.report({ target: deal, summary: `${stage.name}: over ${limit}, heads of sales alerted`, after: text });
  }
}

export async function dealInfo(ctx: TimersCtx, deal: Deal, stage: BoundStage) {
  const users = await ctx.crm.listUsers().catch(() => []);
  const manager = users.find((u) => u.id === deal.responsibleId)?.name ?? (deal.responsibleId ? `#${deal.responsibleId}` : '—');
  return { title: deal.title, id: deal.id, stage: stage.name, manager };
}

// ---------------------------------------------------------------------------------------------
// Next steps, overload, unassigned
// ---------------------------------------------------------------------------------------------

/** An open task that already is the next step (the manager's own wording included). */
const NEXT_STEP_TASK = { feedback: /обратн|feedback|ОС\b/i, meeting: /встреч|показ|meeting/i } as const;

/** «Отправлено КП» needs a feedback task, «Встреча назначена» the meeting task: created when the deal has no open task. */
async function ensureNextStep(ctx: StageCtx, deal: Deal, stage: BoundStage): Promise<void> {
  const step = stage.nextStep!;
  if (!deal.responsibleId) return;
  let dueAt: Date;
  if (step.kind === 'feedback') dueAt = limitDue(scheduleOf(ctx), 'calendar', ctx.now(), step.dueMs);
  else {
    const date = meetingDate(deal.fields[step.dateFieldCode]);
    if (!date) return; // no date yet: the stage guard asks for it
    dueAt = date;
  }
  const open = (await ctx.crm.listOpenTasks(deal)).find((t) => NEXT_STEP_TASK[step.kind].test(t.text));
  if (open) {
    await ctx.report({ target: deal, summary: `${stage.name}: the deal already has an open task («${open.text}»)` });
    return;
  }
  const text = step.kind === 'feedback' ? texts.feedbackTask(ctx.locale) : texts.meetingTask(ctx.locale);
  await ctx.crm.createTask(deal, { kind: step.kind === 'feedback' ? 'follow_up' : 'meeting', text, dueAt, responsibleId: deal.responsibleId });
  await ctx.report({ target: deal, summary: `${stage.name}: next-step task created, due ${dueAt.toISOString()}`, after: text });
}

/** amoCRM date fields are unix seconds; Bitrix24 datetime fields ISO strings. */
function meetingDate(value: unknown): Date | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === null || v === undefined || v === '') return null;
  const d = typeof v === 'number' || /^\d+$/.test(String(v)) ? new Date(Number(v) * 1000) : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d;
}

async function checkOverload(ctx: StageCtx | DealCtx, regulation: BoundRegulation, deal: Deal, stage: BoundStage): Promise<void> {
  if (!deal.responsibleId) return;
  const max = ctx.settings.inWorkMaxPerManager;
  const count = await ctx.crm.countDealsInStage(deal.entity, deal.funnelId, stage.stageId, deal.responsibleId, max + 1);
  if (count <= max) return;
  // At most one alert an hour per manager and stage.
  if ((await ctx.state.increment(`overload:${stage.stageId}:${deal.responsibleId}`, 3600)) !== 1) return;
  const { manager } = await dealInfo(ctx, deal, stage);
  const text = texts.overloaded(manager, stage.name, count, max, ctx.locale);
  await ctx.alerts.raise({ kind: 'inWork.overloaded', text, target: deal, regulationHeads: regulation.settings.headOfSalesUserIds });
  await ctx.report({ target: deal, summary: `${stage.name}: ${manager} holds more than ${max} deals, heads of sales alerted`, after: text });
}

/**
 * A deal of a regulated funnel without a responsible, or with one the CRM no longer lists as
 * active (the minimal roster: `listUsers`); a new deal straight into `in_work` is counted too.
 */
async function checkAssigned(ctx: DealCtx): Promise<void> {
  const { deal, causedByApp } = ctx.payload;
  if (causedByApp) return;
  const regulation = await regulationFor(ctx, deal);
  const stage = regulation ? stageById(regulation, deal.stageId) : undefined;
  if (!regulation || !stage || stage.semantics !== 'process') return;
  // A deal created straight into «Передан в работу» loads the manager as much as one moved there.
  if (stage.role === 'in_work' && ctx.event.endsWith('.created')) await checkOverload(ctx, regulation, deal, stage);
  const users = await ctx.crm.listUsers();
  const why = !deal.responsibleId ? 'none' : users.some((u) => u.id === deal.responsibleId) ? null : 'inactive';
  if (!why || !ctx.settings.alertUnassigned) return;
  if ((await ctx.state.increment(`unassigned:${deal.entity}:${deal.id}`, DAY_S)) !== 1) return;
  const text = texts.unassigned(deal.title, deal.id, why, ctx.locale);
  await ctx.alerts.raise({ kind: 'lead.unassigned', text, target: deal, regulationHeads: regulation.settings.headOfSalesUserIds });
  await ctx.report({ target: deal, summary: 'no active responsible: heads of sales alerted', after: text });
}

