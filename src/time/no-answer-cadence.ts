import { DateTime } from 'luxon';

/**
 * The no-answer call cadence of seed 002 («Не дозвонились»), as a pure function of the day the
 * deal entered the stage and the client's time zone:
 * - week 1: a call every other day, plus a WhatsApp or Telegram message;
 * - weeks 2–4: two calls a week, one of them at the weekend;
 * - weeks 5–8: one call a week;
 * - calls at lunch (13–15) or in the evening (19–21), alternating.
 *
 * Attempt 1 is the missed call that brought the deal into the stage (day 0): the manager's first
 * task is attempt 2, at lunch two days later. 4 + 6 + 4 = 14 attempts over eight weeks.
 */
export const CALL_WINDOWS = {
  lunch: { fromHour: 13, toHour: 15 },
  evening: { fromHour: 19, toHour: 21 },
} as const;
export type CallWindow = keyof typeof CALL_WINDOWS;

export interface PlannedAttempt {
  /** 1-based; attempt 1 is the missed call on entering the stage. */
  attempt: number;
  total: number;
  /** Days after the day of entering the stage (local calendar days). */
  dayOffset: number;
  window: CallWindow;
  /** Week 1: also write in a messenger. */
  messenger: boolean;
  weekend: boolean;
}

export interface AttemptWindow extends PlannedAttempt {
  /** The call window on that day, in the client's time zone. */
  from: Date;
  to: Date;
}

const isWeekend = (weekday: number) => weekday === 6 || weekday === 7;

/** The days of the whole cadence; `startWeekday` is the ISO weekday (1 = Monday) of day 0. */
export function cadenceDays(startWeekday: number): Array<{ dayOffset: number; weekend: boolean; messenger: boolean }> {
  const weekdayOf = (d: number) => ((startWeekday - 1 + d) % 7) + 1;
  const days: Array<{ dayOffset: number; weekend: boolean; messenger: boolean }> = [];
  for (const d of [0, 2, 4, 6]) days.push({ dayOffset: d, weekend: isWeekend(weekdayOf(d)), messenger: true });
  for (let week = 1; week <= 3; week++) {
    const span = Array.from({ length: 7 }, (_, i) => 7 * week + i);
    const weekendDay = span.find((d) => isWeekend(weekdayOf(d)))!;
    // The weekday call as far from the weekend call as the week allows (the earliest of equals).
    const weekdays = span.filter((d) => !isWeekend(weekdayOf(d)));
    const weekdayCall = weekdays.reduce((best, d) => (Math.abs(d - weekendDay) > Math.abs(best - weekendDay) ? d : best));
    for (const d of [weekdayCall, weekendDay].sort((a, b) => a - b)) days.push({ dayOffset: d, weekend: isWeekend(weekdayOf(d)), messenger: false });
  }
  for (let week = 4; week <= 7; week++) days.push({ dayOffset: 7 * week, weekend: isWeekend(weekdayOf(7 * week)), messenger: false });
  return days;
}

export const CADENCE_ATTEMPTS = 14;

/** Every attempt of the cadence for a deal that entered the stage on a day of `startWeekday`. */
export function cadencePlan(startWeekday: number): PlannedAttempt[] {
  return cadenceDays(startWeekday).map((day, i) => ({
    attempt: i + 1,
    total: CADENCE_ATTEMPTS,
    ...day,
    window: i % 2 === 1 ? 'lunch' : 'evening',
  }));
}

/**
 * Attempt `attempt` of a cadence that started at `enteredAt`, with its call window as instants.
 * Null past the last attempt.
 */
export function attemptWindow(enteredAt: Date, attempt: number, timeZone: string): AttemptWindow | null {
  const day0 = DateTime.fromJSDate(enteredAt, { zone: timeZone }).startOf('day');
  const planned = cadencePlan(day0.weekday)[attempt - 1];
  if (!planned) return null;
  const day = day0.plus({ days: planned.dayOffset });
  const hours = CALL_WINDOWS[planned.window];
  return {
    ...planned,
    from: day.set({ hour: hours.fromHour }).toJSDate(),
    to: day.set({ hour: hours.toHour }).toJSDate(),
  };
}

/** A valid IANA zone name, or null (a CRM field may hold anything). */
export function validTimeZone(value: unknown): string | null {
  if (typeof value !== 'string' || !value.trim()) return null;
  return DateTime.local().setZone(value.trim()).isValid ? value.trim() : null;
}
