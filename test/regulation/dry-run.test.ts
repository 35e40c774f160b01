/**
 * The dry run replays a funnel's stage history under a regulation before it is switched on:
 * what would have been put back, by which rule, whose moves — and it says what it cannot know.
 */
import { bindRegulation, loadPreset, type BoundRegulation } from '../../src/regulation';
import { replayRegulation, type DryRunDeal, type DryRunInput, type StageTransition } from '../../src/regulation/dry-run';
import { B24_DEAL as S, bitrixDealCategory, bitrixDealFields, bitrixDefaultCategory } from './crm-fixtures';

const F = { meetingAt: 'ufCrm_1712345601', unit: 'ufCrm_1712345603', passport: 'ufCrm_1712345604', contractNo: 'ufCrm_1712345605', contractDate: 'ufCrm_1712345606', lossReason: 'ufCrm_1712345607' };
const CONTRACT = { [F.unit]: 'кв. 56', [F.passport]: '4510 123456', [F.contractNo]: 'ДДУ-56', [F.contractDate]: '2026-11-01' };
const USERS = [
  { id: '17', name: 'Ирина Петрова', isAdmin: false },
  { id: '18', name: 'Олег Смирнов', isAdmin: false },
  { id: '1', name: 'Админ', isAdmin: true },
];

let regulation: BoundRegulation;
beforeAll(() => {
  const bound = bindRegulation(loadPreset('bitrix24-deals-004'), [bitrixDefaultCategory(), bitrixDealCategory()], bitrixDealFields());
  if (!bound.ok) throw new Error(JSON.stringify(bound.errors));
  regulation = bound.regulation;
});

let clock = Date.parse('2026-11-01T09:00:00Z');
const move = (dealId: string, fromStageId: string, toStageId: string, movedBy: string | null = '17'): StageTransition => ({ dealId, fromStageId, toStageId, movedBy, at: new Date((clock += 60_000)).toISOString() });
const deal = (title: string, fields: Record<string, unknown> | null = {}, responsibleId = '17'): DryRunDeal => ({ title, responsibleId, fields, url: `https://portal.example/crm/deal/details/${title}/` });

function replay(transitions: StageTransition[], extra: Partial<DryRunInput> = {}) {
  const deals: Record<string, DryRunDeal> = {};
  for (const t of transitions) deals[t.dealId] ??= deal(t.dealId);
  const { deals: given, ...rest } = extra;
  return replayRegulation({ regulation, transitions, priorStages: {}, users: USERS, fieldValues: 'current', attribution: 'mover', ...rest, deals: { ...deals, ...given } });
}

