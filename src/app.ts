import { z } from 'zod';
import { noteRobotFailure } from './alerts/failure-alerts';
import { immediateProcessAlerts, type ProcessAlerts } from './alerts/process-alerts';
import type { CrmPort, DealRef } from './crm/crm-port';
import type { CrmEventMap, CrmEventName } from './events';
import type { InventoryPort } from './inventory/inventory-port';
import type { Installation } from './installations/installation';
import type { Logger } from './log';
import { globalSettingsOf, robotSettingsOf } from './settings/installation-settings';
import { robotActions, robotRuns } from './observability/metrics';
import { undoneBySchema, undoPlanSchema, type UndoPlan } from './card/undo-plan';

/** One line of what a robot did, shown in the demo page and kept for audit. */
export const robotActionSchema = z.object({
  installationId: z.string(),
  robot: z.string(),
  target: z.object({ entity: z.string(), id: z.string() }),
  summary: z.string(),
  before: z.string().optional(),
  after: z.string().optional(),
  at: z.string(),
  /** Given by the log when the row is recorded: the card's undo names the row by it. */
  id: z.string().regex(/^[A-Za-z0-9-]{8,64}$/).optional(),
  /** A few fixed words (e.g. "stage_reverted"), as in `report({ kind })`. */
  kind: z.string().max(40).optional(),
  /** Why, in the installation's language (the text the robot wrote in the card). */
  why: z.string().max(2000).optional(),
  /** What undoing this action takes (src/card/undo-plan.ts); absent: it cannot be undone. */
  undo: undoPlanSchema.optional(),
  /** An undo's own row: the row it undid and who undid it. */
  undoOf: z.string().max(64).optional(),
  by: undoneBySchema.optional(),
});
export type RobotAction = z.infer<typeof robotActionSchema>;

/** Kept per installation, with a retention limit (src/pipeline/action-log.ts). */
export interface ActionLog {
  record(action: RobotAction): Promise<unknown>;
  latest(installationId: string, limit: number): Promise<RobotAction[]>;
}

