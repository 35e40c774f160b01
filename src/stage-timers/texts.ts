import type { CrmActivity } from '../crm/crm-port';
import type { AttemptWindow } from '../time/no-answer-cadence';

/**
 * What managers and heads of sales read from the stage timers robot: Russian by default,
 * English with the installation's `locale`.
 */
type Locale = 'ru' | 'en';

/** "1 дн. 3 ч" / "1d 3h": durations as people read them. */
export function humanDuration(ms: number, locale: Locale): string {
  const units: Array<[number, string, string]> = [
    [86_400_000, 'дн.', 'd'],
    [3_600_000, 'ч', 'h'],
    [60_000, 'мин', 'min'],
    [1000, 'с', 's'],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, ru, en] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(locale === 'ru' ? `${n} ${ru}` : `${n}${en}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(' ') || (locale === 'ru' ? '0 с' : '0s');
}

interface DealInfo {
  title: string;
  id: string;
  stage: string;
  manager: string;
}

export const texts = {
  stuckForHead: (d: DealInfo, limit: string, l: Locale) =>
    l === 'ru'
      ? `Сделка «${d.title}» (#${d.id}) в этапе «${d.stage}» дольше ${limit}; ответственный: ${d.manager}. Похоже, с клиентом никто не работает.`
      : `Deal “${d.title}” (#${d.id}) has been in “${d.stage}” for more than ${limit}; responsible: ${d.manager}. Nobody seems to work the client.`,
  stuckForManager: (d: DealInfo, limit: string, l: Locale) =>
    l === 'ru'
      ? `Сделка «${d.title}» в этапе «${d.stage}» дольше ${limit}. По регламенту клиент не может оставаться здесь так долго: продвиньте сделку.`
      : `Deal “${d.title}” has been in “${d.stage}” for more than ${limit}. The regulation does not let a client stay here that long: move the deal on.`,
  untouched: (d: DealInfo, limit: string, l: Locale) =>
    l === 'ru'
      ? `Коснуться клиента: по сделке «${d.title}» (этап «${d.stage}») не было касаний ${limit}. По регламенту — минимум одно касание в месяц.`
      : `Touch the client: no contact on “${d.title}” (“${d.stage}”) for ${limit}. The regulation asks for at least one touch a month.`,
  feedbackTask: (l: Locale) => (l === 'ru' ? 'Получить обратную связь по КП' : 'Get feedback on the proposal'),
  meetingTask: (l: Locale) => (l === 'ru' ? 'Встреча с клиентом' : 'Meeting with the client'),
  attempt: (a: AttemptWindow, messenger: string, l: Locale) => {
    const window = a.window === 'lunch' ? (l === 'ru' ? 'в обед 13–15' : 'at lunch 13–15') : l === 'ru' ? 'вечером 19–21' : 'in the evening 19–21';
    const weekend = a.weekend ? (l === 'ru' ? ' (выходной)' : ' (weekend)') : '';
    const write = a.messenger ? (l === 'ru' ? `, написать в ${messenger}` : `, write on ${messenger}`) : '';
    return l === 'ru'
      ? `Попытка ${a.attempt} из ${a.total}: позвонить ${window}${weekend}${write}`
      : `Attempt ${a.attempt} of ${a.total}: call ${window}${weekend}${write}`;
  },
  clientAnswered: (l: Locale) =>
    l === 'ru' ? 'Клиент вышел на связь — график прозвона «Не дозвонились» остановлен.' : 'The client answered: the no-answer call schedule is stopped.',
  cadenceOver: (attempts: CrmActivity[], total: number, moved: string | null, l: Locale, timeZone: string) => {
    const when = (iso: string) => new Date(iso).toLocaleString(l === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });
    const list = attempts.length
      ? attempts.map((a) => `• ${when(a.at)} — ${a.summary}`).join('\n')
      : l === 'ru' ? '• звонков в CRM не записано' : '• no calls are recorded in the CRM';
    const head =
      l === 'ru'
        ? `Клиент не ответил за ${total} попыток (8 недель)${moved ? ` — сделка переведена в «${moved}»` : ''}. Попытки по записям CRM:`
        : `The client did not answer in ${total} attempts (8 weeks)${moved ? `: the deal is moved to “${moved}”` : ''}. Attempts as the CRM recorded them:`;
    return `${head}\n${list}`;
  },
  overloaded: (manager: string, stage: string, count: number, max: number, l: Locale) =>
    l === 'ru'
      ? `У менеджера ${manager} в этапе «${stage}» ${count} необработанных заявок (больше ${max}). Перераспределите их вручную.`
      : `${manager} has ${count} untouched leads in “${stage}” (more than ${max}). Redistribute them by hand.`,
  unassigned: (title: string, id: string, why: 'none' | 'inactive', l: Locale) =>
    l === 'ru'
      ? `Заявка «${title}» (#${id}) ${why === 'none' ? 'без ответственного' : 'закреплена за неактивным пользователем'} — назначьте менеджера.`
      : `Lead “${title}” (#${id}) ${why === 'none' ? 'has no responsible' : 'belongs to an inactive user'}: assign a manager.`,
};
