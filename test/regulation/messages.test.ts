/**
 * The texts managers and heads of sales read: data with Russian defaults, English available,
 * overridable by the preset and by the installation.
 */
import { DEFAULT_MESSAGES, composeMessage, evaluateMove, isViolationAlertDue, renderMessage, renderTemplate } from '../../src/regulation';
import { AMO, amoFields, amoPrimaryMarket, bindOrFail, presetCopy } from './crm-fixtures';

describe('messages', () => {
  test('templates fill their placeholders and leave unknown ones as written', () => {
    expect(renderTemplate('Нельзя перейти из «{from}» в «{to}»', { from: 'A', to: 'B' })).toBe('Нельзя перейти из «A» в «B»');
    expect(renderTemplate('{count} из {max}', { count: 3 })).toBe('3 из {max}');
  });

  test('a preset and an installation may reword the manager’s text', () => {
    const preset = presetCopy('amocrm-primary-market');
    preset.messages = { ru: { blocked: 'Регламент: «{from}» → «{to}» нельзя' } };
    const regulation = bindOrFail(preset, amoPrimaryMarket(), amoFields(), {
      messages: { ru: { missingReason: 'Напишите, почему закрываете (поле «{field}»)' } },
    });
    const decision = evaluateMove(regulation, { fromStageId: AMO.noAnswer, toStageId: AMO.toClose, fields: {}, history: [], movedBy: null });
    expect(decision.message).toBe('Регламент: «Не дозвонились» → «На закрытие» нельзя: напишите, почему закрываете (поле «Причина закрытия»).');
    expect(regulation.messages.en.blocked).toBe(DEFAULT_MESSAGES.en.blocked);
  });

  test('the caller’s notes come from the same data: reverted, alert to the head of sales, meeting held', () => {
    const regulation = bindOrFail('amocrm-primary-market', amoPrimaryMarket(), amoFields());
    expect(renderMessage(regulation, 'reverted', { from: 'Передан в работу' })).toBe('Сделка возвращена на этап «Передан в работу».');
    expect(renderMessage(regulation, 'violationAlert', { manager: 'Иванова', count: 3, threshold: 3 })).toBe(
      'Менеджер Иванова сегодня нарушает регламент этапов: нарушений — 3 (порог — 3).',
    );
    expect(renderMessage(regulation, 'meetingHeld', { date: '14.03.2025', manager: 'Иванова' }, 'en')).toBe('Meeting held on 14.03.2025 by Иванова.');
  });

  test('the heads of sales are alerted once, when a manager reaches the daily threshold (default 3)', () => {
    const regulation = bindOrFail('amocrm-primary-market', amoPrimaryMarket(), amoFields());
    expect([1, 2, 3, 4].map((count) => isViolationAlertDue(regulation, count))).toEqual([false, false, true, false]);
  });
});

describe('composing the manager’s message', () => {
  test('the first clause continues the sentence after the colon; abbreviations keep their capitals', () => {
    expect(composeMessage('Нельзя перейти из «A» в «B»', ['С первого звонка нельзя сразу к договору', 'Заполните поле «X»'])).toBe(
      'Нельзя перейти из «A» в «B»: с первого звонка нельзя сразу к договору. Заполните поле «X».',
    );
    expect(composeMessage('Нельзя', ['КП ещё не отправлено!'])).toBe('Нельзя: КП ещё не отправлено!');
  });
});
