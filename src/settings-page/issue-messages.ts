import { z } from 'zod';
import type { SettingIssue, SettingMessages } from '../settings/installation-settings';

export type UiLang = 'ru' | 'en';

/** zod's own messages in the page's language (Russian by default). */
export function zodMessages(lang: UiLang): SettingMessages {
  return { error: (lang === 'en' ? z.locales.en() : z.locales.ru()).localeError };
}

/**
 * Messages our settings schemas word themselves (durations, schedules, user ids…) are English
 * (the settings command prints them); the page shows them in Russian by default. A message not
 * listed here is shown as written: better English than nothing.
 */
const RUSSIAN: ReadonlyArray<[RegExp, (...groups: string[]) => string]> = [
  [/^"(.*)" is not a duration like .*$/s, (v) => `«${v}» — не длительность: пишите «20s», «15m», «3d» или «1h30m» (ISO-8601 «PT15M» тоже подходит)`],
  [/^expected a duration like .*$/s, () => 'Нужна длительность: «20s», «15m», «3d» или «1h30m»'],
  [/^must be at least (.+)$/, (min) => `Не меньше ${min}`],
  [/^a CRM user id \(digits\)$/, () => 'Id пользователя CRM (цифры)'],
  [/^a CRM department id \(digits\)$/, () => 'Id отдела CRM (цифры)'],
  [/^a date "YYYY-MM-DD"$/, () => 'Дата в виде «ГГГГ-ММ-ДД»'],
  [/^"from" must not be after "to"$/, () => '«С» не может быть позже «по»'],
  [/^"(.*)" is not a window .*?; expected .*$/s, (v) => `«${v}» — не окно рабочего времени: «ЧЧ:ММ-ЧЧ:ММ <часовой пояс>, <дни>», например «09:00-18:00 Europe/Moscow, пн-пт»`],
  [/^"(.*)": hours are 00:00–24:00; expected .*$/s, (v) => `«${v}»: часы от 00:00 до 24:00`],
  [/^"(.*)": the end must be after the start .*?; expected .*$/s, (v) => `«${v}»: конец окна должен быть позже начала (окно не переходит через полночь — запишите два окна)`],
  [/^"(.*)" are not days: .*?; expected .*$/s, (v) => `«${v}» — не дни недели: «каждый день», «пн-пт», «Mon-Fri», «Mon,Wed,Fri»`],
  [/^no working hours given; expected .*$/s, () => 'Рабочее время не указано'],
  [/^"(.*)" is not an IANA time zone .*?; expected .*$/s, (v) => `«${v}» — не часовой пояс IANA (например, «Europe/Moscow», «Asia/Yekaterinburg»)`],
  [/^one time zone per schedule, got (.*?); expected .*$/s, (v) => `Один часовой пояс на расписание, указано: ${v}`],
  [/^the time zone is missing.*?; expected .*$/s, () => 'Не указан часовой пояс, например «Europe/Moscow»'],
  [/^expected the base URL, e\.g\. (.*)$/, (v) => `Нужен адрес API, например ${v}`],
  [/^must be an http\(s\) URL$/, () => 'Адрес должен начинаться с http:// или https://'],
  [/^unknown placeholder (.*?); a title may use .*$/s, (v) => `Неизвестная подстановка ${v}: в названии можно использовать {id}, {contact}, {unit}`],
  [/^no placeholder; a title may use .*$/s, () => 'Нет ни одной подстановки: используйте {id}, {contact}, {unit}'],
  [/^unknown setting "(.*?)";.*$/s, (v) => `Нет такой настройки «${v}»`],
];

export function localizeIssue(issue: SettingIssue, lang: UiLang): SettingIssue {
  if (lang === 'en') return issue;
  for (const [pattern, say] of RUSSIAN) {
    const m = pattern.exec(issue.message);
    if (m) return { path: issue.path, message: say(...m.slice(1)) };
  }
  return issue;
}
