import { z } from 'zod';
import type { RobotContext, TimerContext } from '../app';
import type { Deal, DealRef } from '../crm/crm-port';
import { globalSettingsOf } from '../settings/installation-settings';

/** Settings, timer data and the pieces the stage timers robot and its cadence share. */
export const stageTimersSettings = z.object({
  enabled: z.boolean().default(true),
  noAnswer: z
    .object({
      /** Run the call cadence in the `no_answer` stage. */
      enabled: z.boolean().default(true),
      /** After the last attempt: move the deal to the `to_close` stage, or only tell the manager. */
      afterLastAttempt: z.enum(['move_to_close', 'notify_manager']).default('move_to_close'),
      /** The messenger named in week-1 tasks. */
      messenger: z.string().min(1).default('WhatsApp'),
      /** A deal field (CRM code) holding the client's IANA time zone; empty: the installation's. */
      clientTimeZoneField: z.string().default(''),
    })
    .prefault({}),
  /** More untouched deals than this in the `in_work` stage for one manager alerts the heads of sales. */
  inWorkMaxPerManager: z.number().int().positive().max(50).default(10),
  /** Alert the heads of sales when a deal of a regulated funnel has no (active) responsible. */
  alertUnassigned: z.boolean().default(true),
});
export type StageTimersSettings = z.infer<typeof stageTimersSettings>;
export type StageCtx = RobotContext<'deal.stageChanged' | 'lead.stageChanged', StageTimersSettings>;
export type DealCtx = RobotContext<'deal.created' | 'deal.updated' | 'lead.created' | 'lead.updated', StageTimersSettings>;
export type TimersCtx = Omit<StageCtx, 'event' | 'payload'> | TimerContext<StageTimersSettings>;

export const ROBOT = 'stageTimers';
export const DAY_S = 86_400;

/** One stay of a deal in a stage: timers carry its id, so a timer of an older stay does nothing. */
export interface Stay {
  id: string;
  stageId: string;
  enteredAt: string;
}

export type TimerKind = 'limit' | 'escalate' | 'cadence';
export interface TimerData {
  kind: TimerKind;
  entity: Deal['entity'];
  id: string;
  stay: string;
  /** Limits: where the clock started (the stay's start, or the last touch); cadence: unused. */
  from: string;
  /** Limits: reminders sent so far; cadence: the attempt whose task is due. */
  n: number;
}

export const timerKey = (kind: TimerKind, ref: DealRef) => `${kind}|${ref.entity}|${ref.id}`;

export function scheduleOf(ctx: TimersCtx) {
  return globalSettingsOf(ctx.installation.settings).schedule;
}
