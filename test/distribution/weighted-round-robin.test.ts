import { monthlyFactors, factorOf } from '../../src/distribution/monthly-weights';
import { emptyRoundRobin, explainDecision, pickManager, type ManagerSlot, type RoundRobinState } from '../../src/distribution/weighted-round-robin';
import { computeRating } from '../../src/rating/monthly-rating';

const slot = (id: string, weight = 1, extra: Partial<ManagerSlot> = {}): ManagerSlot => ({ id, name: `M${id}`, weight, unavailable: null, assignedToday: 0, ...extra });

/** Distributes `n` leads and counts who got them. */
function distribute(managers: ManagerSlot[], n: number, state: RoundRobinState = emptyRoundRobin()) {
  const counts: Record<string, number> = {};
  const order: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = pickManager(managers, state);
    state = d.state;
    if (d.chosen) {
      counts[d.chosen.id] = (counts[d.chosen.id] ?? 0) + 1;
      order.push(d.chosen.id);
    }
  }
  return { counts, order, state };
}

describe('lead distribution: smooth weighted round-robin', () => {
  it.each([
    ['equal weights take turns', [slot('1'), slot('2'), slot('3')], 6, ['1', '2', '3', '1', '2', '3']],
    ['weights 2:1:1 interleave (A B C A, not A A B C)', [slot('A', 2), slot('B'), slot('C')], 4, ['A', 'B', 'C', 'A']],
    ['weights 5:1:1 as nginx does', [slot('a', 5), slot('b'), slot('c')], 7, ['a', 'a', 'b', 'a', 'c', 'a', 'a']],
  ])('%s', (_name, managers, n, expected) => {
    expect(distribute(managers, n).order).toEqual(expected);
  });

  it('the 3 worst managers get half as many leads', () => {
    const facts = {
      leads: ['1', '2', '3', '4', '5', '6'].flatMap((m) => Array.from({ length: 10 }, (_, i) => ({ managerId: m, entity: 'deal', dealId: `${m}-${i}`, at: '2026-11-05' }))),
      meetings: [
        ...Array.from({ length: 6 }, (_, i) => ({ managerId: '1', dealId: `1-${i}`, at: '' })),
        ...Array.from({ length: 5 }, (_, i) => ({ managerId: '2', dealId: `2-${i}`, at: '' })),
        ...Array.from({ length: 4 }, (_, i) => ({ managerId: '3', dealId: `3-${i}`, at: '' })),
        ...Array.from({ length: 2 }, (_, i) => ({ managerId: '4', dealId: `4-${i}`, at: '' })),
        { managerId: '5', dealId: '5-0', at: '' },
      ],
      misses: [],
      violations: [],
    };
    const rating = computeRating('2026-11', facts, new Map());
    const factors = monthlyFactors(rating, { worst: { count: 3, factor: 0.5 }, best: { count: 0, factor: 1 }, minLeads: 5, overrides: {} });
    const team = ['1', '2', '3', '4', '5', '6', '7'].map((id) => slot(id, factorOf(factors, id).factor));
    const { counts } = distribute(team, 110);
    // 4, 5 and 6 converted worst; 7 is a new hire with no history and keeps the full weight.
    expect(counts).toEqual({ '1': 20, '2': 20, '3': 20, '4': 10, '5': 10, '6': 10, '7': 20 });
    expect(factorOf(factors, '7')).toEqual({ factor: 1, reason: 'new' });
  });

  it('a manager on vacation gets none, and is not owed leads when back', () => {
    const team = [slot('1'), slot('2'), slot('3')];
    let { state } = distribute(team, 3);
    const away = [slot('1'), slot('2', 1, { unavailable: 'absent' }), slot('3')];
    const during = distribute(away, 10, state);
    expect(during.counts['2']).toBeUndefined();
    expect(during.counts).toEqual({ '1': 5, '3': 5 });
    state = during.state;
    // Back from vacation: the rotation goes on evenly, no catch-up burst for manager 2.
    const after = distribute(team, 6, state);
    expect(after.counts).toEqual({ '1': 2, '2': 2, '3': 2 });
  });

  it.each([
    ['the daily cap is reached', { unavailable: 'daily_cap' as const }, 'daily_cap'],
    ['off shift while others work', { unavailable: 'off_hours' as const, nextShiftAt: 1 }, 'off_hours'],
    ['weight 0 (head of sales override)', { weight: 0 }, 'zero_weight'],
  ])('a manager is skipped when %s', (_name, extra, reason) => {
    const d = pickManager([slot('1'), { ...slot('2'), ...extra }], emptyRoundRobin());
    expect(d.chosen?.id).toBe('1');
    expect(d.skipped).toEqual([{ id: '2', name: 'M2', reason }]);
  });

  it('the night\'s leads go to the managers of the next shift', () => {
    const nine = Date.parse('2026-11-30T06:00:00Z');
    const d = pickManager([slot('1', 1, { unavailable: 'off_hours', nextShiftAt: nine + 3600_000 }), slot('2', 1, { unavailable: 'off_hours', nextShiftAt: nine })], emptyRoundRobin());
    expect(d.chosen?.id).toBe('2');
    expect(d.nextShift).toBe(true);
  });

  it('a manager who missed the lead does not get it back, and the miss costs the turn', () => {
    let state = emptyRoundRobin();
    const team = [slot('A'), slot('B'), slot('C')];
    const first = pickManager(team, state);
    expect(first.chosen?.id).toBe('A');
    // A missed it: the lead goes on to B; A stays charged for the lead it held.
    const hop = pickManager(team, first.state, ['A']);
    expect(hop.chosen?.id).toBe('B');
    state = hop.state;
    expect(pickManager(team, state).chosen?.id).toBe('C');
  });

  it('nobody available: no choice, and the reasons are given', () => {
    const d = pickManager([slot('1', 1, { unavailable: 'absent' })], emptyRoundRobin());
    expect(d.chosen).toBeNull();
    expect(explainDecision(d)).toContain('nobody can take the lead');
  });

  it('every decision is explainable: candidates, weights, current counts', () => {
    const d = pickManager([slot('1', 1, { assignedToday: 4 }), slot('2', 0.5, { assignedToday: 1 }), slot('3', 1, { unavailable: 'absent' })], emptyRoundRobin());
    expect(explainDecision(d)).toBe(
      ['chosen M1 (#1)', '  candidate M1 (#1): weight 1, score 1, leads today 4', '  candidate M2 (#2): weight 0.5, score 0.5, leads today 1', '  skipped M3 (#3): absent'].join('\n'),
    );
  });
});

