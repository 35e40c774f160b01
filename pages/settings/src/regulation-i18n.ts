/** Texts of the regulation editor and the previews (kept apart from i18n.ts so the sections merge easily). */
import type { Lang } from './i18n';

type Pair = [ru: string, en: string];

const TEXTS = {
  regulations: ['Регламенты воронок', 'Funnel regulations'],
  regulationsHelp: ['Каждая воронка CRM привязывается к регламенту: роли стадий, разрешённые переходы, обязательные поля, причины закрытия и тексты менеджерам. Сохраняется, только если всё сопоставилось.', 'Each CRM funnel is bound to a regulation: stage roles, allowed moves, required fields, closing reasons and the texts managers read. Saved only when everything binds.'],
  addFunnel: ['Привязать воронку', 'Bind a funnel'],
  preset: ['Регламент (шаблон)', 'Regulation (preset)'],
  funnel: ['Воронка', 'Funnel'],
  propose: ['Предложить сопоставление', 'Propose a binding'],
  remove: ['Убрать', 'Remove'],
  stages: ['Стадии и их роли', 'Stages and their roles'],
  stagesHelp: ['Роль предложена по названию стадии; её можно изменить.', 'The role is suggested from the stage name; you may change it.'],
  crmStage: ['Стадия CRM', 'CRM stage'],
  role: ['Роль в регламенте', 'Role in the regulation'],
  suggested: ['предложено', 'suggested'],
  notGoverned: ['— не регулируется —', '— not governed —'],
  matrix: ['Разрешённые переходы (строка: откуда, столбец: куда)', 'Allowed moves (row: from, column: to)'],
  neverSkipped: ['Этапы, которые нельзя пропустить', 'Stages never skipped'],
  neverSkippedHelp: ['Отмеченный этап сделка должна пройти, прежде чем попасть на следующие.', 'A ticked stage must be passed before any later stage.'],
  fields: ['Обязательные поля и причины закрытия', 'Required fields and closing reasons'],
  addField: ['+ поле…', '+ field…'],
  reason: ['Причина закрытия', 'Closing reason'],
  noReason: ['— не требуется —', '— not required —'],
  messages: ['Сообщения менеджеру', 'Messages to the manager'],
  messagesLocale: ['Язык сообщений', 'Language of the messages'],
  preview: ['Предпросмотр для перехода', 'Preview for a move'],
  showPreview: ['Показать', 'Show'],
  previewAllowed: ['Этот переход разрешён: сообщения не будет.', 'This move is allowed: no message.'],
  previewNote: ['Так страж стадий напишет в карточку сделки с пустыми полями:', 'What the stage guard writes into the card of a deal with empty fields:'],
  bindsOk: ['Всё сопоставлено.', 'Everything binds.'],
  bindErrors: ['Не сопоставлено — сохранить нельзя:', 'Does not bind — cannot be saved:'],
  saveRegulations: ['Сохранить регламенты', 'Save regulations'],
  stateOn: ['Включён в этом виде', 'On as shown'],
  stateDraft: ['Не включён: проверьте на истории ниже и включите', 'Not on: dry-run it below and switch it on'],
  saveHint: ['Перед первым включением проверьте регламент на истории (кнопка выше) и включите его оттуда. Эта кнопка сохраняет все вкладки сразу, без проверки.', 'Before first switching a regulation on, dry-run it on the history (the button above) and switch it on from there. This button saves all tabs at once, without a dry run.'],
  regulationsSaved: ['Регламенты сохранены и действуют со следующего перехода.', 'Regulations saved; they apply from the next move.'],
  regulationsRefused: ['Не сохранено: исправьте отмеченное. Ничего не изменилось.', 'Not saved: fix what is marked. Nothing changed.'],
  checking: ['Проверяем…', 'Checking…'],
  renamerPreview: ['Предпросмотр названия на реальной сделке', 'Title preview on a real deal'],
  recentDeal: ['Недавняя сделка', 'Recent deal'],
  dealId: ['или id сделки', 'or a deal id'],
  currentTitle: ['Сейчас', 'Now'],
  newTitle: ['Станет', 'Will be'],
  sameTitle: ['Название не изменится.', 'The title stays the same.'],
  testConnection: ['Проверить подключение', 'Test connection'],
  testUnit: ['Номер объекта для проверки (необязательно)', 'A unit number to look up (optional)'],
  testing: ['Проверяем…', 'Testing…'],
  noInventory: ['Сначала заполните подключение выше.', 'Fill in the connection above first.'],
} satisfies Record<string, Pair>;

export type RegulationText = keyof typeof TEXTS;
export const rt = (lang: Lang, key: RegulationText): string => TEXTS[key][lang === 'en' ? 1 : 0];

const MESSAGE_LABELS: Record<string, Pair> = {
  blocked: ['Заголовок: переход запрещён', 'Head: the move is blocked'],
  skippedStage: ['Пропущен этап', 'A stage was skipped'],
  skippedStages: ['Пропущены этапы', 'Stages were skipped'],
  notAllowed: ['Переход не предусмотрен', 'The move is not provided for'],
  allowedTargets: ['Куда можно перейти', 'Where the deal may go'],
  noTargets: ['Переходов нет', 'No moves out'],
  missingField: ['Не заполнено поле', 'A field is empty'],
  missingFields: ['Не заполнены поля', 'Fields are empty'],
  missingReason: ['Нет причины закрытия', 'No closing reason'],
  reverted: ['Сделка возвращена', 'The deal was moved back'],
  violationAlert: ['Оповещение РОПу', 'Alert to the heads of sales'],
  meetingHeld: ['Запись о встрече', 'Meeting note'],
};
export const messageLabel = (lang: Lang, key: string): string => MESSAGE_LABELS[key]?.[lang === 'en' ? 1 : 0] ?? key;
