/**
 * Stage time limits and next steps as data: the seed's rules in the presets, an installation's
 * changes, and the errors that refuse a limit that cannot work, each at its exact place.
 */
import { bindRegulation, formatRegulationErrors, loadPreset, stageByRole, type BindResult } from '../../src/regulation';
import { amoFields, amoPrimaryMarket, bindOrFail, bitrixDealCategory, bitrixDealFields, presetCopy } from './crm-fixtures';

const DAY = 86_400_000;
const errorsOf = (result: BindResult) => (result.ok ? '' : formatRegulationErrors(result.errors));

describe('stage time limits in the regulation', () => {
  const amo = bindOrFail('amocrm-primary-market', amoPrimaryMarket(), amoFields());

  test('«Для передачи»: more than a day tells the head of sales (seed 002)', () => {
    expect(stageByRole(amo, 'to_hand_over')?.timeLimit).toEqual({
      maxTimeMs: DAY, clock: 'calendar', since: 'entered', action: 'notify', notify: ['head_of_sales'], repeatEveryMs: null, escalation: null,
    });
  });

  test('«Отложенный спрос»: no touch in 30 days gives the manager a task', () => {
    expect(stageByRole(amo, 'deferred')?.timeLimit).toMatchObject({ maxTimeMs: 30 * DAY, since: 'last_touch', action: 'task', notify: ['manager'] });
  });

  test('«Отправлено КП»: 3 days then the manager, daily reminders, the head of sales after 5 days; a feedback task due in a day', () => {
    const proposal = stageByRole(amo, 'proposal_sent');
    expect(proposal?.timeLimit).toMatchObject({ maxTimeMs: 3 * DAY, notify: ['manager'], repeatEveryMs: DAY, escalation: { afterMs: 5 * DAY, notify: ['head_of_sales'] } });
    expect(proposal?.nextStep).toEqual({ kind: 'feedback', dueMs: DAY });
  });

  test('«Встреча назначена»: the meeting task reads the meeting date field of this portal', () => {
    expect(stageByRole(amo, 'meeting_set')?.nextStep).toEqual({ kind: 'meeting', dateFieldCode: '584201', dateFieldTitle: 'Дата встречи' });
    const b24 = bindOrFail('bitrix24-deals-004', [bitrixDealCategory()], bitrixDealFields());
    expect(stageByRole(b24, 'meeting_set')?.nextStep).toMatchObject({ kind: 'meeting' });
  });

  test('a stage without a rule has no limit', () => {
    expect(stageByRole(amo, 'meeting_held')?.timeLimit).toBeNull();
  });

  test('an installation shortens a limit, adds one, or drops one', () => {
    const result = bindRegulation(loadPreset('amocrm-primary-market'), amoPrimaryMarket(), amoFields(), {
      timeLimits: { to_hand_over: { maxTime: '20s' }, meeting_held: { maxTime: '2h', notify: ['manager', 'head_of_sales'] }, deferred: null },
    });
    if (!result.ok) throw new Error(errorsOf(result));
    expect(stageByRole(result.regulation, 'to_hand_over')?.timeLimit).toMatchObject({ maxTimeMs: 20_000, clock: 'calendar', notify: ['head_of_sales'] });
    expect(stageByRole(result.regulation, 'meeting_held')?.timeLimit).toMatchObject({ maxTimeMs: 7_200_000, clock: 'working', notify: ['manager', 'head_of_sales'] });
    expect(stageByRole(result.regulation, 'deferred')?.timeLimit).toBeNull();
  });
});

describe('a time limit that cannot work is refused at its place', () => {
  test('a duration that is not one', () => {
    const preset = presetCopy('amocrm-primary-market');
    preset.stages['to_hand_over']!.timeLimit = { maxTime: 'один день' };
    expect(errorsOf(bindRegulation(preset, amoPrimaryMarket(), amoFields()))).toBe(
      'presets/amocrm-primary-market.json › stages.to_hand_over.timeLimit.maxTime: "один день" is not a duration like "20s", "15m", "3d" or "1h30m" (ISO-8601 "PT15M" is accepted too)',
    );
  });

  test('an escalation before the limit, reminders every second, nobody to tell', () => {
    const preset = presetCopy('amocrm-primary-market');
    preset.stages['to_hand_over']!.timeLimit = { maxTime: '1d', repeatEvery: '1s', escalation: { after: '12h' } };
    preset.stages['no_answer']!.timeLimit = { maxTime: '1d', notify: [] };
    expect(errorsOf(bindRegulation(preset, amoPrimaryMarket(), amoFields())).split('\n')).toEqual([
      'presets/amocrm-primary-market.json › stages.no_answer.timeLimit.notify: name at least one of "manager", "head_of_sales"',
    ]);
    preset.stages['no_answer']!.timeLimit = undefined;
    expect(errorsOf(bindRegulation(preset, amoPrimaryMarket(), amoFields())).split('\n')).toEqual([
      'presets/amocrm-primary-market.json › stages.to_hand_over.timeLimit.repeatEvery: reminders at most once a minute ("1m" or longer)',
      'presets/amocrm-primary-market.json › stages.to_hand_over.timeLimit.escalation.after: the escalation comes after the first limit: make it longer than maxTime',
    ]);
  });

  test('a meeting task on a field the preset does not define', () => {
    const preset = presetCopy('amocrm-primary-market');
    preset.stages['meeting_set']!.nextStep = { kind: 'meeting', dateField: 'meeting_day' };
    expect(errorsOf(bindRegulation(preset, amoPrimaryMarket(), amoFields()))).toBe(
      'presets/amocrm-primary-market.json › stages.meeting_set.nextStep.dateField: field «meeting_day» is not defined in «fields» (defined: meeting_date, meeting_time, meeting_place, close_reason)',
    );
  });

  test('an installation\'s change: an unknown stage, a new limit without maxTime, an escalation made too early', () => {
    const result = bindRegulation(loadPreset('amocrm-primary-market'), amoPrimaryMarket(), amoFields(), {
      timeLimits: { nowhere: { maxTime: '1d' }, meeting_held: { notify: ['manager'] }, proposal_sent: { maxTime: '6d' } },
    });
    expect(errorsOf(result).split('\n')).toEqual([
      'overrides › timeLimits.nowhere: the preset has no stage «nowhere» (stages: unsorted, technical, new_lead, qualifier, handed_over, to_hand_over, no_answer, to_close, deferred, needs_identified, meeting_set, meeting_held, proposal_sent, feedback_received, won, lost)',
      'overrides › timeLimits.meeting_held.maxTime: stage «meeting_held» has no time limit in the preset: give its maxTime (e.g. "1d")',
      'overrides › timeLimits.proposal_sent.escalation.after: the escalation comes after the first limit: make it longer than maxTime',
    ]);
  });
});
