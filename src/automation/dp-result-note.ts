import type { AutomationAction, AutomationResult } from './automation-call';
import { BITRIX24_ROBOTS } from './bitrix24-robot-catalog';

type Locale = 'ru' | 'en';

/** The action's name as the admin picked it (the same names as the Bitrix24 robots and the widget's list). */
function actionName(action: AutomationAction, locale: Locale): string {
  return BITRIX24_ROBOTS.find((r) => r.action === action)?.NAME[locale] ?? action;
}

const yes = (v: string | undefined) => v === 'Y';

/** The regulation's reason codes for an allowed move (evaluate-move `why`), said for a manager; other logs are already text. */
const ALLOWED_WHY: Record<string, Record<Locale, string>> = {
  complies: { ru: '', en: '' },
  not_governed: { ru: 'Этот переход регламент не регулирует.', en: 'The regulation does not govern this move.' },
  same_stage: { ru: 'Сделка осталась на том же этапе.', en: 'The deal stayed in the same stage.' },
  exempt_user: { ru: '', en: '' },
};
/** Why a booking or a release did not happen (the unit sync's outcome), said for a manager. */
const BOOKING_OUTCOME: Record<string, Record<Locale, string>> = {
  no_regulation: { ru: 'регламент для этой воронки не подключён', en: 'no regulation is bound to this pipeline' },
  no_inventory: { ru: 'система учёта объектов не подключена', en: 'no inventory system is connected' },
  unit_not_found: { ru: 'объект из поля сделки не найден в системе учёта', en: "the deal's unit is not in the inventory" },
  conflict: { ru: 'объект занят другой сделкой', en: 'the unit is held by another deal' },
  in_step: { ru: 'статус объекта уже такой', en: 'the unit already has that status' },
  written: { ru: 'статус объекта записан', en: 'the unit status was written' },
};
const bookingWhy = (outcome: string, locale: Locale) => BOOKING_OUTCOME[outcome]?.[locale] ?? outcome;

const allowedWhy = (log: string, locale: Locale) => ALLOWED_WHY[log]?.[locale] ?? (/^[a-z_]+$/.test(log) ? '' : log);

/** One line saying what the action did, from its result values (and its log line when it did nothing). */
function outcome(action: AutomationAction, result: AutomationResult, locale: Locale): string {
  const v = result.values;
  const ru = locale === 'ru';
  switch (action) {
    case 'checkTransition':
      if (yes(v.allowed)) return `${ru ? 'Переход разрешён регламентом.' : 'The move is allowed by the regulation.'} ${allowedWhy(result.log, locale)}`.trim();
      return ru ? `Переход нарушает регламент. ${v.violations ?? ''}`.trim() : `The move breaks the regulation. ${v.violations ?? ''}`.trim();
    case 'distributeLead':
      if (v.responsibleName) return ru ? `Ответственный по распределению: ${v.responsibleName}.` : `Assigned by distribution to ${v.responsibleName}.`;
      // The distribution's explanation is an English log for the operator; the manager gets the gist.
      return ru ? 'Ответственный не назначен: сейчас нет менеджера, который может взять лид (рабочее время, отпуска, дневной лимит).' : `Nobody was assigned: ${result.log.split('\n')[0]}.`;
    case 'bookUnit':
      if (yes(v.booked)) return ru ? 'Объект забронирован.' : 'The unit is booked.';
      return ru ? `Объект не забронирован: ${bookingWhy(v.outcome ?? result.log, locale)}.` : `The unit was not booked: ${bookingWhy(v.outcome ?? result.log, locale)}.`;
    case 'releaseUnit':
      if (yes(v.released)) return ru ? 'Бронь снята.' : 'The booking is released.';
      return ru ? `Бронь не снята: ${bookingWhy(v.outcome ?? result.log, locale)}.` : `The booking was not released: ${bookingWhy(v.outcome ?? result.log, locale)}.`;
    case 'renameDeal':
      return v.title ? (ru ? `Название сделки: «${v.title}».` : `Deal title: «${v.title}».`) : result.log;
  }
}

/**
 * The note an amoCRM Digital Pipeline action leaves in the lead: amoCRM waits for no answer, so
 * the outcome is written where the manager sees it ("Reglament" service note), in the account's
 * language (Russian by default).
 */
export function dpResultNote(action: AutomationAction, result: AutomationResult, locale: Locale): string {
  const head = locale === 'ru' ? `Цифровая воронка, «${actionName(action, locale)}»` : `Digital Pipeline, «${actionName(action, locale)}»`;
  return `${head}: ${outcome(action, result, locale)}`.slice(0, 2000);
}
