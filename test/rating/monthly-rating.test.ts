import { randomBytes } from 'node:crypto';
import { computeRating, daysOf, previousMonth } from '../../src/rating/monthly-rating';
import { signRatingLink, verifyRatingLink } from '../../src/rating/rating-link';
import { ratingSvg } from '../../src/rating/rating-svg';

const lead = (managerId: string, dealId: string) => ({ managerId, entity: 'deal', dealId, at: '2026-11-10T10:00:00Z' });

describe('the monthly rating', () => {
  const names = new Map([['2', 'Анна'], ['3', 'Борис'], ['5', 'Вера']]);
  const rating = computeRating(
    '2026-11',
    {
      leads: [lead('2', '1'), lead('2', '2'), lead('3', '3'), lead('3', '4'), lead('3', '5'), lead('5', '6'), lead('2', '1')],
      meetings: [
        { managerId: '2', dealId: '1', at: '' },
        { managerId: '2', dealId: '1', at: '' }, // re-entered: one meeting
        { managerId: '3', dealId: '3', at: '' },
      ],
      // Борис missed lead 5: it does not count as his lead, it counts as a miss.
      misses: [{ managerId: '3', entity: 'deal', dealId: '5', at: '' }],
      violations: [{ managerId: '3' }, { managerId: '3' }, { managerId: 'unknown' }],
    },
    names,
  );

  it('per manager: leads, meetings held, conversion, misses, violations — best first', () => {
    expect(rating.rows).toEqual([
      { managerId: '2', name: 'Анна', leads: 2, meetings: 1, conversion: 0.5, misses: 0, violations: 0 },
      { managerId: '3', name: 'Борис', leads: 2, meetings: 1, conversion: 0.5, misses: 1, violations: 2 },
      { managerId: '5', name: 'Вера', leads: 1, meetings: 0, conversion: 0, misses: 0, violations: 0 },
    ]);
  });

  it('a manager with meetings but no leads from the robot is listed without a conversion, last', () => {
    const r = computeRating('2026-11', { leads: [lead('2', '1')], meetings: [{ managerId: '9', dealId: '7', at: '' }], misses: [], violations: [] }, new Map());
    expect(r.rows.map((x) => [x.managerId, x.conversion])).toEqual([['2', 0], ['9', null]]);
  });

  it('draws one bar per manager, the worst in red, names escaped', () => {
    const svg = ratingSvg({ month: '2026-11', rows: [{ ...rating.rows[0]!, name: 'Анна <script>' }, rating.rows[2]!] }, { worst: new Set(['5']) });
    expect(svg.match(/<rect [^>]*fill="#2f7ed8"/g)).toHaveLength(1);
    expect(svg.match(/<rect [^>]*fill="#d9534f"/g)).toHaveLength(1);
    expect(svg).toContain('Анна &#60;script&#62;');
    expect(svg).toContain('50%');
  });

  it.each([
    ['2026-01', '2025-12'],
    ['2026-11', '2026-10'],
  ])('the month before %s is %s', (month, before) => expect(previousMonth(month)).toBe(before));

  it('violations are read from every day of the month', () => {
    expect(daysOf('2026-02')).toHaveLength(28);
    expect(daysOf('2026-11').at(-1)).toBe('2026-11-30');
  });
});

describe('the rating page link', () => {
  const secret = randomBytes(32);
  const exp = Date.parse('2026-12-31T00:00:00Z');
  const sig = signRatingLink(secret, 'amo:31000001', '2026-11', exp);

  it.each([
    ['the link as sent opens the page', 'amo:31000001', '2026-11', exp, sig, true],
    ['another installation is refused', 'amo:31000002', '2026-11', exp, sig, false],
    ['another month is refused', 'amo:31000001', '2026-10', exp, sig, false],
    ['a later expiry is refused', 'amo:31000001', '2026-11', exp + 1, sig, false],
    ['a forged signature is refused', 'amo:31000001', '2026-11', exp, sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), false],
  ])('%s', (_name, id, month, expiresAt, signature, ok) => {
    expect(verifyRatingLink(secret, id, month, expiresAt, signature, Date.parse('2026-12-01T00:00:00Z'))).toBe(ok);
  });

  it('an expired link is refused', () => {
    expect(verifyRatingLink(secret, 'amo:31000001', '2026-11', exp, sig, exp + 1)).toBe(false);
  });
});
