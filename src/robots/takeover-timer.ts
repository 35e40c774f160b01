import { z } from 'zod';
import { defineRobot, type RobotContext, type TimerContext } from '../app';
import type { Deal, DealRef, TouchKind } from '../crm/crm-port';
import { explainDecision } from '../distribution/weighted-round-robin';
import type { DealEventPayload, StageChangedPayload } from '../events';
import { stageById, StageRoleSchema, type BoundRegulation } from '../regulation';
import { bindRegulations, regulationOf } from '../regulation/installation-bindings';
import { recordLeadFact, recordMissFact } from '../rating/rating-facts';
import { durationAtLeast } from '../settings/duration';
import { globalSettingsOf, robotSettingsOf } from '../settings/installation-settings';
import { crmUserIdSchema } from '../team/crm-user-id';
import { headsOfSales } from '../team/heads-of-sales';
import { crmUserIdKeySchema } from '../team/crm-user-id';
import { managerSettingsSchema, rosterSettingsSchema, vacationSchema, type RosterManager, type RosterOptions } from '../team/roster';
import { addWorkingTime } from '../time/working-time';
import { chooseManager, countLeadToday, loadRoster } from './takeover/choose-manager';
import { humanDuration, takeoverMessages } from './takeover/messages';
import { loadTakeover, saveTakeover, takeoverKey, type TakeoverState } from './takeover/takeover-state';
import { stageGuard } from './stage-guard';

/**
 * Robot 4 — takeover timer (seed 002): as soon as a client lands in the stage where a manager
 * must start (role `in_work`; Bitrix24 leads: `new` / `responsible_assigned`), the robot makes sure
 * someone is responsible (distribution by last month's results) and gives them `timeout` of
 * working time to take it into work: move it on, or call / write / note after the assignment.
 * Not taken: the next manager gets it, the card says so, the new manager and the head of sales are
 * told, the timer starts again; after `maxHops` the head of sales gets an escalation and the robot
 * stops. Every fire re-reads the CRM: the timer decides on the lead as it is, never on the event.
 */
const userId = crmUserIdSchema;
const TAKEN_SIGNALS = ['stage', 'call', 'note', 'email', 'message'] as const;

const settings = z.object({
  enabled: z.boolean().default(true),
  /** Working time a manager has to take a lead into work. */
  timeout: durationAtLeast('1s').prefault('15m'),
  /** Reassignments before the head of sales gets an escalation and the robot stops. */
  maxHops: z.number().int().min(1).max(20).default(3),
  /** Stage roles (of the bound regulation) where takeover starts, per entity: amoCRM leads are `deal`. */
  startRoles: z
    .object({
      deal: z.array(StageRoleSchema).default(['in_work']),
      lead: z.array(StageRoleSchema).default(['new', 'responsible_assigned']),
    })
    .prefault({}),
  /** What counts as "taken into work": leaving the stage, or an outgoing call / note / e-mail / message by the responsible. */
  takenBy: z.array(z.enum(TAKEN_SIGNALS)).min(1).default([...TAKEN_SIGNALS]),
  /** Users that create leads but never work them (integrations, forms): their leads are distributed. */
  technicalUserIds: z.array(userId).default([]),
  roster: rosterSettingsSchema.prefault({}),
  /** Per manager (CRM user id): base weight and own working hours. */
  managers: z.record(crmUserIdKeySchema, managerSettingsSchema).default({}),
  /** At most this many new leads per manager per day (none by default). */
  dailyCap: z.number().int().positive().optional(),
  /** App-level vacations (when the CRM does not expose absences): [{ userId, from: "YYYY-MM-DD", to }]. */
  vacations: z.array(vacationSchema).default([]),
  /** Next month's weights from the monthly rating. */
  rating: z
    .object({
      worst: z.object({ count: z.number().int().min(0).default(3), factor: z.number().min(0).max(1).default(0.5) }).prefault({}),
      best: z.object({ count: z.number().int().min(0).default(0), factor: z.number().min(1).max(10).default(1.5) }).prefault({}),
      minLeads: z.number().int().min(0).default(5),
      /** Head-of-sales override: { "<userId>": factor }. */
      overrides: z.record(crmUserIdKeySchema, z.number().min(0).max(10)).default({}),
    })
    .prefault({}),
});
export type TakeoverSettings = z.infer<typeof settings>;
type EventCtx = RobotContext<'deal.created' | 'deal.updated' | 'lead.created' | 'lead.updated', TakeoverSettings>;
type StageCtx = RobotContext<'deal.stageChanged' | 'lead.stageChanged', TakeoverSettings>;
type Ctx = EventCtx | StageCtx | TimerContext<TakeoverSettings>;

