import { parseSchedule, type Schedule } from '../../src/settings/schedule';
import { addWorkingTime, isWorkingTime, nextWorkingStart, workingTimeBetween } from '../../src/time/working-time';

function schedule(text: string): Schedule {
  const parsed = parseSchedule(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
}

const everyDay = schedule('09:00-21:00 Europe/Moscow, every day');
const weekdays = schedule('09:00-18:00 Europe/Moscow, Mon-Fri; 10:00-16:00 Sat');
const lunchBreak = schedule('09:00-13:00 Europe/Moscow, Mon-Fri; 14:00-18:00 Europe/Moscow, Mon-Fri');
const allTheTime = schedule('24/7');
// 2026-11-30 is a Monday. Moscow is UTC+3 all year.
const msk = (local: string) => new Date(`${local}+03:00`);
const MIN = 60_000;

describe('working time: when does a timer fire', () => {
  test.each([
    ['a lead at 10:00 with 15 minutes is due at 10:15', everyDay, '2026-11-30T10:00:00', 15 * MIN, '2026-11-30T10:15:00'],
    ['the night\'s leads are counted from 9:00: 22:00 + 15m → 09:15 next day', everyDay, '2026-11-30T22:00:00', 15 * MIN, '2026-12-01T09:15:00'],
    ['a lead at 03:00 is due at 09:15', everyDay, '2026-12-01T03:00:00', 15 * MIN, '2026-12-01T09:15:00'],
    ['20:55 + 15m runs 5 minutes today and 10 tomorrow', everyDay, '2026-11-30T20:55:00', 15 * MIN, '2026-12-01T09:10:00'],
    ['exactly at closing time the rest waits for the morning', everyDay, '2026-11-30T21:00:00', 15 * MIN, '2026-12-01T09:15:00'],
    ['Friday 17:55 + 15m → Saturday 10:10 (Saturday works 10–16)', weekdays, '2026-12-04T17:55:00', 15 * MIN, '2026-12-05T10:10:00'],
    ['Saturday 15:50 + 15m → Monday 09:05', weekdays, '2026-12-05T15:50:00', 15 * MIN, '2026-12-07T09:05:00'],
    ['Sunday is not worked: Sunday noon + 15m → Monday 09:15', weekdays, '2026-12-06T12:00:00', 15 * MIN, '2026-12-07T09:15:00'],
    ['the lunch break does not count: 12:50 + 15m → 14:05', lunchBreak, '2026-11-30T12:50:00', 15 * MIN, '2026-11-30T14:05:00'],
    ['one working day of 12h: Monday 09:00 + 1d of working time (24h) → Tuesday 21:00', everyDay, '2026-11-30T09:00:00', 24 * 60 * MIN, '2026-12-01T21:00:00'],
    ['24/7 is plain clock time', allTheTime, '2026-11-30T22:00:00', 15 * MIN, '2026-11-30T22:15:00'],
    ['a zero duration outside hours is the next opening', everyDay, '2026-11-30T23:00:00', 0, '2026-12-01T09:00:00'],
  ])('%s', (_name, sched, start, duration, due) => {
    expect(addWorkingTime(sched, msk(start), duration).toISOString()).toBe(msk(due).toISOString());
  });

  test('another time zone: Yekaterinburg (UTC+5) opens at 04:00 UTC', () => {
    const ekb = schedule('09:00-18:00 Asia/Yekaterinburg, every day');
    expect(addWorkingTime(ekb, new Date('2026-11-30T02:00:00Z'), 15 * MIN).toISOString()).toBe('2026-11-30T04:15:00.000Z');
  });

  test('daylight saving: Berlin on the day clocks go back still works 09:00–18:00 local', () => {
    const berlin = schedule('09:00-18:00 Europe/Berlin, every day');
    // 2026-10-25: CEST → CET. 09:00 local is 08:00 UTC.
    expect(nextWorkingStart(berlin, new Date('2026-10-25T05:00:00Z')).toISOString()).toBe('2026-10-25T08:00:00.000Z');
  });

  test.each<[Schedule, string, boolean]>([
    [everyDay, '2026-11-30T08:59:59', false],
    [everyDay, '2026-11-30T09:00:00', true],
    [everyDay, '2026-11-30T20:59:59', true],
    [everyDay, '2026-11-30T21:00:00', false],
    [weekdays, '2026-12-06T12:00:00', false],
    [lunchBreak, '2026-11-30T13:30:00', false],
    [allTheTime, '2026-12-06T03:00:00', true],
  ])('%# (%s): is it working time', (sched, at, working) => {
    expect(isWorkingTime(sched, msk(at))).toBe(working);
  });

  test.each([
    [everyDay, '2026-11-30T20:00:00', '2026-12-01T10:00:00', 2 * 60 * MIN],
    [weekdays, '2026-12-04T17:00:00', '2026-12-07T10:00:00', (60 + 6 * 60 + 60) * MIN],
    [lunchBreak, '2026-11-30T12:00:00', '2026-11-30T15:00:00', 2 * 60 * MIN],
    [everyDay, '2026-11-30T10:00:00', '2026-11-30T09:00:00', 0],
  ])('working time between %#', (sched, from, to, ms) => {
    expect(workingTimeBetween(sched, msk(from), msk(to))).toBe(ms);
  });
});
