import type { CrmUser } from '../../src/crm/crm-port';
import { robots } from '../../src/robots';
import { changeSetting } from '../../src/settings/installation-settings';
import { humanDuration } from '../../src/robots/takeover/messages';
import { parseSchedule, type Schedule } from '../../src/settings/schedule';
import { availabilityOf, buildRoster, rosterSettingsSchema, type RosterOptions } from '../../src/team/roster';

const schedule = (text: string): Schedule => {
  const parsed = parseSchedule(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
};
const DEFAULT = schedule('09:00-21:00 Europe/Moscow, every day');

const users: CrmUser[] = [
  { id: '1', name: 'Админ', isAdmin: true, teamIds: ['1'] },
  { id: '2', name: 'Анна', isAdmin: false, teamIds: ['7'] },
  { id: '3', name: 'Борис', isAdmin: false, teamIds: ['7'] },
  { id: '4', name: 'РОП', isAdmin: false, teamIds: ['7'] },
  { id: '5', name: 'Бухгалтер', isAdmin: false, teamIds: ['9'] },
  { id: '6', name: 'Уволен', isAdmin: false, isActive: false, teamIds: ['7'] },
];
const options = (roster: object = {}, over: Partial<RosterOptions> = {}): RosterOptions => ({
  crm: 'bitrix24',
  roster: rosterSettingsSchema.parse(roster),
  managers: {},
  defaultSchedule: DEFAULT,
  notManagers: ['4'],
  ...over,
});

describe('the roster: who receives new leads', () => {
  it.each([
    ['active users who are not administrators nor heads of sales', {}, ['2', '3', '5']],
    ['one department', { departments: ['7'] }, ['2', '3']],
    ['explicit ids win over departments', { departments: ['7'], userIds: ['5'] }, ['5']],
    ['excluded users never', { excludeUserIds: ['3'] }, ['2', '5']],
  ])('%s', (_name, roster, ids) => {
    expect(buildRoster(users, options(roster)).map((m) => m.id)).toEqual(ids);
  });

  it('amoCRM narrows by group', () => {
    expect(buildRoster(users, options({ groups: ['9'] }, { crm: 'amocrm' })).map((m) => m.id)).toEqual(['5']);
  });

  it('a manager\'s own hours and weight override the defaults', () => {
    const [anna] = buildRoster(users, options({ userIds: ['2'] }, { managers: { '2': { weight: 2, schedule: schedule('24/7') } } }));
    expect(anna).toMatchObject({ baseWeight: 2, schedule: { kind: 'always' } });
  });
});

describe('availability at an instant', () => {
  const [anna] = buildRoster(users, options({ userIds: ['2'] }));
  it.each([
    ['in working hours', '2026-11-30T08:00:00Z', [], [], { unavailable: null }],
    ['at night: off shift until 09:00 Moscow', '2026-11-30T19:00:00Z', [], [], { unavailable: 'off_hours', nextShiftAt: Date.parse('2026-12-01T06:00:00Z') }],
    ['on an app-level vacation day', '2026-11-30T08:00:00Z', [{ userId: '2', from: '2026-11-30', to: '2026-11-30' }], [], { unavailable: 'absent' }],
    ['at night before a vacation day', '2026-11-29T19:00:00Z', [{ userId: '2', from: '2026-11-30', to: '2026-12-01' }], [], { unavailable: 'absent' }],
    ['the day after the vacation', '2026-12-01T08:00:00Z', [{ userId: '2', from: '2026-11-30', to: '2026-11-30' }], [], { unavailable: null }],
    ['during a CRM absence', '2026-11-30T08:00:00Z', [], [{ userId: '2', from: '2026-11-30T00:00:00Z', to: '2026-12-01T00:00:00Z' }], { unavailable: 'absent' }],
  ])('%s', (_name, at, vacations, absences, expected) => {
    expect(availabilityOf(anna!, new Date(at), vacations, absences)).toEqual(expected);
  });
});

describe('durations as managers read them', () => {
  it.each([
    [900_000, 'ru', '15 минут'],
    [60_000, 'ru', '1 минуту'],
    [2_000, 'ru', '2 секунды'],
    [5_400_000, 'ru', '1 час 30 минут'],
    [21 * 60_000, 'ru', '21 минуту'],
    [900_000, 'en', '15 minutes'],
  ] as const)('%d ms → %s: %s', (ms, locale, text) => expect(humanDuration(ms, locale)).toBe(text));
});

describe('takeover settings through the one settings path', () => {
  it.each([
    ['takeoverTimer.timeout', '20m', true],
    ['takeoverTimer.timeout', 'fifteen', false],
    ['takeoverTimer.timeout', '0s', false],
    ['takeoverTimer.vacations', [{ userId: '7', from: '2026-12-01', to: '2026-12-14' }], true],
    ['takeoverTimer.vacations', [{ userId: '7', from: '2026-12-14', to: '2026-12-01' }], false],
    ['takeoverTimer.vacations', [{ userId: '../x', from: '2026-12-01', to: '2026-12-14' }], false],
    ['takeoverTimer.managers.7.schedule', '10:00-19:00 Europe/Moscow, Mon-Fri', true],
    ['takeoverTimer.managers.7.weight', -1, false],
    ['takeoverTimer.rating.worst.factor', 0.5, true],
    ['takeoverTimer.rating.overrides', { '5': 1 }, true],
    ['takeoverTimer.rating.overrides.5', 0.25, true],
    ['takeoverTimer.managers.7.weight', 2, true],
    ['takeoverTimer.takenBy', ['call', 'stage'], true],
    ['takeoverTimer.takenBy', ['telepathy'], false],
    ['takeoverTimer.roster.departments', ['7'], true],
    ['takeoverTimer.maxHop', 3, false],
  ])('%s = %j → accepted: %s', (path, value, ok) => {
    expect(changeSetting({}, path, value, robots).ok).toBe(ok);
  });
});
