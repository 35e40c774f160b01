import type { CrmActivity, Deal } from '../crm/crm-port';
import { stageByRole, type BoundRegulation } from '../regulation';
import { attemptWindow, CADENCE_ATTEMPTS, validTimeZone } from '../time/no-answer-cadence';
import { ROBOT, scheduleOf, timerKey, type Stay, type TimerData, type TimersCtx } from './shared';
import { scheduleTimeZone } from './limit-due';
import { texts } from './texts';

/**
 * The no-answer cadence in the CRM: one task at a time. Entering the stage creates attempt 2
 * (attempt 1 was the missed call); when an attempt's window has passed, the next task is created,
 * unless the client answered (an incoming call or message, or a call with a conversation).
 * After the last attempt the deal goes to the `to_close` stage (or the manager is told) with a
 * comment listing the calls the CRM recorded.
 */
const FIRST_TASK = 2;

export async function startCadence(ctx: TimersCtx, deal: Deal, stay: Stay): Promise<void> {
  await createAttempt(ctx, deal, stay, nextAttempt(ctx, deal, stay, FIRST_TASK - 1));
}

/**
 * The first attempt after `attempt` whose window is still ahead: a timer that fires late (the
 * app was down) does not bury the manager in overdue tasks. Past the last one: the last one.
 */
function nextAttempt(ctx: TimersCtx, deal: Deal, stay: Stay, attempt: number): number {
  const now = ctx.now().getTime();
  for (let n = attempt + 1; n <= CADENCE_ATTEMPTS; n++) {
    const window = attemptWindow(new Date(stay.enteredAt), n, clientTimeZone(ctx, deal));
    if (window && window.to.getTime() > now) return n;
  }
  return CADENCE_ATTEMPTS;
}

/** The client's time zone where the deal holds it (a field named in settings), else the installation's. */
function clientTimeZone(ctx: TimersCtx, deal: Deal): string {
  const field = ctx.settings.noAnswer.clientTimeZoneField;
  return (field && validTimeZone(deal.fields[field])) || scheduleTimeZone(scheduleOf(ctx));
}

async function createAttempt(ctx: TimersCtx, deal: Deal, stay: Stay, attempt: number): Promise<void> {
  const window = attemptWindow(new Date(stay.enteredAt), attempt, clientTimeZone(ctx, deal));
  if (!window) return;
  const text = texts.attempt(window, ctx.settings.noAnswer.messenger, ctx.locale);
  const marker = `cadence:${stay.id}:${attempt}`;
  // Idempotent: a retried job finds the task it created (by the state mark, or by its text among open tasks).
  if (!(await ctx.state.get(marker)) && deal.responsibleId) {
    const open = await ctx.crm.listOpenTasks(deal);
    if (!open.some((t) => t.text.startsWith(text.split(':')[0]!))) {
      await ctx.crm.createTask(deal, { kind: 'call', text, dueAt: window.to, responsibleId: deal.responsibleId });
    }
    await ctx.state.set(marker, '1', 70 * 86_400);
    await ctx.report({ target: deal, summary: `no answer: attempt ${attempt} of ${window.total} planned for ${window.from.toISOString()}–${window.to.toISOString()}`, after: text });
  }
  const data: TimerData = { kind: 'cadence', entity: deal.entity, id: deal.id, stay: stay.id, from: stay.enteredAt, n: attempt };
  await ctx.timers.schedule(ROBOT, timerKey('cadence', deal), window.to.getTime() - ctx.now().getTime(), { ...data, dueAt: window.to.toISOString() });
}

/** Attempt `attempt`'s window has passed: stop if the client answered, else the next task, or the end. */
export async function runCadenceStep(ctx: TimersCtx, regulation: BoundRegulation, deal: Deal, stay: Stay, attempt: number): Promise<void> {
  const activities = await ctx.crm.listActivities(deal, new Date(stay.enteredAt));
  // Each ending is marked once done: a failed one is retried, a done one is not repeated.
  if (activities.some(clientAnswered)) {
    const done = `cadence-stopped:${stay.id}`;
    if (!(await ctx.state.get(done))) {
      await ctx.crm.addComment(deal, texts.clientAnswered(ctx.locale));
      await ctx.state.set(done, '1', 70 * 86_400);
      await ctx.report({ target: deal, summary: 'no answer: the client answered, the call cadence stops' });
    }
    return;
  }
  if (attempt < CADENCE_ATTEMPTS) return createAttempt(ctx, deal, stay, nextAttempt(ctx, deal, stay, attempt));
  const done = `cadence-over:${stay.id}`;
  if (await ctx.state.get(done)) return;
  const toClose = ctx.settings.noAnswer.afterLastAttempt === 'move_to_close' ? stageByRole(regulation, 'to_close') : null;
  const calls = activities.filter((a) => a.kind === 'call' || a.kind === 'message');
  const comment = texts.cadenceOver(calls, CADENCE_ATTEMPTS, toClose?.name ?? null, ctx.locale, clientTimeZone(ctx, deal));
  await ctx.crm.addComment(deal, comment);
  if (toClose) await ctx.crm.moveDeal(deal, toClose.stageId);
  else if (deal.responsibleId) await ctx.crm.notifyUser(deal.responsibleId, comment, deal);
  await ctx.state.set(done, '1', 70 * 86_400);
  await ctx.report({ target: deal, summary: `no answer after ${CADENCE_ATTEMPTS} attempts: ${toClose ? `moved to ${toClose.name}` : 'manager told'}`, after: comment });
}

/** The client answered: they called or wrote, or a call had a conversation. */
export function clientAnswered(a: CrmActivity): boolean {
  if ((a.kind === 'call' || a.kind === 'message' || a.kind === 'email') && a.direction === 'incoming') return true;
  return a.kind === 'call' && a.answered === true;
}
