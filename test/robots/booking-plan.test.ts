/**
 * The booking releaser's and the unit status sync's pure decisions, table-driven, on a clock the
 * test controls.
 */
import { bookingReleaserSettings } from '../../src/robots/booking/booking-settings';
import { bookingTerm, bookingTimes, extendedTimes, isYes, judgeExpiry, parseCardDate, planUnitSync, targetFor, type UnitHold } from '../../src/robots/booking/booking-plan';
import { takesUnitFrom } from '../../src/robots/booking/inbound-changes';
import { normalizeUnitNumber } from '../../src/inventory/unit-number';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-30T12:00:00+03:00');
const defaults = bookingReleaserSettings.parse({});
const scoped = bookingReleaserSettings.parse({ duration: '3d', paidDuration: '14d', byProject: { 'ЖК Северный': { duration: '5d' }, 'Корпус 2': { duration: '1d', paidDuration: '7d' } } });

describe('the booking term', () => {
  test.each([
    ['default free booking', defaults, null, false, 3 * DAY],
    ['default paid booking', defaults, null, true, 14 * DAY],
    ['a project with its own term', scoped, { project: 'ЖК Северный', house: 'Корпус 1' }, false, 5 * DAY],
    ['a paid booking in that project keeps the default paid term', scoped, { project: 'ЖК Северный', house: 'Корпус 1' }, true, 14 * DAY],
    ['a house wins over its project', scoped, { project: 'ЖК Северный', house: 'Корпус 2' }, false, 1 * DAY],
    ['a paid booking in that house', scoped, { project: 'ЖК Северный', house: 'Корпус 2' }, true, 7 * DAY],
    ['an unknown project has the default', scoped, { project: 'ЖК Южный', house: null }, false, 3 * DAY],
  ])('%s', (_name, settings, place, paid, expected) => {
    expect(bookingTerm(settings, place, paid)).toBe(expected);
  });

  test('the deadline is now + the term, the warning a day before', () => {
    expect(bookingTimes(T0, 3 * DAY, DAY)).toEqual({ deadline: T0 + 3 * DAY, warnAt: T0 + 2 * DAY });
  });
  test('no warning when the booking is shorter than the warning, or warnings are off', () => {
    expect(bookingTimes(T0, 12 * 3600_000, DAY).warnAt).toBeNull();
    expect(bookingTimes(T0, 3 * DAY, 0).warnAt).toBeNull();
  });
  test('an extension moves the deadline and the warning', () => {
    expect(extendedTimes(T0 + DAY, T0 + 10 * DAY, DAY)).toEqual({ deadline: T0 + 10 * DAY, warnAt: T0 + 9 * DAY });
  });
});

describe('a timer judged when it fires', () => {
  const booking = { since: '2026-11-30T09:00:00.000Z', deadline: T0 + 3 * DAY };
  test.each([
    ['a booking older than 3 days expires', T0 + 3 * DAY, booking, true, 'expire'],
    ['a minute later still expires (a late worker)', T0 + 3 * DAY + 60_000, booking, true, 'expire'],
    ['an extended booking is not yet due', T0 + 3 * DAY, { ...booking, deadline: T0 + 5 * DAY }, true, 'not_yet'],
    ['a deal that left «Бронь» is not touched', T0 + 3 * DAY, booking, false, 'stale'],
    ['the timer of an earlier booking of the deal is stale', T0 + 3 * DAY, { ...booking, since: '2026-12-01T09:00:00.000Z' }, true, 'stale'],
    ['a booking that is over is stale', T0 + 3 * DAY, null, true, 'stale'],
  ] as const)('%s', (_name, now, record, inBooking, verdict) => {
    expect(judgeExpiry(now, record, { since: booking.since }, inBooking)).toBe(verdict);
  });
});

describe('card values', () => {
  test.each([
    ['Y', true], ['1', true], [true, true], ['да', true], ['Платная', true], [['Платная'], true],
    ['N', false], ['', false], [null, false], [0, false], ['нет', false],
  ] as const)('paid %p → %p', (value, expected) => {
    expect(isYes(value)).toBe(expected);
  });
  test.each([
    ['2026-12-10T18:00:00+03:00', Date.parse('2026-12-10T18:00:00+03:00')],
    ['2026-12-10', Date.parse('2026-12-10T23:59:00+03:00')],
    ['10.12.2026', Date.parse('2026-12-10T23:59:00+03:00')],
    ['10.12.2026 18:00', Date.parse('2026-12-10T18:00:00+03:00')],
    [1796904000, 1796904000 * 1000],
    ['1796904000', 1796904000 * 1000],
    ['', null],
    ['завтра', null],
  ] as const)('«Бронь до» %p', (value, expected) => {
    expect(parseCardDate(value)).toBe(expected);
  });
});