export const ROBOT = 'takeoverTimer';

export const takeoverTimer = defineRobot({
  name: ROBOT,
  settings,
  register(app) {
    for (const entity of ['deal', 'lead'] as const) {
      app.on(`${entity}.stageChanged`, onStageChanged);
      app.on(`${entity}.created`, onSeen);
      app.on(`${entity}.updated`, onSeen);
    }
    app.onTimer(onTimer);
  },
});

/**
 * Entering a start stage starts the takeover; leaving the stage it runs in means the lead was
 * taken. A move between two start stages (Bitrix24 «Принять в работу» → «Назначен ответственный»)
 * neither takes the lead nor starts a second timer: the takeover goes on in the new stage.
 */
async function onStageChanged(ctx: StageCtx): Promise<void> {
  const { deal, causedByApp, from } = ctx.payload as StageChangedPayload;
  const regulation = await boundRegulation(ctx, deal);
  if (!regulation) return;
  const isStart = (stageId: string | null) => Boolean(stageId && isStartStage(ctx, regulation, deal, stageId));
  const current = await loadTakeover(ctx.state, deal);
  if (current?.state.status === 'pending' && deal.stageId !== current.state.stageId && !causedByApp) {
    if (isStart(deal.stageId)) {
      await saveTakeover(ctx.state, deal, current.raw, { ...current.state, stageId: deal.stageId });
      return;
    }
    if (ctx.settings.takenBy.includes('stage')) return markTaken(ctx, deal, current, 'stage');
  }
  // A new entry into a start stage starts a new takeover; the echo of the app's own revert does not.
  if (!causedByApp && !isStart(from)) await maybeStart(ctx, deal, { reentry: true });
}

/** A lead first seen in a start stage (created there, or an event was lost) starts too; a manual reassignment restarts the clock. */
async function onSeen(ctx: EventCtx): Promise<void> {
  const { deal } = ctx.payload as DealEventPayload;
  const current = await loadTakeover(ctx.state, deal);
  if (current?.state.status === 'pending' && current.state.stageId === deal.stageId) {
    if (reassignedByHand(deal, current.state)) await handOverByHand(ctx, deal, current);
    return;
  }
  // First sight on an edit: a lead that sat in the stage since before the app was installed is not a new arrival.
  if (!current && ctx.event.endsWith('.updated') && (await enteredBeforeInstall(ctx, deal))) return;
  await maybeStart(ctx, deal);
}

async function enteredBeforeInstall(ctx: EventCtx, deal: Deal): Promise<boolean> {
  if (!(await startRegulation(ctx, deal))) return false;
  const history = await ctx.crm.getStageHistory(deal);
  // No move into this stage on record: the deal was created in it.
  const entered = [...history].reverse().find((h) => h.stageId === deal.stageId && h.at)?.at ?? deal.createdAt;
  return Boolean(entered && Date.parse(entered) < Date.parse(ctx.installation.installedAt));
}

