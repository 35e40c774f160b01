import type { BoundTimeLimit } from '../regulation/timing';
import type { Schedule } from '../settings/schedule';
import { addWorkingTime, nextWorkingStart } from '../time/working-time';

/**
 * When a stage limit runs out: `working` limits count only the installation's working hours;
 * `calendar` limits count wall-clock time but are delivered at the next working moment (nobody
 * is told at 3 a.m. that a deal waited a day).
 */
export function limitDue(schedule: Schedule, clock: BoundTimeLimit['clock'], from: Date, durationMs: number): Date {
  if (clock === 'working') return addWorkingTime(schedule, from, durationMs);
  return nextWorkingStart(schedule, new Date(from.getTime() + durationMs));
}

/** The time zone of the installation's working hours (Moscow for "24/7"). */
export function scheduleTimeZone(schedule: Schedule): string {
  return schedule.kind === 'weekly' ? schedule.timeZone : 'Europe/Moscow';
}
