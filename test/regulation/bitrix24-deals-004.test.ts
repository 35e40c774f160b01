/**
 * The Bitrix24 deal funnel of seed 004 with the rule of seed 000, rule by rule.
 */
import { evaluateMove, stageByRole, stagesByRole, type BoundRegulation, type Move } from '../../src/regulation';
import { B24_DEAL, bindOrFail, bitrixDealCategory, bitrixDealFields, bitrixDefaultCategory } from './crm-fixtures';
import { bindRegulation, loadPreset } from '../../src/regulation';

const MANAGER = { userId: '17', isAdmin: false };
const F = {
  meetingAt: 'ufCrm_1712345601',
  meetingResult: 'ufCrm_1712345602',
  unit: 'ufCrm_1712345603',
  passport: 'ufCrm_1712345604',
  contractNumber: 'ufCrm_1712345605',
  contractDate: 'ufCrm_1712345606',
  lossReason: 'ufCrm_1712345607',
};
const CONTRACT_FIELDS = {
  [F.unit]: 'ЖК «Северный», корп. 2, кв. 56',
  [F.passport]: '4510 123456',
  [F.contractNumber]: 'ДДУ-2025/56',
  [F.contractDate]: '2025-04-01',
};

let regulation: BoundRegulation;
let warnings: string[];

beforeAll(() => {
  const result = bindRegulation(loadPreset('bitrix24-deals-004'), [bitrixDefaultCategory(), bitrixDealCategory()], bitrixDealFields());
  if (!result.ok) throw new Error(JSON.stringify(result.errors, null, 2));
  regulation = result.regulation;
  warnings = result.warnings;
});

function move(fromStageId: string, toStageId: string, extra: Partial<Move> = {}): Move {
  return { fromStageId, toStageId, fields: {}, history: [fromStageId], movedBy: MANAGER, ...extra };
}