async function maybeStart(ctx: EventCtx | StageCtx, deal: Deal, options: { reentry?: boolean } = {}): Promise<void> {
  const regulation = await startRegulation(ctx, deal);
  if (!regulation) return;
  if (await ctx.state.get(`repeat:${deal.entity}:${deal.id}`)) return; // closed as a repeat by the duplicate catcher
  const current = await loadTakeover(ctx.state, deal);
  // Still the same stay in this stage: the takeover runs, or already ended (taken, escalated).
  if (current && current.state.stageId === deal.stageId && (!options.reentry || current.state.status === 'pending')) return;
  const now = ctx.now();
  const rosterOptions = await rosterOptionsOf(ctx);
  let responsible: RosterManager | null = null;
  let why: string | null = null;
  const { roster, users } = await loadRoster(ctx.crm, rosterOptions);
  const assigned = roster.find((m) => m.id === deal.responsibleId);
  const technical = !deal.responsibleId || ctx.settings.technicalUserIds.includes(deal.responsibleId) || users.some((u) => u.id === deal.responsibleId && u.isAdmin);
  if (assigned && !technical) {
    responsible = assigned;
    await countLeadToday(ctx.state, assigned, now);
  } else if (technical) {
    const choice = await chooseManager({ ...distributionInput(ctx, rosterOptions, now), exclude: [] });
    if (!choice.manager) return notDistributed(ctx, deal, explainDecision(choice.decision));
    responsible = choice.manager;
    why = explainDecision(choice.decision);
  } else {
    // Responsible is a user outside the roster (e.g. a head of sales took it): their choice, their clock.
    const user = users.find((u) => u.id === deal.responsibleId);
    responsible = { id: deal.responsibleId!, name: user?.name ?? `#${deal.responsibleId}`, baseWeight: 1, schedule: globalSettingsOf(ctx.installation.settings).schedule };
  }
  const state: TakeoverState = {
    status: 'pending',
    stageId: deal.stageId,
    responsibleId: responsible.id,
    holders: [responsible.id],
    names: { [responsible.id]: responsible.name },
    hops: 0,
    seq: 1,
    assignedAt: now.toISOString(),
    dueAt: addWorkingTime(responsible.schedule, now, ctx.settings.timeout).toISOString(),
    decisions: why ? [why] : [],
  };
  if (!(await saveTakeover(ctx.state, deal, current?.raw ?? null, state))) return; // someone else started it meanwhile
  if (deal.responsibleId !== responsible.id) {
    await ctx.crm.assignResponsible(deal, responsible.id);
    await ctx.crm.notifyUser(responsible.id, assignedText(ctx, deal, state), deal);
  }
  await recordLeadFact(ctx.state, { managerId: responsible.id, entity: deal.entity, dealId: deal.id, at: now.toISOString() });
  await schedule(ctx, deal, state, now);
  await ctx.report({ target: deal, summary: `takeover started: ${responsible.name} has ${humanDuration(ctx.settings.timeout, 'en')} until ${state.dueAt}${why ? `\n${why}` : ''}`, after: responsible.name });
}

/** The timer fired: the lead as it is now decides. Stale or duplicate fires (older `seq`) do nothing. */
async function onTimer(ctx: TimerContext<TakeoverSettings>): Promise<void> {
  const ref = parseKey(ctx.key);
  if (!ref) return;
  const current = await loadTakeover(ctx.state, ref);
  if (!current || current.state.status !== 'pending' || current.state.seq !== Number(ctx.data.seq)) return;
  const deal = await ctx.crm.getDeal(ref);
  if (!deal || (await ctx.state.get(`repeat:${ref.entity}:${ref.id}`))) return stop(ctx, ref, current, 'stopped');
  if (deal.stageId !== current.state.stageId) {
    return ctx.settings.takenBy.includes('stage') ? markTaken(ctx, deal, current, 'stage') : stop(ctx, ref, current, 'stopped');
  }
  if (reassignedByHand(deal, current.state)) return handOverByHand(ctx, deal, current);
  const touch = await takenByTouch(ctx, deal, current.state);
  if (touch) return markTaken(ctx, deal, current, touch);
  await passOn(ctx, deal, current);
}

