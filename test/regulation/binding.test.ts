/**
 * Binding a preset to a portal: name matching, overrides, and the errors that refuse a
 * regulation (all or nothing, each pointing at its place).
 */
import {
  BoundRegulationSchema,
  bindRegulation,
  evaluateMove,
  formatRegulationError,
  formatRegulationErrors,
  loadPreset,
  normalizeName,
  type BindResult,
  type RegulationError,
} from '../../src/regulation';
import {
  AMO,
  amoFields,
  amoPrimaryMarket,
  amoSecondaryMarket,
  B24_DEAL,
  bindOrFail,
  bitrixDealCategory,
  bitrixDealFields,
  bitrixDefaultCategory,
  bitrixLeadStatuses,
  presetCopy,
} from './crm-fixtures';

function errorsOf(result: BindResult): RegulationError[] {
  if (result.ok) throw new Error('expected binding to fail');
  return result.errors;
}

describe('binding a preset to a portal', () => {
  test('a stage the funnel does not have is reported, never guessed', () => {
    const funnel = amoPrimaryMarket();
    funnel.stages = funnel.stages.filter((s) => s.name !== 'Встреча состоялась');
    funnel.stages.push({ id: '61500099', name: 'Встреча прошла', sort: 121, semantics: 'process' });
    const result = bindRegulation(loadPreset('amocrm-primary-market'), funnel, amoFields());
    expect(result.ok).toBe(false);
    expect('regulation' in result).toBe(false);
    const errors = errorsOf(result);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'stage_not_found', file: 'presets/amocrm-primary-market.json', path: 'stages.meeting_held' });
    expect(errors[0]?.message).toMatch(/^stage «Встреча состоялась» is not in funnel «Первичный рынок» \(stages: «Неразобранное» \(61500001\), /);
    expect(errors[0]?.message).toContain('«Встреча прошла» (61500099)');
    expect(errors[0]?.message).toMatch(/map it with overrides\.stages\.meeting_held$/);
  });

  test('a role used twice is refused', () => {
    const preset = presetCopy('amocrm-primary-market');
    const proposal = preset.stages['proposal_sent'];
    if (!proposal) throw new Error('fixture');
    proposal.role = 'meeting_held';
    const errors = errorsOf(bindRegulation(preset, amoPrimaryMarket(), amoFields()));
    expect(errors.map(formatRegulationError)).toEqual([
      'presets/amocrm-primary-market.json › stages.proposal_sent.role: role «meeting_held» is already used by stages.meeting_held; a funnel has at most one «meeting_held» stage',
    ]);
  });

  test('a required field missing from the CRM is refused with its path', () => {
    const fields = amoFields().filter((f) => f.title !== 'Дата встречи');
    const errors = errorsOf(bindRegulation(loadPreset('amocrm-primary-market'), amoPrimaryMarket(), fields));
    expect(errors).toHaveLength(1);
    expect(formatRegulationError(errors[0] as RegulationError)).toBe(
      'presets/amocrm-primary-market.json › stages.meeting_set.requiredFields[0]: field «Дата встречи» does not exist in the CRM ' +
        '(also needed by stages.meeting_held) (known fields: «Бюджет» (price), «Источник» (584101), «Время встречи» (584202), ' +
        '«Место встречи» (584203), «Причина закрытия» (584204)); create it or map it with overrides.fields.meeting_date',
    );
  });

  test('name matching ignores case, ё/е, extra whitespace and quotes', () => {
    expect(normalizeName('  «Отложенный   спрос >7 мес» ')).toBe(normalizeName('отложенный спрос >7 мес'));
    expect(normalizeName('Показ проведён')).toBe(normalizeName('ПОКАЗ ПРОВЕДЕН'));
    const funnel = amoPrimaryMarket();
    const rename: Record<string, string> = {
      [AMO.meetingSet]: '  ВСТРЕЧА   назначена ',
      [AMO.proposal]: '«Отправлено КП»',
      [AMO.feedback]: '"ос получена"',
    };
    funnel.stages = funnel.stages.map((s) => ({ ...s, name: rename[s.id] ?? s.name }));
    const fields = amoFields().map((f) => (f.code === '584204' ? { ...f, title: 'причина  ЗАКРЫТИЯ' } : f));
    const regulation = bindOrFail('amocrm-primary-market', funnel, fields);
    expect(regulation.stages.find((s) => s.key === 'meeting_set')).toMatchObject({ stageId: AMO.meetingSet, name: '  ВСТРЕЧА   назначена ' });
    expect(regulation.fields.find((f) => f.key === 'close_reason')).toEqual({ key: 'close_reason', code: '584204', title: 'причина  ЗАКРЫТИЯ' });
  });

  test('overrides map a renamed stage and a field the names do not find', () => {
    const funnel = amoPrimaryMarket();
    funnel.stages = funnel.stages.map((s) => (s.id === AMO.meetingHeld ? { ...s, name: 'Была на встрече' } : s));
    const fields = amoFields().map((f) => (f.code === '584203' ? { ...f, title: 'Адрес показа' } : f));
    const regulation = bindOrFail('amocrm-primary-market', funnel, fields, {
      stages: { meeting_held: AMO.meetingHeld },
      fields: { meeting_place: 584203 },
    });
    expect(regulation.stages.find((s) => s.role === 'meeting_held')).toMatchObject({ stageId: AMO.meetingHeld, name: 'Была на встрече' });
    const decision = evaluateMove(regulation, {
      fromStageId: AMO.handedOver,
      toStageId: AMO.meetingSet,
      fields: { '584201': '2025-03-14', '584202': '15:00' },
      history: [],
      movedBy: { userId: '1001' },
    });
    expect(decision.message).toBe('Нельзя перейти из «Передан в работу» в «Встреча назначена»: заполните поле «Адрес показа».');
  });

  test('a stage given to one key by an override is not matched by name for another', () => {
    // This portal calls its booking stage «Договор» and has no contract stage of its own.
    const funnel = bitrixDealCategory();
    funnel.stages = funnel.stages.filter((s) => s.id !== B24_DEAL.booking);
    const regulation = bindOrFail('bitrix24-deals-004', funnel, bitrixDealFields(), {
      stages: { booking: B24_DEAL.contract, contract: 'C1:UC_RG01', registration: null },
    });
    expect(regulation.stages.filter((s) => ['booking', 'contract'].includes(s.key)).map((s) => [s.key, s.name])).toEqual([
      ['booking', 'Договор'],
      ['contract', 'Регистрация в Росреестре'],
    ]);
  });

  test('a stage taken by an override is named when another stage then finds nothing', () => {
    const errors = errorsOf(bindRegulation(loadPreset('bitrix24-deals-004'), bitrixDealCategory(), bitrixDealFields(), { stages: { contract: B24_DEAL.registration } }));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe('stages.registration');
    expect(errors[0]?.message).toContain('; «Регистрация в Росреестре» has the name but overrides give it to stages.contract; map it with overrides.stages.registration');
  });

  test('an override pointing at a stage or field the portal does not have is refused', () => {
    const errors = errorsOf(
      bindRegulation(loadPreset('amocrm-primary-market'), amoPrimaryMarket(), amoFields(), {
        stages: { meeting_held: '99999999', meting_set: AMO.meetingSet },
        fields: { meeting_place: 'ufCrm_404' },
      }),
    );
    expect(errors.map((e) => `${e.file} › ${e.path} [${e.code}]`)).toEqual([
      'overrides › stages.meting_set [unknown_reference]',
      'overrides › stages.meeting_held [stage_not_found]',
      'overrides › fields.meeting_place [field_not_found]',
    ]);
  });

  test('a name that matches two stages is reported, not guessed', () => {
    const funnel = bitrixDealCategory();
    funnel.stages.push({ id: 'C1:UC_DUP1', name: 'встреча НАЗНАЧЕНА', sort: 21, semantics: 'process' });
    const errors = errorsOf(bindRegulation(loadPreset('bitrix24-deals-004'), funnel, bitrixDealFields()));
    expect(errors.map(formatRegulationError)).toEqual([
      'presets/bitrix24-deals-004.json › stages.meeting_set.names[0]: name «Встреча назначена» matches 2 stages of funnel «Продажи»: ' +
        '«Встреча назначена» (C1:PREPARATION), «встреча НАЗНАЧЕНА» (C1:UC_DUP1); map it with overrides.stages.meeting_set',
    ]);
  });

  test('a won or lost role never binds to an in-progress stage, and one CRM stage never serves two roles', () => {
    const errors = errorsOf(
      bindRegulation(loadPreset('bitrix24-deals-004'), bitrixDealCategory(), bitrixDealFields(), {
        stages: { won: B24_DEAL.priceRefused, booking: B24_DEAL.booking, contract: B24_DEAL.booking },
      }),
    );
    expect(errors.map(formatRegulationError)).toEqual([
      'overrides › stages.contract: stage «Бронь» (C1:UC_BK01) is already bound to stages.booking',
      'overrides › stages.won: role «won» needs a success stage, but «Не устроила цена» (C1:UC_PR01) is a failure stage',
    ]);
  });

  test('a must-not-skip stage cannot be left out', () => {
    const errors = errorsOf(bindRegulation(loadPreset('amocrm-primary-market'), amoPrimaryMarket(), amoFields(), { stages: { meeting_held: null } }));
    expect(errors.map(formatRegulationError)).toEqual([
      'overrides › stages.meeting_held: stage «Встреча состоялась» must never be skipped (mustNotSkip[0]), so the funnel must have it; map it with overrides.stages.meeting_held',
    ]);
  });

  test('the funnel is chosen by name, by overrides.funnelId, and a lead preset never binds to a deal funnel', () => {
    expect(bindOrFail('amocrm-primary-market', [amoSecondaryMarket(), amoPrimaryMarket()], amoFields()).funnel.id).toBe('7281234');
    const renamed = { ...amoPrimaryMarket(), name: 'Новостройки' };
    const notFound = errorsOf(bindRegulation(loadPreset('amocrm-primary-market'), [amoSecondaryMarket(), renamed], amoFields()));
    expect(formatRegulationErrors(notFound)).toBe(
      'presets/amocrm-primary-market.json › funnel.names: no deal funnel is named «Первичный рынок» ' +
        '(deal funnels: «Вторичный рынок» (deal 7281299), «Новостройки» (deal 7281234)); choose one with overrides.funnelId',
    );
    expect(bindOrFail('amocrm-primary-market', [amoSecondaryMarket(), renamed], amoFields(), { funnelId: 7281234 }).funnel.name).toBe('Новостройки');

    const entity = errorsOf(bindRegulation(loadPreset('bitrix24-leads-004'), bitrixDealCategory(), bitrixDealFields()));
    expect(formatRegulationErrors(entity)).toBe(
      'presets/bitrix24-leads-004.json › entity: the preset is for lead funnels, but «Продажи» (1) is a deal funnel',
    );
    const noDeals = errorsOf(bindRegulation(loadPreset('bitrix24-deals-004'), [bitrixDefaultCategory(), bitrixLeadStatuses()], bitrixDealFields()));
    expect(noDeals[0]).toMatchObject({ code: 'funnel_not_found', path: 'funnel.names' });
  });

  test('robot settings: defaults, then the installation’s own', () => {
    const defaults = bindOrFail('amocrm-primary-market', amoPrimaryMarket(), amoFields());
    expect(defaults.settings).toEqual({
      locale: 'ru',
      violationAlertThreshold: 3,
      headOfSalesUserIds: [],
      exempt: { userIds: [], roles: ['admin', 'head_of_sales'] },
    });
    const own = bindOrFail('amocrm-primary-market', amoPrimaryMarket(), amoFields(), {
      settings: { locale: 'en', violationAlertThreshold: 5, headOfSalesUserIds: [2001], exempt: { userIds: ['3003'], roles: ['head_of_sales'] } },
    });
    expect(own.settings).toEqual({
      locale: 'en',
      violationAlertThreshold: 5,
      headOfSalesUserIds: ['2001'],
      exempt: { userIds: ['3003'], roles: ['head_of_sales'] },
    });
    // Admins are not exempt any more in this installation.
    const byAdmin = evaluateMove(own, { fromStageId: AMO.handedOver, toStageId: AMO.won, fields: {}, history: [], movedBy: { userId: '1', isAdmin: true } });
    expect(byAdmin.verdict).toBe('revert');
    expect(byAdmin.message).toMatch(/^The deal cannot move from “Передан в работу” to “Успешно реализовано”/);
  });

  test('invalid overrides are refused with their path', () => {
    const errors = errorsOf(
      bindRegulation(loadPreset('amocrm-primary-market'), amoPrimaryMarket(), amoFields(), {
        settings: { violationAlertThreshold: 0, exempt: { roles: ['director' as 'admin'] } },
        messages: { ru: { blocked: 'Стоп: {from} → {to}, сделка {dealId}' } },
      }),
    );
    expect(errors.map((e) => `${e.file} › ${e.path}`)).toEqual(['overrides › settings.violationAlertThreshold', 'overrides › settings.exempt.roles[0]']);
    const placeholders = errorsOf(
      bindRegulation(loadPreset('amocrm-primary-market'), amoPrimaryMarket(), amoFields(), {
        messages: { ru: { blocked: 'Стоп: {from} → {to}, сделка {dealId}' } },
      }),
    );
    expect(formatRegulationErrors(placeholders)).toBe('overrides › messages.ru.blocked: unknown placeholder {dealId} (this text may use {from}, {to})');
  });

  test('rules like «any forward move, except …» expand against the stages the portal has', () => {
    const preset = {
      key: 'forward-only',
      version: 1,
      title: 'Только вперёд',
      entity: 'deal' as const,
      source: 'test',
      stages: {
        needs: { role: 'needs_identified' as const, names: ['Выявление потребностей'] },
        meeting: { role: 'meeting_set' as const, names: ['Встреча назначена'] },
        booking: { role: 'booking' as const, names: ['Бронь'] },
        payment: { role: 'payment_received' as const, names: ['Оплата получена'], optional: true },
        contract: { role: 'contract' as const, names: ['Договор'] },
        won: { role: 'won' as const, names: ['Сделка успешна'] },
        lost: { role: 'lost' as const, names: ['Сделка провалена'] },
      },
      transitions: {
        allow: [{ from: '@process', to: '@forward' }],
        deny: [{ from: '*', to: 'won', explain: 'Успех ставит бухгалтерия' }, { from: '@process', to: '@backward' }],
      },
    };
    const regulation = bindOrFail(preset, bitrixDealCategory(), bitrixDealFields());
    expect(regulation.transitions.allowed).toEqual({
      needs: ['meeting', 'booking', 'contract', 'lost'],
      meeting: ['booking', 'contract', 'lost'],
      booking: ['contract', 'lost'],
      contract: ['lost'],
      won: [],
      lost: [],
    });
    const toWon = evaluateMove(regulation, { fromStageId: B24_DEAL.contract, toStageId: B24_DEAL.won, fields: {}, history: [], movedBy: null });
    expect(toWon.message).toBe('Нельзя перейти из «Договор» в «Сделка успешна»: успех ставит бухгалтерия.');
  });

  test('a bound regulation is plain JSON and validates again after storage', () => {
    const regulation = bindOrFail('bitrix24-deals-004', bitrixDealCategory(), bitrixDealFields());
    const stored = JSON.parse(JSON.stringify(regulation)) as unknown;
    expect(BoundRegulationSchema.parse(stored)).toEqual(regulation);
  });
});