describe('monthly factors', () => {
  const rating = (rows: Array<[string, number, number]>) =>
    computeRating('2026-11', {
      leads: rows.flatMap(([id, leads]) => Array.from({ length: leads }, (_, i) => ({ managerId: id, entity: 'deal', dealId: `${id}-${i}`, at: '' }))),
      meetings: rows.flatMap(([id, , meetings]) => Array.from({ length: meetings }, (_, i) => ({ managerId: id, dealId: `${id}-${i}`, at: '' }))),
      misses: [],
      violations: [],
    }, new Map());
  const rules = { worst: { count: 3, factor: 0.5 }, best: { count: 0, factor: 1.5 }, minLeads: 5, overrides: {} };

  it.each([
    ['no rating yet: everyone 1', null, {}, {}],
    ['a manager below minLeads is not ranked', rating([['1', 10, 5], ['2', 10, 1], ['3', 2, 0]]), {}, { '1': 1, '2': 0.5, '3': 1 }],
    ['never more than half the ranked team is "worst"', rating([['1', 10, 5], ['2', 10, 4], ['3', 10, 3], ['4', 10, 2]]), {}, { '1': 1, '2': 1, '3': 0.5, '4': 0.5 }],
    ['the head of sales overrides', rating([['1', 10, 5], ['2', 10, 1]]), { overrides: { '2': 1, '9': 2 } }, { '1': 1, '2': 1, '9': 2 }],
    ['the best get more when asked to', rating([['1', 10, 5], ['2', 10, 3], ['3', 10, 1]]), { worst: { count: 1, factor: 0.5 }, best: { count: 1, factor: 1.5 } }, { '1': 1.5, '2': 1, '3': 0.5 }],
  ])('%s', (_name, r, over, expected) => {
    const factors = monthlyFactors(r, { ...rules, ...over });
    expect(Object.fromEntries([...factors].map(([id, f]) => [id, f.factor]))).toEqual(expected);
  });
});