/** Not taken in time: the next manager gets it, or the head of sales after `maxHops`. */
async function passOn(ctx: TimerContext<TakeoverSettings>, deal: Deal, current: { raw: string; state: TakeoverState }): Promise<void> {
  const now = ctx.now();
  const { state } = current;
  const from = state.responsibleId;
  const fromName = state.names[from] ?? `#${from}`;
  const rosterOptions = await rosterOptionsOf(ctx);
  // A retry of a fire that failed half-way reuses the choice it made (the round-robin turn is taken once).
  let to = state.pending?.seq === state.seq ? state.pending : null;
  if (!to && state.hops < ctx.settings.maxHops) {
    let choice = await chooseManager({ ...distributionInput(ctx, rosterOptions, now), exclude: state.holders });
    if (!choice.manager) choice = await chooseManager({ ...distributionInput(ctx, rosterOptions, now), exclude: [from] });
    if (choice.manager) {
      to = { seq: state.seq, to: choice.manager.id, name: choice.manager.name, dueAt: addWorkingTime(choice.manager.schedule, now, ctx.settings.timeout).toISOString(), why: explainDecision(choice.decision) };
      const claimed: TakeoverState = { ...state, pending: to };
      if (!(await saveTakeover(ctx.state, deal, current.raw, claimed))) return; // another fire won
      current = { raw: JSON.stringify(claimed), state: claimed };
      await recordMissFact(ctx.state, { managerId: from, entity: deal.entity, dealId: deal.id, at: now.toISOString() });
    }
  }
  if (!to) return escalate(ctx, deal, current, fromName);
  const timeout = humanDuration(ctx.settings.timeout, ctx.locale);
  if (deal.responsibleId !== to.to) await ctx.crm.assignResponsible(deal, to.to);
  const note = takeoverMessages.reassignedNote(ctx.locale, { timeout, from: fromName, to: to.name });
  await ctx.crm.addComment(deal, note);
  await ctx.crm.notifyUser(to.to, assignedText(ctx, deal, { ...state, dueAt: to.dueAt }), deal);
  await ctx.alerts.raise({ kind: 'takeover.reassigned', text: takeoverMessages.reassignedAlert(ctx.locale, { title: deal.title, timeout, from: fromName, to: to.name, hop: state.hops + 1, maxHops: ctx.settings.maxHops }), target: deal });
  const next: TakeoverState = {
    ...state,
    pending: undefined,
    responsibleId: to.to,
    holders: [...state.holders, to.to],
    names: { ...state.names, [to.to]: to.name },
    hops: state.hops + 1,
    seq: state.seq + 1,
    assignedAt: now.toISOString(),
    dueAt: to.dueAt,
    decisions: [...state.decisions, to.why].slice(-10),
  };
  if (!(await saveTakeover(ctx.state, deal, current.raw, next))) return;
  await recordLeadFact(ctx.state, { managerId: to.to, entity: deal.entity, dealId: deal.id, at: now.toISOString() });
  await schedule(ctx, deal, next, now);
  await ctx.report({
    target: deal, kind: 'reassigned', summary: `not taken in ${humanDuration(ctx.settings.timeout, 'en')}: reassigned (hop ${next.hops} of ${ctx.settings.maxHops})\n${to.why}`, before: fromName, after: to.name,
    why: note,
    undo: { kind: 'responsible', to: { id: from, name: fromName }, left: { id: to.to, name: to.name } },
  });
}

async function escalate(ctx: TimerContext<TakeoverSettings>, deal: Deal, current: { raw: string; state: TakeoverState }, fromName: string): Promise<void> {
  const { state } = current;
  const holders = state.holders.map((id) => state.names[id] ?? `#${id}`).join(', ');
  const done: TakeoverState = { ...state, status: 'escalated', pending: undefined, seq: state.seq + 1 };
  if (!(await saveTakeover(ctx.state, deal, current.raw, done))) return;
  await recordMissFact(ctx.state, { managerId: state.responsibleId, entity: deal.entity, dealId: deal.id, at: ctx.now().toISOString() });
  const text = takeoverMessages.escalated(ctx.locale, { title: deal.title, holders, hops: state.hops });
  await ctx.crm.addComment(deal, text);
  await ctx.alerts.raise({ kind: 'takeover.escalated', text, target: deal });
  await ctx.report({ target: deal, summary: `not taken after ${state.hops} hops: escalated to the head of sales`, before: fromName });
}

