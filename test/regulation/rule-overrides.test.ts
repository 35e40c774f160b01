/**
 * An installation's own rules (what the settings page edits): each edited part replaces the preset's,
 * is checked like a preset, and an error in it points at the override, not at the preset file.
 */
import { bindRegulation, evaluateMove, loadPreset, type BindResult, type OverridesInput } from '../../src/regulation';
import { B24_DEAL, bitrixDealCategory, bitrixDealFields } from './crm-fixtures';

const preset = loadPreset('bitrix24-deals-004');
const bind = (overrides: OverridesInput): BindResult => bindRegulation(preset, bitrixDealCategory(), bitrixDealFields(), overrides);
const okOf = (result: BindResult) => {
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.file} ${e.path}: ${e.message}`).join('\n'));
  return result.regulation;
};
const move = (from: string, to: string, fields: Record<string, unknown> = {}) => ({ fromStageId: from, toStageId: to, fields, history: [], movedBy: { userId: '7' } });

describe('rule overrides: the transition matrix, stages never skipped and stage fields set per installation', () => {
  test('an edited transition table replaces the preset’s: the first call may no longer go to booking', () => {
    const before = okOf(bind({}));
    expect(before.transitions.allowed.needs_identified).toContain('booking');
    const after = okOf(bind({ transitions: { allow: [{ from: 'needs_identified', to: ['meeting_set'] }, { from: 'meeting_set', to: ['meeting_held', 'booking'] }] } }));
    expect(after.transitions.allowed.needs_identified).toEqual(['meeting_set']);
    expect(after.transitions.denied).toEqual([]);
    expect(evaluateMove(after, move(B24_DEAL.needs, B24_DEAL.booking, { ufCrm_1712345603: 'кв. 1' })).verdict).toBe('revert');
  });

  test('required fields and a closing reason set per stage, with a field the preset does not name', () => {
    const regulation = okOf(bind({
      addFields: { crm_sum: { names: ['Сумма'] } },
      fields: { crm_sum: 'opportunity' },
      stageRules: { booking: { requiredFields: ['unit', 'crm_sum'] }, lost: { reasonField: null } },
    }));
    const booking = regulation.stages.find((s) => s.key === 'booking')!;
    expect(booking.requiredFields.map((f) => f.title)).toEqual(['Квартира', 'Сумма']);
    expect(regulation.stages.find((s) => s.key === 'lost')!.reasonField).toBeNull();
  });

  test('stages never skipped replaced: without the rule a contract may follow the meeting directly', () => {
    const allowContract = { allow: [{ from: 'meeting_held' as const, to: ['contract'] }] };
    const kept = okOf(bind({ transitions: allowContract }));
    const dropped = okOf(bind({ transitions: allowContract, mustNotSkip: [] }));
    const full = { ufCrm_1712345603: 'кв. 1', ufCrm_1712345604: '4510', ufCrm_1712345605: 'Д-1', ufCrm_1712345606: '2026-11-20' };
    expect(evaluateMove(kept, move(B24_DEAL.meetingHeld, B24_DEAL.contract, full)).reasons.map((r) => r.rule)).toEqual(['skipped_stage']);
    expect(evaluateMove(dropped, move(B24_DEAL.meetingHeld, B24_DEAL.contract, full)).verdict).toBe('allow');
  });

  test.each([
    ['a transition to a stage the preset lacks', { transitions: { allow: [{ from: 'booking', to: ['nowhere'] }] } }, /^transitions\.allow\[0\]\.to/],
    ['an empty transition table', { transitions: { allow: [] } }, /^transitions\.allow$/],
    ['a required field the regulation does not define', { stageRules: { booking: { requiredFields: ['parking'] } } }, /^stageRules\.booking\.requiredFields\[0\]$/],
    ['stage rules for a stage the preset lacks', { stageRules: { showroom: { requiredFields: ['unit'] } } }, /^stageRules\.showroom$/],
    ['an added field the CRM does not have', { addFields: { crm_x: { names: ['Парковка'] } }, stageRules: { booking: { requiredFields: ['crm_x'] } } }, /^stageRules\.booking\.requiredFields\[0\]$/],
    ['a never-skipped stage the preset lacks', { mustNotSkip: [{ stage: 'showroom', beforeEntering: '@forward' }] }, /^mustNotSkip\[0\]\.stage$/],
  ])('%s is refused at the override’s path', (_what, overrides, path) => {
    const result = bind(overrides as OverridesInput);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(expect.arrayContaining([expect.objectContaining({ file: 'overrides', path: expect.stringMatching(path) })]));
  });
});
