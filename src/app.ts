import { z } from 'zod';
import type { CrmPort, DealRef } from './crm/crm-port';
import type { CrmEventMap, CrmEventName } from './events';
import type { InventoryPort } from './inventory/inventory-port';
import type { Installation } from './installations/installation';
import type { Logger } from './log';
import { globalSettingsOf, robotSettingsOf } from './settings/installation-settings';

/** One line of what a robot did, shown in the demo page and kept for audit. */
export const robotActionSchema = z.object({
  installationId: z.string(),
  robot: z.string(),
  target: z.object({ entity: z.string(), id: z.string() }),
  summary: z.string(),
  before: z.string().optional(),
  after: z.string().optional(),
  at: z.string(),
});
export type RobotAction = z.infer<typeof robotActionSchema>;

export interface ActionLog {
  record(action: RobotAction): Promise<void>;
  latest(limit: number): Promise<RobotAction[]>;
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
  /** Records what the robot did so managers, admins and the demo can see it. */
  report(action: { target: DealRef; summary: string; before?: string; after?: string }): Promise<void>;
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
      } catch (err) {
        ctx.log.warn({ err, event }, 'robot failed');
        errors.push(err);
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
    await (reg.handler as TimerHandler<unknown>)({ ...this.context(robotName, settings, installation, services), key, data });
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
      inventory: services.inventory ?? (() => null),
      keepLastSeenStage: () => services.keepLastSeenStage?.(),
      report: async (a: { target: DealRef; summary: string; before?: string; after?: string }) => {
        log.info({ target: a.target, before: a.before, after: a.after }, a.summary);
        await services.actions.record({ installationId: installation.id, robot, target: a.target, summary: a.summary, before: a.before, after: a.after, at: new Date().toISOString() });
      },
    };
  }
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