async function markTaken(ctx: Ctx, deal: Deal, current: { raw: string; state: TakeoverState }, signal: (typeof TAKEN_SIGNALS)[number]): Promise<void> {
  const done: TakeoverState = { ...current.state, status: 'taken', takenBy: signal, pending: undefined, seq: current.state.seq + 1 };
  if (!(await saveTakeover(ctx.state, deal, current.raw, done))) return;
  await ctx.timers.cancel(ROBOT, timerKey(deal, current.state.seq));
  await ctx.report({ target: deal, summary: `taken into work (${signal}) by ${current.state.names[current.state.responsibleId] ?? current.state.responsibleId}` });
}

async function stop(ctx: Ctx, ref: DealRef, current: { raw: string; state: TakeoverState }, status: 'stopped'): Promise<void> {
  await saveTakeover(ctx.state, ref, current.raw, { ...current.state, status, pending: undefined, seq: current.state.seq + 1 });
  await ctx.timers.cancel(ROBOT, timerKey(ref, current.state.seq));
}

/** A responsible other than ours and other than the one the robot is handing the lead to right now. */
function reassignedByHand(deal: Deal, state: TakeoverState): boolean {
  return Boolean(deal.responsibleId) && deal.responsibleId !== state.responsibleId && deal.responsibleId !== state.pending?.to;
}

/** Someone (a head of sales) reassigned the lead by hand: the new responsible gets a full timeout, no hop counted. */
async function handOverByHand(ctx: Ctx, deal: Deal, current: { raw: string; state: TakeoverState }): Promise<void> {
  const now = ctx.now();
  const newId = deal.responsibleId!;
  const { roster, users } = await loadRoster(ctx.crm, await rosterOptionsOf(ctx));
  const manager = roster.find((m) => m.id === newId);
  const schedule_ = manager?.schedule ?? globalSettingsOf(ctx.installation.settings).schedule;
  const next: TakeoverState = {
    ...current.state,
    pending: undefined,
    responsibleId: newId,
    holders: current.state.holders.includes(newId) ? current.state.holders : [...current.state.holders, newId],
    names: { ...current.state.names, [newId]: manager?.name ?? users.find((u) => u.id === newId)?.name ?? `#${newId}` },
    seq: current.state.seq + 1,
    assignedAt: now.toISOString(),
    dueAt: addWorkingTime(schedule_, now, ctx.settings.timeout).toISOString(),
  };
  if (!(await saveTakeover(ctx.state, deal, current.raw, next))) return;
  await schedule(ctx, deal, next, now);
  await ctx.report({ target: deal, summary: `reassigned by hand: the timer restarts for ${next.names[newId]}` });
}

/** An outgoing call, note, e-mail or message by the responsible since the assignment (the kinds in `takenBy`). */
async function takenByTouch(ctx: Ctx, deal: Deal, state: TakeoverState): Promise<TouchKind | null> {
  const kinds = ctx.settings.takenBy.filter((k): k is TouchKind => k !== 'stage');
  if (!kinds.length) return null;
  const touches = await ctx.crm.listTouches(deal, new Date(state.assignedAt));
  return touches.find((t) => t.userId === state.responsibleId && kinds.includes(t.kind))?.kind ?? null;
}