/** Small per-installation state robots may keep (counters, facts); keys are scoped by the app. */
export interface InstallationState {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Increments a counter and returns its new value; the TTL is set when the counter is created. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  /** Appends to a capped list (newest first). */
  push(key: string, value: string, keep: number): Promise<void>;
  list(key: string, limit: number): Promise<string[]>;
  /** Sets the key only if it is absent (a short lock); true when this caller got it. */
  claim(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Deletes the key if it still holds `value` (releases the caller's own lock only). */
  release(key: string, value: string): Promise<void>;
  /**
   * Sets `key` to `next` only if it still holds `expected` (null: absent); true when it did.
   * Read-decide-write without a lock: two workers deciding on the same state, one wins.
   */
  compareAndSet(key: string, expected: string | null, next: string, ttlSeconds?: number): Promise<boolean>;
  /** A map kept under one key whose fields change independently (e.g. unit → holding deal). */
  mapSet(key: string, field: string, value: string): Promise<void>;
  mapDelete(key: string, field: string): Promise<void>;
  mapAll(key: string): Promise<Record<string, string>>;
  delete(key: string): Promise<void>;
}

/** Delayed, cancellable jobs for robots that act later (takeover timer, booking releaser). */
export interface TimerPort {
  schedule(robot: string, key: string, delayMs: number, data: Record<string, unknown>): Promise<void>;
  cancel(robot: string, key: string): Promise<void>;
}

export interface RobotContext<K extends CrmEventName, S> {
  event: K;
  payload: CrmEventMap[K];
  installation: Installation;
  crm: CrmPort;
  settings: S;
  locale: 'ru' | 'en';
  log: Logger;
  state: InstallationState;
  timers: TimerPort;
  /** Tell the heads of sales that the process failed (grouping and delivery live in `src/alerts/`). */
  alerts: ProcessAlerts;
  /** The current time (tests control it; working-time arithmetic takes it from here, never from `new Date()`). */
  now(): Date;
  /**
   * The installation's inventory system (Profitbase, a 1C HTTP service), or null when none is
   * configured; a broken configuration throws when a robot first uses it.
   */
  inventory: () => InventoryPort | null;
  /**
   * Leave the app's last-seen stage of this deal where it was: the deal moved again while the
   * robot decided, and the newer event must be judged from the old stage along the whole path.
   */
  keepLastSeenStage(): void;
  /**
   * Records what the robot did so managers, admins and the demo can see it. `kind` (a few fixed
   * words, e.g. "renamed") labels the metric; without it, the summary up to its first colon.
   */
  report(action: ReportedAction): Promise<void>;
}

/** What a robot reports; `why` and `undo` let the card explain the action and undo it. */
export interface ReportedAction {
  target: DealRef;
  summary: string;
  kind?: string;
  before?: string;
  after?: string;
  why?: string;
  undo?: UndoPlan;
}

export interface TimerContext<S> extends Omit<RobotContext<never, S>, 'event' | 'payload'> {
  key: string;
  data: Record<string, unknown>;
}

type Handler<K extends CrmEventName, S> = (ctx: RobotContext<K, S>) => Promise<void>;
type TimerHandler<S> = (ctx: TimerContext<S>) => Promise<void>;

export interface RobotRegistrar<S> {
  on<K extends CrmEventName>(event: K, handler: Handler<K, S>): void;
  onTimer(handler: TimerHandler<S>): void;
}

export interface Robot<S extends { enabled: boolean } = { enabled: boolean }> {
  name: string;
  /** zod schema of the robot's settings; its defaults are merged with config/robots.default.json. */
  settings: z.ZodType<S>;
  register(app: RobotRegistrar<S>): void;
}

/** A robot is a name, a settings schema and a function registering typed handlers (Probot style). */
export function defineRobot<S extends { enabled: boolean }>(robot: Robot<S>): Robot<S> {
  return robot;
}

/** Everything a context needs from the outside world, bound to one installation. */
export interface RobotServices {
  crm: CrmPort;
  log: Logger;
  state: InstallationState;
  timers: TimerPort;
  actions: ActionLog;
  /** Process-failure alerts for the heads of sales; defaults to immediate delivery. */
  alerts?: ProcessAlerts;
  /** The clock robots read; defaults to the system clock. */
  now?: () => Date;
  inventory?: () => InventoryPort | null;
  keepLastSeenStage?: () => void;
}

interface Registration {
  robot: Robot<{ enabled: boolean }>;
  event: CrmEventName | 'timer';
  handler: (ctx: never) => Promise<void>;
}

/** Raised after every handler ran, when at least one of them failed (the others still ran). */
export class RobotFailures extends AggregateError {
  constructor(errors: unknown[], event: string) {
    super(errors, `${errors.length} robot handler(s) failed on ${event}: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
    this.name = 'RobotFailures';
  }
}

export class ReglamentApp {
  private readonly registrations: Registration[] = [];

  constructor(robots: Array<Robot<any>>) {
    for (const robot of robots) this.load(robot);
  }

  private load(robot: Robot<any>): void {
    const add = (event: Registration['event'], handler: Registration['handler']) =>
      this.registrations.push({ robot, event, handler });
    robot.register({
      on: (event, handler) => add(event, handler as Registration['handler']),
      onTimer: (handler) => add('timer', handler as Registration['handler']),
    });
  }

  /** Runs every enabled robot subscribed to `event`. Handlers are isolated: one failing does not stop the others. */
  async dispatch<K extends CrmEventName>(event: K, payload: CrmEventMap[K], installation: Installation, services: RobotServices): Promise<void> {
    const errors: unknown[] = [];
    for (const reg of this.registrations.filter((r) => r.event === event)) {
      const settings = resolveSettings(reg.robot, installation);
      if (!settings.enabled) continue;
      const ctx = this.context(reg.robot.name, settings, installation, services);
      try {
        await (reg.handler as Handler<K, unknown>)({ ...ctx, event, payload });
        robotRuns.inc({ robot: reg.robot.name, outcome: 'done' });
      } catch (err) {
        robotRuns.inc({ robot: reg.robot.name, outcome: 'failed' });
        ctx.log.warn({ err, event }, 'robot failed');
        errors.push(err);
        const deal = (payload as { deal?: DealRef }).deal;
        await noteRobotFailure(ctx, reg.robot.name, deal ? { entity: deal.entity, id: deal.id } : null, err).catch((e) => ctx.log.warn({ err: e }, 'could not count a robot failure'));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new RobotFailures(errors, event);
  }

  /** Delivers a fired timer to the robot that scheduled it. */
  async fireTimer(robotName: string, key: string, data: Record<string, unknown>, installation: Installation, services: RobotServices): Promise<void> {
    const reg = this.registrations.find((r) => r.event === 'timer' && r.robot.name === robotName);
    if (!reg) return;
    const settings = resolveSettings(reg.robot, installation);
    if (!settings.enabled) return;
    const ctx = this.context(robotName, settings, installation, services);
    try {
      await (reg.handler as TimerHandler<unknown>)({ ...ctx, key, data });
      robotRuns.inc({ robot: robotName, outcome: 'done' });
    } catch (err) {
      robotRuns.inc({ robot: robotName, outcome: 'failed' });
      const target = typeof data.entity === 'string' && typeof data.id === 'string' ? { entity: data.entity as DealRef['entity'], id: data.id } : null;
      await noteRobotFailure(ctx, robotName, target, err).catch((e) => ctx.log.warn({ err: e }, 'could not count a robot failure'));
      throw err;
    }
  }

  /**
   * Runs an on-demand action with a robot's settings and context: the CRM's own automation asked
   * for it (a Bitrix24 robot an admin placed on a stage). It runs even when the robot's own event
   * handling is switched off (`enabled: false`): the admin placed this action explicitly.
   */
  async runAction<S extends { enabled: boolean }, R>(
    robot: Robot<S>,
    installation: Installation,
    services: RobotServices,
    action: (ctx: TimerContext<S>) => Promise<R>,
    call: { key: string } = { key: 'automation' },
  ): Promise<R> {
    const settings = resolveSettings(robot, installation);
    const ctx = this.context(robot.name, settings, installation, services) as Omit<TimerContext<S>, 'key' | 'data'>;
    return action({ ...ctx, key: call.key, data: {} });
  }

  private context(robot: string, settings: unknown, installation: Installation, services: RobotServices) {
    const log = services.log.child({ robot });
    return {
      installation,
      crm: services.crm,
      settings,
      locale: localeOf(installation),
      log,
      state: services.state,
      timers: services.timers,
      now: services.now ?? (() => new Date()),
      alerts: services.alerts ?? immediateProcessAlerts(installation, services.crm),
      inventory: services.inventory ?? (() => null),
      keepLastSeenStage: () => services.keepLastSeenStage?.(),
      report: async (a: ReportedAction) => {
        log.info({ target: a.target, before: a.before, after: a.after }, a.summary);
        robotActions.inc({ robot, kind: actionKind(a) });
        await services.actions.record({
          installationId: installation.id, robot, target: a.target, summary: a.summary, before: a.before, after: a.after, at: (services.now?.() ?? new Date()).toISOString(),
          ...(a.kind ? { kind: actionKind(a) } : {}), ...(a.why ? { why: a.why.slice(0, 2000) } : {}), ...(a.undo && undoPlanSchema.safeParse(a.undo).success ? { undo: a.undo } : {}),
        });
      },
    };
  }
}

/** A metric label: few values, so never free text (snake case, at most 40 characters). */
function actionKind(action: { summary: string; kind?: string }): string {
  const raw = action.kind ?? action.summary.split(':')[0] ?? '';
  const kind = raw.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 40);
  return kind || 'other';
}

/** config/robots.default.json, then the installation's overrides (merged deeply), validated by the robot's own schema. */
export function resolveSettings<S extends { enabled: boolean }>(robot: Robot<S>, installation: Installation): S {
  const parsed = robotSettingsOf<S>(robot, installation.settings);
  if (!parsed.success) {
    throw new Error(`Settings of robot "${robot.name}" for ${installation.id} are invalid: ${parsed.error.issues.map((i) => `${[robot.name, ...i.path].join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function localeOf(installation: Installation): 'ru' | 'en' {
  return globalSettingsOf(installation.settings).locale;
}
