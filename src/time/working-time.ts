import { DateTime } from 'luxon';
import type { Schedule, Weekday } from '../settings/schedule';

/**
 * Working-time arithmetic on a schedule (`src/settings/schedule.ts`): pure functions of the
 * schedule and instants, so "when does this timer fire" is answered the same way by every robot
 * and tested without a clock. Windows are taken in the schedule's time zone, day by day
 * (daylight-saving days included: a window is wall-clock hours of that day).
 */

/** How far ahead the arithmetic looks for working time before giving up (a schedule always has some each week). */
const HORIZON_DAYS = 400;

interface Interval {
  start: number;
  end: number;
}

/** The working intervals of one local day, merged and in order, as epoch milliseconds. */
function intervalsOfDay(schedule: Extract<Schedule, { kind: 'weekly' }>, day: DateTime): Interval[] {
  const weekday = day.weekday as Weekday;
  const raw = schedule.windows
    .filter((w) => w.days.includes(weekday))
    .map((w) => ({ start: atMinutes(day, w.from), end: atMinutes(day, w.to) }))
    .sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const i of raw) {
    const last = merged[merged.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else merged.push({ ...i });
  }
  return merged;
}

function atMinutes(day: DateTime, minutes: number): number {
  if (minutes >= 1440) return day.plus({ days: 1 }).startOf('day').toMillis();
  return day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60, second: 0, millisecond: 0 }).toMillis();
}

/** Working intervals from the local day of `from` onwards, lazily. */
function* intervalsFrom(schedule: Extract<Schedule, { kind: 'weekly' }>, from: number): Generator<Interval> {
  let day = DateTime.fromMillis(from, { zone: schedule.timeZone }).startOf('day');
  for (let i = 0; i < HORIZON_DAYS; i++, day = day.plus({ days: 1 })) {
    for (const interval of intervalsOfDay(schedule, day)) if (interval.end > from) yield interval;
  }
}

export function isWorkingTime(schedule: Schedule, at: Date): boolean {
  if (schedule.kind === 'always') return true;
  const t = at.getTime();
  const day = DateTime.fromMillis(t, { zone: schedule.timeZone }).startOf('day');
  return intervalsOfDay(schedule, day).some((i) => i.start <= t && t < i.end);
}

/** `at` itself when it is working time, else the start of the next working window. */
export function nextWorkingStart(schedule: Schedule, at: Date): Date {
  if (schedule.kind === 'always') return at;
  const t = at.getTime();
  for (const i of intervalsFrom(schedule, t)) return new Date(Math.max(i.start, t));
  throw new Error(`no working time within ${HORIZON_DAYS} days of ${at.toISOString()} in "${schedule.text}"`);
}

/**
 * The instant at which `durationMs` of working time has passed since `start`: a lead that arrives
 * at 22:00 with 15 minutes to be taken is due at 09:15 the next working day.
 */
export function addWorkingTime(schedule: Schedule, start: Date, durationMs: number): Date {
  if (schedule.kind === 'always') return new Date(start.getTime() + durationMs);
  let left = durationMs;
  const t = start.getTime();
  for (const i of intervalsFrom(schedule, t)) {
    const from = Math.max(i.start, t);
    if (left <= i.end - from) return new Date(from + left);
    left -= i.end - from;
  }
  throw new Error(`no working time within ${HORIZON_DAYS} days of ${start.toISOString()} in "${schedule.text}"`);
}

/** Working time between two instants, in milliseconds (0 when `to` is not after `from`). */
export function workingTimeBetween(schedule: Schedule, from: Date, to: Date): number {
  if (to <= from) return 0;
  if (schedule.kind === 'always') return to.getTime() - from.getTime();
  let total = 0;
  for (const i of intervalsFrom(schedule, from.getTime())) {
    if (i.start >= to.getTime()) break;
    total += Math.min(i.end, to.getTime()) - Math.max(i.start, from.getTime());
  }
  return total;
}