async function notDistributed(ctx: EventCtx | StageCtx, deal: Deal, why: string): Promise<void> {
  const once = await ctx.state.increment(`takeover:undistributed:${deal.entity}:${deal.id}`, 86_400);
  if (once !== 1) return;
  const reason = ctx.locale === 'ru' ? 'нет доступных менеджеров (все вне смены, в отпуске или достигли лимита)' : 'no manager is available (off shift, away or at the daily cap)';
  await ctx.alerts.raise({ kind: 'lead.unassigned', text: takeoverMessages.notDistributed(ctx.locale, { title: deal.title, why: reason }), target: deal });
  await ctx.report({ target: deal, summary: `not distributed: nobody can take it\n${why}` });
}

/**
 * One timer per (lead, seq): a fired timer schedules the next one from inside its own job, and a
 * job id still in use (the running job) could not be reused. The older timer of a restart is cancelled.
 */
const timerKey = (ref: DealRef, seq: number) => `${takeoverKey(ref)}:${seq}`;

async function schedule(ctx: Ctx, deal: DealRef, state: TakeoverState, now: Date): Promise<void> {
  if (state.seq > 1) await ctx.timers.cancel(ROBOT, timerKey(deal, state.seq - 1));
  await ctx.timers.schedule(ROBOT, timerKey(deal, state.seq), Math.max(0, Date.parse(state.dueAt) - now.getTime()), { seq: state.seq, dueAt: state.dueAt });
}

/** The bound regulation of this deal's funnel (the stage guard's regulations), if any. */
async function boundRegulation(ctx: Ctx, deal: Deal): Promise<BoundRegulation | null> {
  const guard = robotSettingsOf<{ regulations: Array<{ preset: string; overrides: Record<string, unknown> }> }>(stageGuard, ctx.installation.settings);
  if (!guard.success || !guard.data.regulations.length) return null;
  return regulationOf(await bindRegulations(ctx.crm, guard.data.regulations, deal.entity), deal);
}

function isStartStage(ctx: Ctx, regulation: BoundRegulation, deal: DealRef, stageId: string): boolean {
  const role = stageById(regulation, stageId)?.role;
  return Boolean(role && ctx.settings.startRoles[deal.entity].includes(role));
}

/** The bound regulation of this funnel, when the deal stands in one of its start stages. */
async function startRegulation(ctx: Ctx, deal: Deal): Promise<BoundRegulation | null> {
  const regulation = await boundRegulation(ctx, deal);
  return regulation && isStartStage(ctx, regulation, deal, deal.stageId) ? regulation : null;
}

export async function rosterOptionsOf(ctx: Ctx): Promise<RosterOptions> {
  const heads = await headsOfSales(ctx.installation, ctx.crm).catch(() => []);
  return {
    crm: ctx.installation.crm,
    roster: ctx.settings.roster,
    managers: ctx.settings.managers,
    defaultSchedule: globalSettingsOf(ctx.installation.settings).schedule,
    notManagers: [...heads, ...ctx.settings.technicalUserIds],
  };
}

export function distributionInput(ctx: Ctx, rosterOptions: RosterOptions, now: Date) {
  const s = ctx.settings;
  return {
    crm: ctx.crm,
    state: ctx.state,
    log: ctx.log,
    now,
    rosterOptions,
    vacations: s.vacations,
    dailyCap: s.dailyCap,
    weights: { worst: s.rating.worst, best: s.rating.best, minLeads: s.rating.minLeads, overrides: s.rating.overrides },
  };
}

function assignedText(ctx: Ctx, deal: Deal, state: Pick<TakeoverState, 'dueAt'>): string {
  const schedule_ = globalSettingsOf(ctx.installation.settings).schedule;
  const zone = schedule_.kind === 'weekly' ? schedule_.timeZone : 'Europe/Moscow';
  const due = new Date(state.dueAt).toLocaleString(ctx.locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit' });
  return takeoverMessages.assigned(ctx.locale, { title: deal.title, timeout: humanDuration(ctx.settings.timeout, ctx.locale), due });
}

function parseKey(key: string): DealRef | null {
  const m = /^(deal|lead):(\d+):\d+$/.exec(key);
  return m ? { entity: m[1] as DealRef['entity'], id: m[2]! } : null;
}
