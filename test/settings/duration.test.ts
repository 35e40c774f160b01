import { durationSchema, formatDuration, parseDuration } from '../../src/settings/duration';

describe('durations are written the way people say them', () => {
  test.each([
    ['20s', 20_000],
    ['15m', 900_000],
    ['3d', 259_200_000],
    ['1h30m', 5_400_000],
    ['2w', 1_209_600_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['0s', 0],
    [' 15m ', 900_000],
    ['PT15M', 900_000],
    ['pt15m', 900_000],
    ['P3D', 259_200_000],
    ['P1DT12H', 129_600_000],
    ['PT1H30M', 5_400_000],
    ['PT0.5S', 500],
    ['P1W', 604_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(['', '15', 'm15', '15 m', '15min', '3 days', 'P1M', 'P1Y', 'P', 'PT', '15m-', '-5m', 'abc'])('"%s" is refused', (text) => {
    expect(parseDuration(text)).toBeNull();
    const parsed = durationSchema.safeParse(text);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('a duration like "20s", "15m", "3d"');
  });

  test('a number is refused with the same hint', () => {
    expect(durationSchema.safeParse(900).error?.issues[0]?.message).toContain('"15m"');
  });

  test.each([
    [900_000, '15m'],
    [5_400_000, '1h30m'],
    [259_200_000, '3d'],
    [0, '0s'],
    [1500, '1s500ms'],
  ])('%d ms is written %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
