/** The card page's own words (Russian by default, English available); the log's texts come from the server. */
export type Lang = 'ru' | 'en';

const WORDS = {
  title: ['Что сделали роботы', 'What the robots did'],
  loading: ['Загрузка…', 'Loading…'],
  empty: ['Роботы ещё ничего не делали с этой сделкой.', 'The robots have not done anything to this deal yet.'],
  undo: ['Отменить', 'Undo'],
  confirmUndo: ['Отменить действие', 'Undo the action'],
  cancel: ['Не отменять', 'Keep it'],
  reason: ['Причина (попадёт в карточку)', 'Reason (written in the card)'],
  undone: ['отменено', 'undone'],
  undoneBy: ['Отменил(а)', 'Undone by'],
  done: ['Действие отменено, сделка обновлена.', 'Undone; the deal is updated.'],
  readOnly: ['Отменять действия роботов могут администраторы и руководители отдела продаж.', 'Administrators and heads of sales may undo robot actions.'],
  noSession: ['Откройте вкладку из карточки сделки в CRM.', 'Open the tab from a deal card in the CRM.'],
  expired: ['Сессия истекла: откройте карточку заново.', 'The session expired: open the card again.'],
  failed: ['Не получилось. Попробуйте ещё раз.', 'That did not work. Try again.'],
} as const;

export function t(lang: Lang, key: keyof typeof WORDS): string {
  return WORDS[key][lang === 'ru' ? 0 : 1];
}

export function when(at: string, lang: Lang): string {
  return new Date(at).toLocaleString(lang === 'ru' ? 'ru-RU' : 'en-GB', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Moscow' });
}