describe('replaying history under the seed 004 deal regulation', () => {
  test.each([
    ['first call straight to the contract is put back (a deny rule, booking skipped)', [move('1', S.needs, S.contract)], { 1: deal('1', CONTRACT) }, ['skipped_stage:booking', 'transition_denied:0'], 'history'],
    ['first call to booking with the unit filled stands', [move('2', S.needs, S.booking)], { 2: deal('2', { [F.unit]: 'кв. 5' }) }, [], null],
    ['booking without the unit (as the deal is today) is put back, on current values only', [move('3', S.needs, S.booking)], { 3: deal('3', {}) }, ['required_field_empty:booking:unit'], 'current_values'],
    ['a loss without a reason is put back', [move('4', S.meetingSet, S.lost)], { 4: deal('4', {}) }, ['reason_empty:lost:loss_reason'], 'current_values'],
    ['a move into a stage the regulation does not govern passes', [move('5', S.needs, S.priceRefused)], {}, [], null],
    ['booking → contract after a real booking stands', [move('6', S.needs, S.booking), move('6', S.booking, S.contract)], { 6: deal('6', CONTRACT) }, [], null],
  ])('%s', (_name, transitions, deals, ruleIds, basis) => {
    const result = replay(transitions as StageTransition[], { deals: deals as Record<string, DryRunDeal> });
    expect(result.reverts.flatMap((r) => r.rules).sort()).toEqual([...ruleIds].sort());
    expect(result.wouldRevert).toBe(ruleIds.length ? 1 : 0);
    if (basis) expect(result.reverts[0]!.basis).toBe(basis);
  });

  test('a stage passed before the window counts: booking 40 days ago, contract now stands', () => {
    const result = replay([move('7', S.booking, S.contract)], { deals: { 7: deal('7', CONTRACT) }, priorStages: { 7: [S.needs, S.booking] } });
    expect(result.wouldRevert).toBe(0);
    expect(result.governedMoves).toBe(1);
  });

  test('a stage the guard would have refused does not count as passed later on', () => {
    // Booking without the unit is refused; the deal then leaves through a stage the regulation does
    // not govern and enters the contract: the refused booking does not count. With the unit, it does.
    const path = (id: string) => [move(id, S.needs, S.booking), move(id, S.booking, S.priceRefused), move(id, S.priceRefused, S.contract)];
    const result = replay([...path('8'), ...path('9')], { deals: { 8: deal('8', { [F.passport]: 'x', [F.contractNo]: 'y', [F.contractDate]: 'z' }), 9: deal('9', CONTRACT) } });
    expect(result.reverts.map((r) => [r.dealId, r.rules.sort()])).toEqual([
      ['8', ['required_field_empty:contract:unit', 'skipped_stage:booking']],
      ['8', ['required_field_empty:booking:unit']],
    ]);
  });

  test('without field values, only what the history proves is counted, and the result says so', () => {
    const result = replay([move('3', S.needs, S.booking), move('1', S.needs, S.contract)], { fieldValues: 'not_replayed', deals: { 3: deal('3', {}), 1: deal('1', {}) } });
    expect(result.fieldValues).toBe('not_replayed');
    expect(result.byRule.map((r) => r.id).sort()).toEqual(['skipped_stage:booking', 'transition_denied:0']);
    expect(result.wouldRevert).toBe(1);
    expect(result.wouldRevertFromHistory).toBe(1);
  });

  test('counts by rule and by manager, names resolved, a few examples per rule with titles and links', () => {
    const transitions = [
      move('10', S.needs, S.contract, '17'),
      move('11', S.needs, S.contract, '17'),
      move('12', S.needs, S.contract, '18'),
      move('13', S.needs, S.contract, '17'),
      move('14', S.needs, S.contract, '1'), // an administrator: exempt, waived, not counted
    ];
    const deals = Object.fromEntries(['10', '11', '12', '13', '14'].map((id) => [id, deal(`Сделка ${id}`, CONTRACT)]));
    const result = replay(transitions, { deals, examplesPerRule: 2 });
    expect(result.wouldRevert).toBe(4);
    expect(result.waived).toBe(1);
    expect(result.byManager).toEqual([
      { userId: '17', name: 'Ирина Петрова', count: 3 },
      { userId: '18', name: 'Олег Смирнов', count: 1 },
    ]);
    const notAllowed = result.byRule.find((r) => r.id === 'transition_denied:0')!;
    expect(notAllowed.count).toBe(4);
    expect(notAllowed.examples).toEqual([
      expect.objectContaining({ dealId: '10', title: 'Сделка 10', url: expect.stringContaining('/Сделка 10/'), from: 'Выявление потребностей', to: 'Договор' }),
      expect.objectContaining({ dealId: '11' }),
    ]);
    expect(result.byRule.find((r) => r.id === 'skipped_stage:booking')).toMatchObject({ stage: 'Бронь', count: 4, basis: 'history' });
  });

  test('where the CRM does not say who moved, the responsible manager is counted and no exemption applies', () => {
    const result = replay([move('20', S.needs, S.contract, null), move('21', S.needs, S.contract, null)], {
      attribution: 'responsible',
      deals: { 20: deal('20', CONTRACT, '18'), 21: deal('21', CONTRACT, '1') },
    });
    expect(result.wouldRevert).toBe(2);
    expect(result.byManager).toEqual([
      { userId: '1', name: 'Админ', count: 1 },
      { userId: '18', name: 'Олег Смирнов', count: 1 },
    ]);
  });

  test('the live guard’s own reverts are not judged as a manager’s moves, and its refused entries do not count as passed', () => {
    // The guard (already on) refused the contract and put the deal back; the manager then booked properly.
    const transitions = [move('30', S.needs, S.contract), move('30', S.contract, S.needs, null), move('30', S.needs, S.booking), move('30', S.booking, S.contract)];
    const known = replay(transitions, { deals: { 30: deal('30', CONTRACT) }, priorStages: { 30: [S.needs] }, appReverted: { 30: [`${S.contract}#1`] } });
    expect(known.appMoves).toBe(1);
    expect(known.reverts.map((r) => [r.from, r.to])).toEqual([['Выявление потребностей', 'Договор']]);
    // Without the guard's record, its revert looks like a manager moving a contract back: counted.
    const unknown = replay(transitions, { deals: { 30: deal('30', CONTRACT) }, priorStages: { 30: [S.needs] } });
    expect(unknown.appMoves).toBe(0);
    expect(unknown.wouldRevert).toBe(2);
  });
});
