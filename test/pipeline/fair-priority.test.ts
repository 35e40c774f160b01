import { drainedLevel, InstallationBacklogs, PRIORITY_LIMIT, scheduleEvent, type Backlog } from '../../src/pipeline/fair-priority';
import { runsInFastLane } from '../../src/pipeline/fast-lane';

const DRAIN = 2; // events per second

describe('the priority of an installation\'s next event is its place in its own estimated backlog', () => {
  const cases: Array<[string, Backlog | undefined, number, { priority: number; level: number; at: number }]> = [
    ['the first event of an installation is next in the round', undefined, 10_000, { priority: 1, level: 1, at: 10_000 }],
    ['a quiet portal (one event a second) stays first in the round', { level: 1, at: 9_000 }, 10_000, { priority: 1, level: 1, at: 10_000 }],
    ['an event right behind another of the same installation comes a round later', { level: 1, at: 10_000 }, 10_000, { priority: 2, level: 2, at: 10_000 }],
    ['the thousandth event of a burst waits a thousand rounds', { level: 999, at: 10_000 }, 10_000, { priority: 1000, level: 1000, at: 10_000 }],
    ['a backlog drains at the fair share while time passes', { level: 1000, at: 10_000 }, 20_000, { priority: 981, level: 981, at: 20_000 }],
    ['a fraction of a round is still a round', { level: 1.5, at: 10_000 }, 10_000, { priority: 3, level: 2.5, at: 10_000 }],
    ['a long-drained backlog counts as empty', { level: 50, at: 0 }, 3_600_000, { priority: 1, level: 1, at: 3_600_000 }],
    ['a clock stepping back refills nothing', { level: 10, at: 10_000 }, 5_000, { priority: 11, level: 11, at: 10_000 }],
    ['BullMQ\'s largest priority is never exceeded', { level: PRIORITY_LIMIT, at: 10_000 }, 10_000, { priority: PRIORITY_LIMIT, level: PRIORITY_LIMIT, at: 10_000 }],
  ];

  it.each(cases)('%s', (_name, previous, now, expected) => {
    const { priority, backlog } = scheduleEvent(previous, now, DRAIN);
    expect({ priority, level: backlog.level, at: backlog.at }).toEqual(expected);
  });

  it.each([
    [undefined, 0],
    [{ level: 10, at: 0 }, 10],
    [{ level: 10, at: -2_500 }, 5],
    [{ level: 10, at: -60_000 }, 0],
  ] as Array<[Backlog | undefined, number]>)('drainedLevel(%j) at 0 is %d', (backlog, expected) => {
    expect(drainedLevel(backlog, 0, DRAIN)).toBe(expected);
  });
});

describe('backlogs of one producer process', () => {
  it('interleaves a quiet installation\'s event with a noisy installation\'s burst', () => {
    const backlogs = new InstallationBacklogs(DRAIN, () => 0);
    const noisy = Array.from({ length: 5 }, () => backlogs.priorityOf('b24:noisy'));
    expect(noisy).toEqual([1, 2, 3, 4, 5]);
    expect(backlogs.priorityOf('b24:quiet')).toBe(1);
    expect(backlogs.priorityOf('b24:noisy')).toBe(6);
  });

  it('forgets installations whose backlog has drained, so memory follows the active ones', () => {
    let now = 0;
    const backlogs = new InstallationBacklogs(DRAIN, () => now);
    for (let i = 0; i < 1023; i++) backlogs.priorityOf(`amo:${i}`);
    now = 60_000; // all of them drained
    backlogs.priorityOf('amo:busy');
    expect(backlogs.size).toBe(1);
  });

  it('with a fair share of 0 (fairness off) every event has the same priority: arrival order', () => {
    const backlogs = new InstallationBacklogs(0, () => 0);
    expect([1, 2, 3].map(() => backlogs.priorityOf('b24:noisy'))).toEqual([1, 1, 1]);
  });

  it('refuses a negative fair share', () => {
    expect(() => new InstallationBacklogs(-1)).toThrow(/positive/);
  });
});

describe('the fast lane runs only an installation\'s first queued events', () => {
  it.each([
    [1, true, 'the first event of a portal without a backlog'],
    [2, true, 'its second, queued right behind'],
    [4, true, 'a few events at once (a deal, its contact, the echo of a write)'],
    [5, false, 'a portal with a backlog'],
    [10_000, false, 'the back of an import'],
    [0, true, 'a job without priority (back from a killed worker)'],
    [undefined, true, 'a job added without options'],
  ] as Array<[number | undefined, boolean, string]>)('priority %p → %p (%s)', (priority, expected) => {
    expect(runsInFastLane(priority)).toBe(expected);
  });
});