describe('Bitrix24 deal funnel (seed 004) with the rule of seed 000', () => {
  test('binds to category «Продажи» by stage names, C1: ids and the WON/LOSE system stages', () => {
    expect(regulation.funnel).toEqual({ id: '1', name: 'Продажи' });
    expect(regulation.stages.map((s) => [s.key, s.stageId])).toEqual([
      ['needs_identified', 'C1:NEW'],
      ['meeting_set', 'C1:PREPARATION'],
      ['meeting_held', 'C1:UC_8XK2'],
      ['booking', 'C1:UC_BK01'],
      ['booking_expired', 'C1:UC_BK02'],
      ['contract', 'C1:EXECUTING'],
      ['registration', 'C1:UC_RG01'],
      ['won', 'C1:WON'],
      ['lost', 'C1:LOSE'],
      ['active_client_contact', 'C1:UC_NC01'],
      ['existing_buyer', 'C1:UC_DL01'],
      ['agent', 'C1:UC_AG01'],
    ]);
    // «Оплата получена» is optional: this portal pays managers for contracts.
    expect(warnings).toContainEqual(expect.stringContaining('stages.payment_received'));
    expect(regulation.ungovernedStages).toEqual([{ id: 'C1:UC_PR01', name: 'Не устроила цена' }]);
  });

  test('from the first call straight to the contract is refused, to booking is allowed', () => {
    const contract = evaluateMove(regulation, move(B24_DEAL.needs, B24_DEAL.contract, { fields: CONTRACT_FIELDS }));
    expect(contract.verdict).toBe('revert');
    expect(contract.reasons.map((r) => r.rule)).toEqual(['transition_denied', 'skipped_stage']);
    expect(contract.message).toBe(
      'Нельзя перейти из «Выявление потребностей» в «Договор»: сначала этап «Бронь». ' +
        'Договор заключается только по забронированной квартире: при брони её статус меняется в системе учёта и на сайте. ' +
        'С первого звонка нельзя сразу переходить к договору — можно перейти на бронь.',
    );
    const booking = evaluateMove(regulation, move(B24_DEAL.needs, B24_DEAL.booking, { fields: { [F.unit]: 'кв. 56' } }));
    expect(booking.verdict).toBe('allow');
  });

  test('the contract only after «Бронь»: a deal that never booked the unit cannot sign', () => {
    const decision = evaluateMove(regulation, move(B24_DEAL.meetingHeld, B24_DEAL.contract, { fields: CONTRACT_FIELDS }));
    expect(decision.reasons.map((r) => r.rule)).toEqual(['transition_not_allowed', 'skipped_stage']);
    const afterBooking = evaluateMove(
      regulation,
      move(B24_DEAL.booking, B24_DEAL.contract, { fields: CONTRACT_FIELDS, history: [B24_DEAL.needs, B24_DEAL.meetingHeld, B24_DEAL.booking] }),
    );
    expect(afterBooking.verdict).toBe('allow');
  });

  test('required fields grow along the funnel: no passport number at the first showing', () => {
    const showing = evaluateMove(
      regulation,
      move(B24_DEAL.meetingSet, B24_DEAL.meetingHeld, { fields: { [F.meetingAt]: '2025-03-14T15:00:00+03:00', [F.meetingResult]: 'Понравилась 2-комн.' } }),
    );
    expect(showing.verdict).toBe('allow');

    const contract = evaluateMove(
      regulation,
      move(B24_DEAL.booking, B24_DEAL.contract, { fields: { [F.unit]: 'кв. 56' }, history: [B24_DEAL.needs, B24_DEAL.booking] }),
    );
    expect(contract.message).toBe(
      'Нельзя перейти из «Бронь» в «Договор»: заполните поля «Паспортные данные», «Номер договора», «Дата договора».',
    );
  });

  test('«Встреча назначена» needs the date and time of the meeting', () => {
    const decision = evaluateMove(regulation, move(B24_DEAL.needs, B24_DEAL.meetingSet));
    expect(decision.message).toBe('Нельзя перейти из «Выявление потребностей» в «Встреча назначена»: заполните поле «Дата и время встречи».');
  });

  test('the fixing stage «Встреча проведена» needs the result of the showing', () => {
    const decision = evaluateMove(regulation, move(B24_DEAL.meetingSet, B24_DEAL.meetingHeld, { fields: { [F.meetingAt]: '2025-03-14T15:00:00+03:00' } }));
    expect(decision.reasons).toEqual([expect.objectContaining({ rule: 'required_field_empty', field: expect.objectContaining({ title: 'Результат показа' }) })]);
  });

  test('«Бронь» needs the unit', () => {
    const decision = evaluateMove(regulation, move(B24_DEAL.meetingHeld, B24_DEAL.booking));
    expect(decision.message).toBe('Нельзя перейти из «Показ проведён» в «Бронь»: заполните поле «Квартира».');
  });

  test('«Бронь истекла» only from «Бронь»; from there the deal books again or meets again', () => {
    expect(evaluateMove(regulation, move(B24_DEAL.booking, B24_DEAL.bookingExpired)).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(B24_DEAL.meetingHeld, B24_DEAL.bookingExpired)).verdict).toBe('revert');
    expect(evaluateMove(regulation, move(B24_DEAL.bookingExpired, B24_DEAL.booking, { fields: { [F.unit]: 'кв. 57' } })).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(B24_DEAL.bookingExpired, B24_DEAL.meetingSet, { fields: { [F.meetingAt]: '2025-04-02T12:00' } })).verdict).toBe(
      'allow',
    );
  });

  test('contract → registration → won, with the contract data kept filled', () => {
    const history = [B24_DEAL.needs, B24_DEAL.booking, B24_DEAL.contract];
    expect(evaluateMove(regulation, move(B24_DEAL.contract, B24_DEAL.registration, { fields: CONTRACT_FIELDS, history })).verdict).toBe('allow');
    expect(
      evaluateMove(regulation, move(B24_DEAL.registration, B24_DEAL.won, { fields: CONTRACT_FIELDS, history: [...history, B24_DEAL.registration] })).verdict,
    ).toBe('allow');
    expect(evaluateMove(regulation, move(B24_DEAL.contract, B24_DEAL.won, { fields: CONTRACT_FIELDS, history })).reasons.map((r) => r.rule)).toEqual([
      'transition_not_allowed',
    ]);
  });

  test('«Сделка провалена» needs a reason; the named loss stages are their own reason', () => {
    const lost = evaluateMove(regulation, move(B24_DEAL.booking, B24_DEAL.lost));
    expect(lost.message).toBe('Нельзя перейти из «Бронь» в «Сделка провалена»: укажите причину в поле «Причина проигрыша».');
    expect(evaluateMove(regulation, move(B24_DEAL.booking, B24_DEAL.lost, { fields: { [F.lossReason]: ['281'] } })).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(B24_DEAL.meetingSet, B24_DEAL.existingBuyer)).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(B24_DEAL.meetingSet, B24_DEAL.priceRefused)).why).toBe('not_governed');
  });

  test('the special loss stages are known by role for the duplicate catcher', () => {
    expect(stageByRole(regulation, 'new_contact_of_active_client')?.stageId).toBe(B24_DEAL.activeClientContact);
    expect(stageByRole(regulation, 'existing_buyer')?.stageId).toBe(B24_DEAL.existingBuyer);
    expect(stageByRole(regulation, 'agent')?.stageId).toBe(B24_DEAL.agent);
    expect(stagesByRole(regulation, 'booking_expired').map((s) => s.name)).toEqual(['Бронь истекла']);
  });

  test('a lost deal is not reopened by a manager, but a head of sales may move anything', () => {
    expect(evaluateMove(regulation, move(B24_DEAL.lost, B24_DEAL.meetingSet, { fields: { [F.meetingAt]: 'x' } })).verdict).toBe('revert');
    const rop = bindOrFail('bitrix24-deals-004', bitrixDealCategory(), bitrixDealFields(), { settings: { headOfSalesUserIds: [5] } });
    const decision = evaluateMove(rop, move(B24_DEAL.needs, B24_DEAL.won, { movedBy: { userId: '5' } }));
    expect(decision).toMatchObject({ verdict: 'allow', why: 'exempt_user' });
  });

  test('with «Оплата получена» on the portal, won comes after it and needs the contract data', () => {
    const funnel = bitrixDealCategory();
    funnel.stages.push({ id: 'C1:UC_PAY1', name: 'Оплата получена', sort: 75, semantics: 'process' });
    const withPayment = bindOrFail('bitrix24-deals-004', funnel, bitrixDealFields());
    const history = [B24_DEAL.needs, B24_DEAL.booking, B24_DEAL.contract, B24_DEAL.registration];
    expect(evaluateMove(withPayment, move(B24_DEAL.registration, 'C1:UC_PAY1', { fields: CONTRACT_FIELDS, history })).verdict).toBe('allow');
    expect(evaluateMove(withPayment, move('C1:UC_PAY1', B24_DEAL.won, { fields: CONTRACT_FIELDS, history: [...history, 'C1:UC_PAY1'] })).verdict).toBe(
      'allow',
    );
    expect(evaluateMove(withPayment, move(B24_DEAL.needs, 'C1:UC_PAY1', { fields: CONTRACT_FIELDS })).reasons.map((r) => r.rule)).toEqual([
      'transition_denied',
      'skipped_stage',
    ]);
  });
});