describe('what the inventory must say for a deal', () => {
  const sync = { onContract: 'in_execution', onRegistration: 'sold' } as const;
  test.each([
    ['booking', { kind: 'hold', status: 'booked' }],
    ['contract', { kind: 'hold', status: 'in_execution' }],
    ['registration', { kind: 'hold', status: 'sold' }],
    ['won', { kind: 'hold', status: 'sold' }],
    ['booking_expired', { kind: 'free', reason: 'expired' }],
    ['lost', { kind: 'free', reason: 'lost' }],
    ['existing_buyer', { kind: 'free', reason: 'lost' }],
    ['meeting_held', { kind: 'free', reason: 'manual' }],
    [null, { kind: 'leave' }],
  ] as const)('%s → %o', (role, target) => {
    expect(targetFor(role, sync)).toEqual(target);
  });
  test('the contract makes the flat sold when configured so', () => {
    expect(targetFor('contract', { onContract: 'sold', onRegistration: 'sold' })).toEqual({ kind: 'hold', status: 'sold' });
  });
});

describe('the writes that bring the inventory there', () => {
  const held = (status: UnitHold['status'], unitText = 'кв. 3'): UnitHold => ({ unitId: '10301003', unitText, status, since: 'S' });
  test.each([
    ['«Бронь» books the flat', { kind: 'hold', status: 'booked' }, 'кв. 3', null, [{ do: 'book', unitText: 'кв. 3' }]],
    ['booked again by the same deal: nothing', { kind: 'hold', status: 'booked' }, 'кв. 3', held('booked'), []],
    ['«кв. 3» and «3» are the same flat', { kind: 'hold', status: 'booked' }, '3', held('booked'), []],
    ['no flat in the field: nothing to book', { kind: 'hold', status: 'booked' }, '', null, []],
    ['a new flat in the field: the old one is freed, the new booked', { kind: 'hold', status: 'booked' }, 'кв. 5', held('booked'), [{ do: 'release', unitId: '10301003', reason: 'unit_changed', since: 'S' }, { do: 'book', unitText: 'кв. 5' }]],
    ['the field emptied while booked: the flat is freed', { kind: 'hold', status: 'booked' }, '', held('booked'), [{ do: 'release', unitId: '10301003', reason: 'unit_changed', since: 'S' }]],
    ['the contract makes it in execution', { kind: 'hold', status: 'in_execution' }, 'кв. 3', held('booked'), [{ do: 'mark', unitText: 'кв. 3', status: 'in_execution' }]],
    ['a contract without a booking still marks the flat', { kind: 'hold', status: 'sold' }, 'кв. 3', null, [{ do: 'mark', unitText: 'кв. 3', status: 'sold' }]],
    ['a status never goes backwards', { kind: 'hold', status: 'booked' }, 'кв. 3', held('in_execution'), []],
    ['sold stays sold when won', { kind: 'hold', status: 'sold' }, 'кв. 3', held('sold'), []],
    ['a lost deal frees its own flat', { kind: 'free', reason: 'lost' }, 'кв. 3', held('booked'), [{ do: 'release', unitId: '10301003', reason: 'lost', since: 'S' }]],
    ['a lost deal that holds nothing frees nothing', { kind: 'free', reason: 'lost' }, 'кв. 3', null, []],
    ['a sold flat is never freed by the sync', { kind: 'free', reason: 'lost' }, 'кв. 3', held('sold'), []],
    ['an ungoverned stage changes nothing', { kind: 'leave' }, 'кв. 3', held('booked'), []],
  ] as const)('%s', (_name, target, unitText, hold, steps) => {
    expect(planUnitSync(target, unitText, hold)).toEqual(steps);
  });
});

describe('inbound changes', () => {
  const change = (to: string, dealId: string | null) => ({ unitId: 'u1', from: 'booked' as const, to: to as 'sold', dealId, at: '', key: 'k' });
  test.each([
    ['sold for another deal', change('sold', 'amo:2'), 'booked', true],
    ['booked for another deal', change('booked', 'amo:2'), 'booked', true],
    ['sold by hand, no deal', change('sold', null), 'booked', true],
    ['sold by hand in Profitbase, our deal still attached', change('sold', 'amo:1'), 'booked', true],
    ['taken off sale while booked', change('unavailable', 'amo:1'), 'booked', true],
    ['our own booking echoed by the feed', change('booked', 'amo:1'), 'booked', false],
    ['our own sale', change('sold', 'amo:1'), 'sold', false],
    ['freed', change('available', null), 'booked', false],
  ] as const)('%s → alert: %p', (_name, c, held, alert) => {
    expect(takesUnitFrom(c, 'amo:1', held)).toBe(alert);
  });
});

test.each([
  ['кв. 5-101', '5-101'], ['Квартира 12', '12'], ['№ 154', '154'], ['  3 ', '3'], ['10301003', '10301003'],
])('unit number %p → %p', (text, number) => {
  expect(normalizeUnitNumber(text)).toBe(number);
});
