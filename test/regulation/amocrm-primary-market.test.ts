/**
 * The amoCRM «Первичный рынок» regulation (seed 002), rule by rule.
 */
import { entersMeetingHeld, evaluateMove, stageByRole, type BoundRegulation, type Move } from '../../src/regulation';
import { AMO, amoFields, amoPrimaryMarket, amoSecondaryMarket, bindOrFail } from './crm-fixtures';

const MANAGER = { userId: '1001', isAdmin: false };
const HEAD_OF_SALES = '2001';
const MEETING = { '584201': '2025-03-14', '584202': '15:00', '584203': 'Офис продаж, ул. Ленина, 1' };

let regulation: BoundRegulation;

beforeAll(() => {
  regulation = bindOrFail('amocrm-primary-market', [amoSecondaryMarket(), amoPrimaryMarket()], amoFields(), {
    settings: { headOfSalesUserIds: [HEAD_OF_SALES] },
  });
});

function move(fromStageId: string, toStageId: string, extra: Partial<Move> = {}): Move {
  return { fromStageId, toStageId, fields: {}, history: [fromStageId], movedBy: MANAGER, ...extra };
}

/** Walks a path stage by stage, each move judged with the history so far. */
function walk(path: readonly string[], fields: Record<string, unknown> = {}): Array<{ to: string; why: string; message: string }> {
  const refused: Array<{ to: string; why: string; message: string }> = [];
  for (let i = 1; i < path.length; i++) {
    const from = path[i - 1] ?? '';
    const to = path[i] ?? '';
    const decision = evaluateMove(regulation, move(from, to, { history: path.slice(0, i), fields }));
    if (decision.verdict !== 'allow') refused.push({ to, why: decision.why, message: decision.message });
  }
  return refused;
}

