/** When a stage limit runs out, on the working-hours clock or the calendar (pure, no clock). */
import { parseSchedule, type Schedule } from '../../src/settings/schedule';
import { limitDue } from '../../src/stage-timers/limit-due';

const schedule = (text: string): Schedule => {
  const parsed = parseSchedule(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
};
const office = schedule('09:00-18:00 Europe/Moscow, Mon-Fri');
const H = 3_600_000;

test.each([
  // clock, entered (UTC), limit, due (UTC)
  ['calendar', '2026-11-30T08:00:00Z', 24 * H, '2026-12-01T08:00:00.000Z'], // Mon 11:00 + a day = Tue 11:00
  ['calendar', '2026-12-04T12:00:00Z', 24 * H, '2026-12-07T06:00:00.000Z'], // Fri 15:00 + a day = Sat 15:00 → told Mon 09:00
  ['calendar', '2026-11-30T17:00:00Z', 24 * H, '2026-12-02T06:00:00.000Z'], // Mon 20:00 + a day = Tue 20:00 → Wed 09:00
  ['working', '2026-11-30T08:00:00Z', 3 * H, '2026-11-30T11:00:00.000Z'], // Mon 11:00 + 3 working hours = 14:00
  ['working', '2026-11-30T13:00:00Z', 3 * H, '2026-12-01T07:00:00.000Z'], // Mon 16:00 + 3h = Tue 10:00
  ['working', '2026-12-04T14:00:00Z', 2 * H, '2026-12-07T07:00:00.000Z'], // Fri 17:00 + 2h = Mon 10:00
] as const)('%s limit: entered %s, %i ms → due %s', (clock, entered, ms, due) => {
  expect(limitDue(office, clock, new Date(entered), ms).toISOString()).toBe(due);
});

test('"24/7": calendar time is working time', () => {
  expect(limitDue(schedule('24/7'), 'calendar', new Date('2026-12-05T01:00:00Z'), H).toISOString()).toBe('2026-12-05T02:00:00.000Z');
});
