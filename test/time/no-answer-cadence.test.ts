/** The seed 002 no-answer cadence: which day, which window, for every attempt (pure, no clock). */
import { attemptWindow, cadencePlan, validTimeZone } from '../../src/time/no-answer-cadence';

const MOSCOW = 'Europe/Moscow';

describe('the no-answer cadence (seed 002)', () => {
  test('fourteen attempts over eight weeks: 4 in week 1, 2 a week in weeks 2–4, 1 a week in weeks 5–8', () => {
    const plan = cadencePlan(1); // entered on a Monday
    expect(plan).toHaveLength(14);
    expect(plan.map((a) => a.dayOffset)).toEqual([0, 2, 4, 6, 7, 12, 14, 19, 21, 26, 28, 35, 42, 49]);
    expect(plan.filter((a) => a.dayOffset < 7).every((a) => a.messenger)).toBe(true);
    expect(plan.filter((a) => a.dayOffset >= 7).some((a) => a.messenger)).toBe(false);
  });

  test.each([
    // ISO weekday of the missed call, then the weeks 2–4 days: one weekday and one weekend call each week
    [1, [7, 12, 14, 19, 21, 26]], // Monday: Mon + Sat
    [3, [7, 10, 14, 17, 21, 24]], // Wednesday: Wed + Sat
    [6, [7, 13, 14, 20, 21, 27]], // Saturday: Sat + Fri
    [7, [7, 12, 14, 19, 21, 26]], // Sunday: Sun + Fri
  ])('entered on weekday %i: weeks 2–4 call on days %j, one of each week at the weekend', (weekday, days) => {
    const middle = cadencePlan(weekday).filter((a) => a.dayOffset >= 7 && a.dayOffset < 28);
    expect(middle.map((a) => a.dayOffset)).toEqual(days);
    for (let week = 1; week <= 3; week++) {
      const ofWeek = middle.filter((a) => Math.floor(a.dayOffset / 7) === week);
      expect(ofWeek.map((a) => a.weekend).sort()).toEqual([false, true]);
    }
  });

  test.each([
    // attempt, local window start, local window end, window, messenger
    [2, '2026-12-02T13:00', '2026-12-02T15:00', 'lunch', true], // after a missed call: lunch two days later
    [3, '2026-12-04T19:00', '2026-12-04T21:00', 'evening', true],
    [4, '2026-12-06T13:00', '2026-12-06T15:00', 'lunch', true],
    [5, '2026-12-07T19:00', '2026-12-07T21:00', 'evening', false],
    [6, '2026-12-12T13:00', '2026-12-12T15:00', 'lunch', false], // the weekend call
    [14, '2027-01-18T13:00', '2027-01-18T15:00', 'lunch', false],
  ])('attempt %i of a deal entering on Monday 30 Nov at 11:20: %s–%s Moscow time', (attempt, from, to, window, messenger) => {
    const a = attemptWindow(new Date('2026-11-30T08:20:00Z'), attempt, MOSCOW)!;
    const local = (d: Date) => d.toLocaleString('sv-SE', { timeZone: MOSCOW }).slice(0, 16).replace(' ', 'T');
    expect([local(a.from), local(a.to), a.window, a.messenger]).toEqual([from, to, window, messenger]);
  });

  test('the windows are the client\'s: 13–15 in Novosibirsk is 09–11 in Moscow', () => {
    const a = attemptWindow(new Date('2026-11-30T08:20:00Z'), 2, 'Asia/Novosibirsk')!;
    expect(a.from.toISOString()).toBe('2026-12-02T06:00:00.000Z');
  });

  test('a late-evening entry counts days from the client\'s own date', () => {
    // 23:30 UTC on the 30th is already 1 December in Moscow
    const a = attemptWindow(new Date('2026-11-30T23:30:00Z'), 2, MOSCOW)!;
    expect(a.from.toISOString()).toBe('2026-12-03T10:00:00.000Z');
  });

  test('there is no attempt 15', () => {
    expect(attemptWindow(new Date('2026-11-30T08:20:00Z'), 15, MOSCOW)).toBeNull();
  });

  test.each([['Asia/Yekaterinburg', 'Asia/Yekaterinburg'], ['Mars/Olympus', null], ['', null], [42, null]])('time zone %p → %p', (value, zone) => {
    expect(validTimeZone(value)).toBe(zone);
  });
});
