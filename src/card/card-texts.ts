import type { RobotAction } from '../app';
import type { UndoPlan } from './undo-plan';

/**
 * What the card shows and writes, in the manager's language (Russian by default, English available):
 * the robots' names, what each kind of action was, and the undo's comment in the card's timeline.
 */
export type CardLang = 'ru' | 'en';

const ROBOTS: Record<string, [string, string]> = {
  stageGuard: ['Страж стадий', 'Stage guard'],
  takeoverTimer: ['Таймер взятия в работу', 'Takeover timer'],
  duplicateCatcher: ['Ловец дублей', 'Duplicate catcher'],
  dealRenamer: ['Название сделки', 'Deal renamer'],
  stageTimers: ['Сроки стадий', 'Stage timers'],
  bookingReleaser: ['Снятие брони', 'Booking releaser'],
  unitStatusSync: ['Статусы объектов', 'Unit status sync'],
  automationActions: ['Действия автоматизации', 'Automation actions'],
};

/** Bitrix24 leads are «лид» (amoCRM leads are `deal` here, and amoCRM calls them «сделка»). */
const LEAD_KINDS: Record<string, [string, string]> = {
  stage_reverted: ['Вернул лид на прежнюю стадию', 'Moved the lead back to its previous stage'],
  reassigned: ['Передал лид другому менеджеру', 'Handed the lead to another manager'],
};

const KINDS: Record<string, [string, string]> = {
  stage_reverted: ['Вернул сделку на прежнюю стадию', 'Moved the deal back to its previous stage'],
  reassigned: ['Передал сделку другому менеджеру', 'Handed the deal to another manager'],
  closed_as_repeat: ['Закрыл обращение как повторное', 'Closed the request as a repeat'],
  renamed: ['Переименовал сделку', 'Renamed the deal'],
  distributed: ['Назначил ответственного', 'Assigned the responsible manager'],
  undone: ['Действие робота отменено', 'A robot action was undone'],
};

export const robotTitle = (robot: string, lang: CardLang) => ROBOTS[robot]?.[lang === 'ru' ? 0 : 1] ?? robot;

/** The headline of a row: the kind in words, else the robot's own summary (English, technical). */
export function actionTitle(action: RobotAction, lang: CardLang): string {
  const known = action.kind ? ((action.target.entity === 'lead' ? LEAD_KINDS[action.kind] : undefined) ?? KINDS[action.kind]) : undefined;
  return known ? known[lang === 'ru' ? 0 : 1] : action.summary.split('\n')[0]!;
}

export interface UndoNames {
  /** The stage / manager the deal goes back to, and the one the robot left it at, by name. */
  to: string;
  left: string;
  by: string;
}

/** The comment the undo leaves in the card's timeline (the installation's language; Russian by default). */
export function undoComment(plan: UndoPlan, names: UndoNames, robot: string, reason: string | undefined, lang: CardLang, entity: 'deal' | 'lead' = 'deal'): string {
  const ru = lang === 'ru';
  const lead = entity === 'lead';
  const head = ru ? `${names.by} отменил(а) действие робота «${robotTitle(robot, 'ru')}».` : `${names.by} undid the action of the robot “${robotTitle(robot, 'en')}”.`;
  const what = {
    stage: ru
      ? `${lead ? 'Лид возвращён' : 'Сделка возвращена'} на стадию «${names.to}», выбранную менеджером (робот перевёл ${lead ? 'его' : 'её'} на «${names.left}»).`
      : `The ${lead ? 'lead' : 'deal'} is back at “${names.to}”, the stage the manager had chosen (the robot moved it to “${names.left}”).`,
    responsible: ru ? `Ответственным снова назначен(а) ${names.to} (робот передал ${lead ? 'лид' : 'сделку'}: ${names.left}).` : `${names.to} is the responsible manager again (the robot had handed the ${lead ? 'lead' : 'deal'} to ${names.left}).`,
    reopen: ru
      ? `Обращение открыто снова на стадии «${names.to}» (робот закрыл его как повторное: «${names.left}»). Привязка к контакту клиента и дописанные в контакт телефоны и почта остаются; объединение контактов в CRM отменить нельзя.`
      : `The request is open again at “${names.to}” (the robot had closed it as a repeat: “${names.left}”). The link to the client's contact and the phones and e-mails added to it stay; a contact merge in the CRM cannot be undone.`,
  }[plan.kind];
  const why = reason ? (ru ? `Причина: ${reason}` : `Reason: ${reason}`) : '';
  return [head, what, why].filter(Boolean).join('\n');
}

/** Why an undo was refused, for the card (the API's `error` code → words). */
export const UNDO_REFUSALS: Record<string, [string, string]> = {
  already_undone: ['Это действие уже отменено.', 'This action is already undone.'],
  deal_changed_since: ['Сделку уже изменили после робота: отмена не нужна или сделайте её вручную.', 'The deal changed after the robot: undo it by hand if still needed.'],
  not_undoable: ['Это действие нельзя отменить.', 'This action cannot be undone.'],
  undo_in_progress: ['Отмена уже выполняется.', 'The undo is already running.'],
};
