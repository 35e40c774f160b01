import { parseSchedule, scheduleSchema } from '../../src/settings/schedule';

describe('working hours', () => {
  test('the default: 9 to 21 Moscow time every day', () => {
    const parsed = parseSchedule('09:00-21:00 Europe/Moscow, every day');
    expect(parsed).toEqual({
      ok: true,
      schedule: { kind: 'weekly', text: '09:00-21:00 Europe/Moscow, every day', timeZone: 'Europe/Moscow', windows: [{ days: [1, 2, 3, 4, 5, 6, 7], from: 540, to: 1260 }] },
    });
  });

  test('"24/7" means always', () => {
    expect(parseSchedule('24/7')).toEqual({ ok: true, schedule: { kind: 'always', text: '24/7' } });
  });

  test.each([
    ['09:00-18:00 Europe/Moscow, Mon-Fri', [{ days: [1, 2, 3, 4, 5], from: 540, to: 1080 }]],
    ['09:00-18:00 Europe/Moscow, Mon-Fri; 10:00-16:00 Sat', [{ days: [1, 2, 3, 4, 5], from: 540, to: 1080 }, { days: [6], from: 600, to: 960 }]],
    ['10:00-19:00 Asia/Yekaterinburg, пн-пт', [{ days: [1, 2, 3, 4, 5], from: 600, to: 1140 }]],
    ['08:30-24:00 Europe/Moscow, Mon,Wed,Fri', [{ days: [1, 3, 5], from: 510, to: 1440 }]],
    ['09:00-21:00 Europe/Moscow, Sat-Mon', [{ days: [1, 6, 7], from: 540, to: 1260 }]],
    ['9:00-21:00 Europe/Moscow', [{ days: [1, 2, 3, 4, 5, 6, 7], from: 540, to: 1260 }]],
  ])('%s', (text, windows) => {
    const parsed = parseSchedule(text);
    expect(parsed.ok && parsed.schedule.kind === 'weekly' && parsed.schedule.windows).toEqual(windows);
  });

  test.each([
    ['09:00-21:00', 'the time zone is missing'],
    ['09:00-21:00 Mars/Olympus, every day', 'is not an IANA time zone'],
    ['21:00-09:00 Europe/Moscow', 'does not cross midnight'],
    ['09:00-25:00 Europe/Moscow', 'hours are 00:00–24:00'],
    ['09:00-21:00 Europe/Moscow, someday', 'are not days'],
    ['09:00-18:00 Europe/Moscow; 10:00-16:00 Asia/Omsk, Sat', 'one time zone per schedule'],
    ['from nine to nine', 'is not a window'],
    ['', 'no working hours given'],
  ])('"%s" is refused: %s', (text, why) => {
    const parsed = scheduleSchema.safeParse(text);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain(why);
  });
});
