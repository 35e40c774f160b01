/**
 * The Bitrix24 lead funnel of seed 004, rule by rule.
 */
import { evaluateMove, stageByRole, type BoundRegulation, type Move } from '../../src/regulation';
import { B24_LEAD, bindOrFail, bitrixDealCategory, bitrixLeadFields, bitrixLeadStatuses } from './crm-fixtures';

const MANAGER = { userId: '17', isAdmin: false };
const JUNK_REASON = 'ufCrm_1712345701';

let regulation: BoundRegulation;

beforeAll(() => {
  // The portal's funnels as the adapter lists them: deal categories and the lead statuses.
  regulation = bindOrFail('bitrix24-leads-004', [bitrixDealCategory(), bitrixLeadStatuses()], bitrixLeadFields());
});

function move(fromStageId: string, toStageId: string, extra: Partial<Move> = {}): Move {
  return { fromStageId, toStageId, fields: {}, history: [fromStageId], movedBy: MANAGER, ...extra };
}

describe('Bitrix24 lead funnel (seed 004)', () => {
  test('binds to the lead statuses, the only lead funnel of the portal', () => {
    expect(regulation.funnel).toEqual({ id: 'lead', name: 'Лиды' });
    expect(regulation.stages.map((s) => [s.role, s.stageId])).toEqual([
      ['new', 'NEW'],
      ['responsible_assigned', 'UC_ASGN01'],
      ['no_answer', 'IN_PROCESS'],
      ['qualified', 'CONVERTED'],
      ['lost', 'JUNK'],
      ['new_contact_of_active_client', 'UC_NC01'],
      ['existing_buyer', 'UC_DL01'],
      ['agent', 'UC_AG01'],
    ]);
  });

  test('the order of the source: Принять в работу → Назначен ответственный → Попытки связаться → Качественный лид', () => {
    expect(evaluateMove(regulation, move(B24_LEAD.accept, B24_LEAD.assigned)).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(B24_LEAD.assigned, B24_LEAD.attempts)).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(B24_LEAD.attempts, B24_LEAD.qualified)).verdict).toBe('allow');
    expect(evaluateMove(regulation, move(B24_LEAD.accept, B24_LEAD.qualified)).verdict).toBe('allow');
  });

  test('a lead does not go back to «Принять в работу»', () => {
    const decision = evaluateMove(regulation, move(B24_LEAD.attempts, B24_LEAD.accept));
    expect(decision.message).toBe(
      'Нельзя перейти из «Попытки связаться» в «Принять в работу»: такой переход не предусмотрен регламентом. ' +
        'Из «Попытки связаться» можно перейти в: «Качественный лид», «Забраковать», «Новые контакты у активного клиента», «Дольщик», «Агент».',
    );
  });

  test('«Забраковать» needs a reason', () => {
    const decision = evaluateMove(regulation, move(B24_LEAD.attempts, B24_LEAD.junk));
    expect(decision.message).toBe('Нельзя перейти из «Попытки связаться» в «Забраковать»: укажите причину в поле «Причина брака».');
    expect(evaluateMove(regulation, move(B24_LEAD.attempts, B24_LEAD.junk, { fields: { [JUNK_REASON]: 'Ошибся номером' } })).verdict).toBe('allow');
  });

  test('a lead may be closed as «Новые контакты у активного клиента», «Дольщик» or «Агент» from any stage, no reason needed', () => {
    for (const from of [B24_LEAD.accept, B24_LEAD.assigned, B24_LEAD.attempts]) {
      for (const to of [B24_LEAD.activeClientContact, B24_LEAD.existingBuyer, B24_LEAD.agent]) {
        expect(evaluateMove(regulation, move(from, to)).verdict).toBe('allow');
      }
    }
    expect(stageByRole(regulation, 'new_contact_of_active_client')?.name).toBe('Новые контакты у активного клиента');
  });

  test('a qualified lead is not reopened by a manager; an admin may', () => {
    expect(evaluateMove(regulation, move(B24_LEAD.qualified, B24_LEAD.attempts)).verdict).toBe('revert');
    expect(evaluateMove(regulation, move(B24_LEAD.qualified, B24_LEAD.attempts, { movedBy: { userId: '1', isAdmin: true } })).why).toBe('exempt_user');
  });

  test('other named loss statuses stay ungoverned', () => {
    expect(regulation.ungovernedStages).toEqual([{ id: B24_LEAD.spam, name: 'Спам' }]);
    expect(evaluateMove(regulation, move(B24_LEAD.accept, B24_LEAD.spam)).why).toBe('not_governed');
  });

  test('«Назначен ответственный» is optional: a portal that distributes leads automatically binds without it', () => {
    const funnel = bitrixLeadStatuses();
    funnel.stages = funnel.stages.filter((s) => s.id !== B24_LEAD.assigned);
    const automatic = bindOrFail('bitrix24-leads-004', funnel, bitrixLeadFields());
    expect(automatic.stages.map((s) => s.key)).not.toContain('responsible_assigned');
    expect(evaluateMove(automatic, move(B24_LEAD.accept, B24_LEAD.attempts)).verdict).toBe('allow');
  });
});