describe('amoCRM «Первичный рынок» (seed 002)', () => {
  test('binds to the pipeline named «Первичный рынок» among the account’s pipelines, with 142/143', () => {
    expect(regulation.funnel).toEqual({ id: '7281234', name: 'Первичный рынок' });
    expect(stageByRole(regulation, 'won')?.stageId).toBe('142');
    expect(stageByRole(regulation, 'lost')?.stageId).toBe('143');
    expect(stageByRole(regulation, 'meeting_held')?.stageId).toBe(AMO.meetingHeld);
    expect(regulation.ungovernedStages).toEqual([{ id: AMO.archive, name: 'Архив' }]);
  });

  test.each([
    ['1: Передан в работу → Встреча назначена → Встреча состоялась → Отправлено КП → ОС получена', [AMO.handedOver, AMO.meetingSet, AMO.meetingHeld, AMO.proposal, AMO.feedback]],
    ['2: Передан в работу → Не дозвонились → На закрытие', [AMO.handedOver, AMO.noAnswer, AMO.toClose]],
    ['2: Для передачи → Не дозвонились → На закрытие', [AMO.toHandOver, AMO.noAnswer, AMO.toClose]],
    ['3: Передан в работу → Потребности выявлены → Отложенный спрос', [AMO.handedOver, AMO.needs, AMO.deferred]],
    ['4: Для передачи → Потребности выявлены → Отправлено КП → ОС получена', [AMO.toHandOver, AMO.needs, AMO.proposal, AMO.feedback]],
  ])('the source’s scenario %s is allowed', (_name, path) => {
    expect(walk(path, { ...MEETING, '584204': 'Не выходит на связь' })).toEqual([]);
  });

  test('a deal cannot skip «Встреча состоялась»: from «Встреча назначена» straight to «Отправлено КП» is refused', () => {
    const decision = evaluateMove(regulation, move(AMO.meetingSet, AMO.proposal, { history: [AMO.handedOver, AMO.meetingSet] }));
    expect(decision.verdict).toBe('revert');
    expect(decision.revertTo).toBe(AMO.meetingSet);
    expect(decision.reasons.map((r) => r.rule)).toEqual(['transition_not_allowed', 'skipped_stage']);
    expect(decision.message).toBe(
      'Нельзя перейти из «Встреча назначена» в «Отправлено КП»: сначала этап «Встреча состоялась». ' +
        'Этап «Встреча состоялась» нельзя пропускать: при переходе фиксируются дата встречи и менеджер, по ним распределяются лиды на следующий месяц.',
    );
  });

  test('a deal cannot skip «Встреча состоялась»: no sale without a held meeting', () => {
    const decision = evaluateMove(regulation, move(AMO.handedOver, AMO.won));
    expect(decision.verdict).toBe('revert');
    expect(decision.message).toMatch(/^Нельзя перейти из «Передан в работу» в «Успешно реализовано»: сначала этап «Встреча состоялась»\./);
    const withMeeting = evaluateMove(
      regulation,
      move(AMO.feedback, AMO.won, { history: [AMO.handedOver, AMO.meetingSet, AMO.meetingHeld, AMO.proposal, AMO.feedback] }),
    );
    expect(withMeeting.verdict).toBe('allow');
  });

  test('once a meeting is set, the proposal needs «Встреча состоялась» even after a detour', () => {
    const history = [AMO.handedOver, AMO.meetingSet, AMO.deferred, AMO.needs];
    const decision = evaluateMove(regulation, move(AMO.needs, AMO.proposal, { history }));
    expect(decision.reasons).toEqual([expect.objectContaining({ rule: 'skipped_stage', mustNotSkipRule: 1 })]);
    // Scenario 4 without a meeting ever set stays allowed.
    expect(evaluateMove(regulation, move(AMO.needs, AMO.proposal, { history: [AMO.handedOver, AMO.needs] })).verdict).toBe('allow');
  });

  test('a meeting the app reverted does not count as held', () => {
    const history = [
      AMO.handedOver,
      AMO.meetingSet,
      { stageId: AMO.meetingHeld, at: '2025-03-01T10:00:00Z', revertedByApp: true },
      { stageId: AMO.meetingSet, at: '2025-03-01T10:00:05Z' },
      AMO.feedback,
    ];
    const decision = evaluateMove(regulation, move(AMO.feedback, AMO.won, { history }));
    expect(decision.reasons.map((r) => r.rule)).toEqual(['skipped_stage']);
  });

  test('«Встреча назначена» needs date, time and place', () => {
    const empty = evaluateMove(regulation, move(AMO.handedOver, AMO.meetingSet));
    expect(empty.verdict).toBe('revert');
    expect(empty.message).toBe(
      'Нельзя перейти из «Передан в работу» в «Встреча назначена»: заполните поля «Дата встречи», «Время встречи», «Место встречи».',
    );
    const partly = evaluateMove(regulation, move(AMO.handedOver, AMO.meetingSet, { fields: { '584201': '2025-03-14', '584202': ' ' } }));
    expect(partly.reasons.map((r) => (r.rule === 'required_field_empty' ? r.field.title : r.rule))).toEqual(['Время встречи', 'Место встречи']);
    expect(evaluateMove(regulation, move(AMO.handedOver, AMO.meetingSet, { fields: MEETING })).verdict).toBe('allow');
  });

  test('«Встреча состоялась» needs the meeting date', () => {
    const decision = evaluateMove(regulation, move(AMO.meetingSet, AMO.meetingHeld, { history: [AMO.handedOver, AMO.meetingSet] }));
    expect(decision.message).toBe('Нельзя перейти из «Встреча назначена» в «Встреча состоялась»: заполните поле «Дата встречи».');
  });

  test('«На закрытие» needs a reason', () => {
    const decision = evaluateMove(regulation, move(AMO.noAnswer, AMO.toClose));
    expect(decision.reasons).toEqual([expect.objectContaining({ rule: 'reason_empty', field: { key: 'close_reason', code: '584204', title: 'Причина закрытия' } })]);
    expect(decision.message).toBe('Нельзя перейти из «Не дозвонились» в «На закрытие»: укажите причину в поле «Причина закрытия».');
    expect(evaluateMove(regulation, move(AMO.noAnswer, AMO.toClose, { fields: { '584204': 'Не выходит на связь' } })).verdict).toBe('allow');
  });

  test('«Закрыто и не реализовано» (143) only from «На закрытие», with a reason', () => {
    expect(evaluateMove(regulation, move(AMO.toClose, AMO.lost, { fields: { '584204': 'Нет денег' } })).verdict).toBe('allow');
    const direct = evaluateMove(regulation, move(AMO.needs, AMO.lost));
    expect(direct.reasons.map((r) => r.rule)).toEqual(['transition_not_allowed', 'reason_empty']);
  });

  test('«Для передачи» and «На закрытие» are open from every working stage', () => {
    for (const from of [AMO.handedOver, AMO.noAnswer, AMO.needs, AMO.meetingSet, AMO.meetingHeld, AMO.proposal, AMO.feedback, AMO.deferred]) {
      expect(evaluateMove(regulation, move(from, AMO.toHandOver)).verdict).toBe('allow');
      expect(evaluateMove(regulation, move(from, AMO.toClose, { fields: { '584204': 'Купил у конкурента' } })).verdict).toBe('allow');
    }
  });

  test('«Отложенный спрос» only once the needs are identified', () => {
    const early = evaluateMove(regulation, move(AMO.handedOver, AMO.deferred));
    expect(early.verdict).toBe('revert');
    expect(early.message).toBe(
      'Нельзя перейти из «Передан в работу» в «Отложенный спрос >7 мес»: такой переход не предусмотрен регламентом. ' +
        'Из «Передан в работу» можно перейти в: «Для передачи», «Не дозвонились», «На закрытие», «Потребности выявлены», «Встреча назначена».',
    );
    expect(evaluateMove(regulation, move(AMO.needs, AMO.deferred)).verdict).toBe('allow');
  });

  test('technical stages are not worked by managers: the qualifier hands over, nobody moves deals back into them', () => {
    expect(evaluateMove(regulation, move(AMO.qualifier, AMO.handedOver)).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(AMO.qualifier, AMO.needs)).verdict).toBe('revert');
    expect(evaluateMove(regulation, move(AMO.handedOver, AMO.newLead)).verdict).toBe('revert');
  });

  test('a head of sales may move anything; so may a CRM admin; the broken rules are kept as waived', () => {
    const byHead = evaluateMove(regulation, move(AMO.handedOver, AMO.won, { movedBy: { userId: HEAD_OF_SALES } }));
    expect(byHead).toMatchObject({ verdict: 'allow', why: 'exempt_user', reasons: [], message: '', revertTo: null });
    expect(byHead.waived.map((r) => r.rule)).toEqual(['transition_not_allowed', 'skipped_stage']);
    const byAdmin = evaluateMove(regulation, move(AMO.handedOver, AMO.won, { movedBy: { userId: '1', isAdmin: true } }));
    expect(byAdmin.why).toBe('exempt_user');
    expect(evaluateMove(regulation, move(AMO.handedOver, AMO.won, { movedBy: null })).verdict).toBe('revert');
  });

  test('moves within the same stage, or into a stage the regulation does not govern, pass', () => {
    expect(evaluateMove(regulation, move(AMO.meetingSet, AMO.meetingSet)).why).toBe('same_stage');
    expect(evaluateMove(regulation, move(AMO.handedOver, AMO.archive)).why).toBe('not_governed');
    // From an ungoverned stage only the rules of entry apply.
    expect(evaluateMove(regulation, move(AMO.archive, AMO.needs)).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(AMO.archive, AMO.meetingSet)).reasons.map((r) => r.rule)).toEqual([
      'required_field_empty',
      'required_field_empty',
      'required_field_empty',
    ]);
  });

  test('meeting held is a fact: entering «Встреча состоялась» is recognised for recording', () => {
    expect(entersMeetingHeld(regulation, { fromStageId: AMO.meetingSet, toStageId: AMO.meetingHeld })).toBe(true);
    expect(entersMeetingHeld(regulation, { fromStageId: AMO.meetingHeld, toStageId: AMO.meetingHeld })).toBe(false);
    expect(entersMeetingHeld(regulation, { fromStageId: AMO.meetingHeld, toStageId: AMO.proposal })).toBe(false);
  });

  test('the manager’s text is available in English', () => {
    const decision = evaluateMove(regulation, move(AMO.meetingSet, AMO.proposal, { history: [AMO.meetingSet], locale: 'en' }));
    expect(decision.locale).toBe('en');
    expect(decision.message).toBe(
      'The deal cannot move from “Встреча назначена” to “Отправлено КП”: it must pass the stage “Встреча состоялась” first. ' +
        'The “meeting held” stage must never be skipped: the move records the meeting date and the manager, which drive next month’s lead distribution.',
    );
  });
});
