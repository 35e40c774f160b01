/**
 * Stage timing as data (seed 002): how long a deal may stay in a stage, who hears when it runs
 * out, reminders, an escalation, and the mandatory next step a stage needs (a task the manager
 * must have). Written in presets as durations ("1d", "30d"), bound to milliseconds.
 *
 * Kept out of `schema.ts` so that the stage guard's model stays readable; the stage timers
 * robot (`src/robots/stage-timers.ts`) is the only reader.
 */
import { z } from 'zod';
import { durationSchema } from '../settings/duration';

/**
 * A duration in a preset: text as written ("1d"), or milliseconds — a preset is validated again
 * when it is bound, after its durations were parsed once.
 */
const PresetDurationSchema = z.union([durationSchema, z.number().int().nonnegative()]);

/** Who is told when a limit runs out: the responsible manager, the heads of sales, or both. */
export const NotifyWhoSchema = z.enum(['manager', 'head_of_sales']);
export type NotifyWho = z.infer<typeof NotifyWhoSchema>;

const NotifyListSchema = z.array(NotifyWhoSchema).min(1, 'name at least one of "manager", "head_of_sales"');

/**
 * - `entered`: the clock starts when the deal enters the stage (a stuck stage);
 * - `last_touch`: the clock restarts at every touch (a call, note or message by the responsible),
 *   so it measures time without contact («Отложенный спрос»: at least one touch a month).
 */
export const LimitSinceSchema = z.enum(['entered', 'last_touch']);

/**
 * - `notify`: a message to whoever `notify` names (heads of sales through the alert digest);
 * - `task`: a task for the responsible manager in the deal (amoCRM task, Bitrix24 to-do), plus
 *   the message when `notify` names the heads of sales too.
 */
export const LimitActionSchema = z.enum(['notify', 'task']);

export const PresetTimeLimitSchema = z.strictObject({
  /** How long a deal may stay (or stay untouched) before someone is told. */
  maxTime: PresetDurationSchema,
  /** `working`: counted on the installation's working hours (`schedule`); `calendar`: wall-clock time. */
  clock: z.enum(['working', 'calendar']).default('working'),
  since: LimitSinceSchema.default('entered'),
  action: LimitActionSchema.default('notify'),
  notify: NotifyListSchema.default(['manager']),
  /** Remind again every so often while the deal stays (same clock); absent: once. */
  repeatEvery: PresetDurationSchema.optional(),
  /** A second limit, counted from the same start, after which someone else hears of it. */
  escalation: z.strictObject({ after: PresetDurationSchema, notify: NotifyListSchema.default(['head_of_sales']) }).optional(),
  /** Why the rule exists (the seed), documentation. */
  note: z.string().optional(),
});
export type PresetTimeLimit = z.infer<typeof PresetTimeLimitSchema>;
export type PresetTimeLimitInput = z.input<typeof PresetTimeLimitSchema>;

/**
 * The task a stage needs, created on entering it when the deal has no open task:
 * - `feedback`: «Получить обратную связь по КП», due `due` after entering;
 * - `meeting`: the meeting itself, due at the date in `dateField` (a field key of the preset);
 *   without a date nothing is created (the stage guard asks for the date).
 */
export const PresetNextStepSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('feedback'), due: PresetDurationSchema.prefault('1d'), note: z.string().optional() }),
  z.strictObject({ kind: z.literal('meeting'), dateField: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a field key'), note: z.string().optional() }),
]);
export type PresetNextStep = z.infer<typeof PresetNextStepSchema>;

/** An installation's change to a stage's limit (e.g. shorter in the demo), or `null` to drop it. */
export const TimeLimitOverrideSchema = z
  .strictObject({
    maxTime: PresetDurationSchema.optional(),
    clock: z.enum(['working', 'calendar']).optional(),
    since: LimitSinceSchema.optional(),
    action: LimitActionSchema.optional(),
    notify: NotifyListSchema.optional(),
    repeatEvery: PresetDurationSchema.optional(),
    escalation: z.strictObject({ after: PresetDurationSchema, notify: NotifyListSchema.default(['head_of_sales']) }).optional(),
  })
  .nullable();
export type TimeLimitOverride = NonNullable<z.infer<typeof TimeLimitOverrideSchema>>;

/** A preset's limit with an installation's changes; null when the result has no `maxTime`. */
export function mergeTimeLimit(base: PresetTimeLimit | undefined, change: TimeLimitOverride): PresetTimeLimit | null {
  const defined = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as TimeLimitOverride;
  const maxTime = defined.maxTime ?? base?.maxTime;
  if (maxTime === undefined) return null;
  return {
    clock: 'working',
    since: 'entered',
    action: 'notify',
    notify: ['manager'],
    ...base,
    ...defined,
    maxTime,
  };
}

// ---------------------------------------------------------------------------------------------
// Bound (milliseconds, field codes resolved)
// ---------------------------------------------------------------------------------------------

export const BoundTimeLimitSchema = z.strictObject({
  maxTimeMs: z.number().int().positive(),
  clock: z.enum(['working', 'calendar']),
  since: LimitSinceSchema,
  action: LimitActionSchema,
  notify: z.array(NotifyWhoSchema),
  repeatEveryMs: z.number().int().positive().nullable(),
  escalation: z.strictObject({ afterMs: z.number().int().positive(), notify: z.array(NotifyWhoSchema) }).nullable(),
});
export type BoundTimeLimit = z.infer<typeof BoundTimeLimitSchema>;

export const BoundNextStepSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('feedback'), dueMs: z.number().int().positive() }),
  z.strictObject({ kind: z.literal('meeting'), dateFieldCode: z.string().min(1), dateFieldTitle: z.string() }),
]);
export type BoundNextStep = z.infer<typeof BoundNextStepSchema>;

/** Reminders below this would spam the manager; a preset asking for less is refused. */
export const MIN_REPEAT_MS = 60_000;

export function bindTimeLimit(limit: PresetTimeLimit): BoundTimeLimit {
  return {
    maxTimeMs: limit.maxTime,
    clock: limit.clock,
    since: limit.since,
    action: limit.action,
    notify: [...new Set(limit.notify)],
    repeatEveryMs: limit.repeatEvery ?? null,
    escalation: limit.escalation ? { afterMs: limit.escalation.after, notify: [...new Set(limit.escalation.notify)] } : null,
  };
}

/** What a schema cannot say about one limit; `at` is the limit's path, for exact error places. */
export function timeLimitProblems(limit: PresetTimeLimit): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  if (limit.maxTime <= 0) problems.push({ path: ['maxTime'], message: 'must be longer than zero' });
  if (limit.repeatEvery !== undefined && limit.repeatEvery < MIN_REPEAT_MS) problems.push({ path: ['repeatEvery'], message: 'reminders at most once a minute ("1m" or longer)' });
  if (limit.escalation && limit.escalation.after <= limit.maxTime) {
    problems.push({ path: ['escalation', 'after'], message: 'the escalation comes after the first limit: make it longer than maxTime' });
  }
  return problems;
}
