import type { AutomationAction, AutomationResult } from './automation-call';
import { BITRIX24_ROBOTS } from './bitrix24-robot-catalog';

type Locale = 'ru' | 'en';

/** The action's name as the admin picked it (the same names as the Bitrix24 robots and the widget's list). */
function actionName(action: AutomationAction, locale: Locale): string {
  return BITRIX24_ROBOTS.find((r) => r.action === action)?.NAME[locale] ?? action;
}

const yes = (v: string | undefined) => v === 'Y';

/** One line saying what the action did, from its result values (and its log line when it did nothing). */
function outcome(action: AutomationAction, result: AutomationResult, locale: Locale): string {
  const v = result.values;
  const ru = locale === 'ru';
  switch (action) {
    case 'checkTransition':
      if (yes(v.allowed)) return ru ? `Переход разрешён регламентом. ${result.log}`.trim() : `The move is allowed by the regulation. ${result.log}`.trim();
      return ru ? `Переход нарушает регламент. ${v.violations ?? ''}`.trim() : `The move breaks the regulation. ${v.violations ?? ''}`.trim();
    case 'distributeLead':
      if (v.responsibleName) return ru ? `Ответственный по распределению: ${v.responsibleName}.` : `Assigned by distribution to ${v.responsibleName}.`;
      return ru ? `Ответственный не назначен: ${result.log}` : `Nobody was assigned: ${result.log}`;
    case 'bookUnit':
      return yes(v.booked) ? (ru ? 'Объект забронирован.' : 'The unit is booked.') : ru ? `Объект не забронирован (${v.outcome ?? result.log}).` : `The unit was not booked (${v.outcome ?? result.log}).`;
    case 'releaseUnit':
      return yes(v.released) ? (ru ? 'Бронь снята.' : 'The booking is released.') : ru ? `Бронь не снята (${v.outcome ?? result.log}).` : `The booking was not released (${v.outcome ?? result.log}).`;
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
