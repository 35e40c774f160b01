import type { Identity } from './communications';
import type { RepeatClass } from './classify';

/**
 * What managers read about a repeat, in Russian by default (English available). Pure.
 * The lead's card says what happened to it and what was added to the client; the active deal's
 * card says the client called again and from where; its manager is asked to call back.
 */
export interface RepeatFacts {
  cls: RepeatClass;
  client: string;
  /** The deal (or first request) the repeat belongs to. */
  targetId: string | null;
  targetIsRequest: boolean;
  manager: string | null;
  /** The status the new request was closed with, as the CRM names it. */
  status: string;
  requestId: string;
  source: string | null;
  matchedBy: Identity[];
  added: Identity[];
  /** How the CRM calls the request: a Bitrix24 «лид», an amoCRM «сделка». */
  requestIsLead: boolean;
}

type Locale = 'ru' | 'en';

const KIND = {
  ru: { phone: 'телефон', email: 'e-mail', messenger: 'мессенджер' },
  en: { phone: 'phone', email: 'e-mail', messenger: 'messenger' },
} as const;

export function channelText(matchedBy: Identity[], locale: Locale): string {
  return matchedBy.map((i) => `${KIND[locale][i.kind]} ${i.raw.trim()}`).join(', ') || '—';
}

function addedText(added: Identity[], locale: Locale): string {
  if (!added.length) return '';
  const list = added.map((i) => `${KIND[locale][i.kind]} ${i.raw.trim()}`).join(', ');
  return locale === 'ru' ? `; ${list} ${added.length > 1 ? 'добавлены' : 'добавлен'} в контакт` : `; ${list} added to the contact`;
}

/** The comment on the closed request. */
export function requestComment(f: RepeatFacts, locale: Locale): string {
  const who = f.manager ?? '—';
  const added = addedText(f.added, locale);
  if (locale === 'en') {
    const head = {
      agent: `Request from agent ${f.client}${f.targetId ? ` (deal №${f.targetId}, responsible ${who})` : ''}`,
      new_contact_of_active_client: `Repeat request from client ${f.client} with active deal №${f.targetId} (responsible ${who})`,
      existing_buyer: `Repeat request from buyer ${f.client} (deal №${f.targetId}, responsible ${who})`,
      double_submission: `Second submission: request №${f.targetId} from the same person is still open (responsible ${who})`,
    }[f.cls];
    return `${head}: closed as «${f.status}»${added}. Not counted as a new lead.`;
  }
  const head = {
    agent: `Обращение агента ${f.client}${f.targetId ? ` (сделка №${f.targetId}, ответственный ${who})` : ''}`,
    new_contact_of_active_client: `Повторное обращение клиента ${f.client} с активной сделкой №${f.targetId} (ответственный ${who})`,
    existing_buyer: `Повторное обращение клиента ${f.client} — дольщик (сделка №${f.targetId}, ответственный ${who})`,
    double_submission: `Повторная заявка: заявка №${f.targetId} от того же человека ещё открыта (ответственный ${who})`,
  }[f.cls];
  return `${head}: ${f.requestIsLead ? 'лид закрыт' : 'сделка закрыта'} как «${f.status}»${added}. Не считается новым лидом.`;
}

/** The comment on the active deal (or the first request). */
export function targetComment(f: RepeatFacts, locale: Locale): string {
  const channel = channelText(f.matchedBy, locale);
  const source = f.source ?? '—';
  if (locale === 'en') return `The client contacted us again: source ${source}, channel ${channel}. Request №${f.requestId} was closed as «${f.status}».`;
  return `Клиент обратился повторно: источник ${source}, канал ${channel}. Заявка №${f.requestId} закрыта как «${f.status}».`;
}

/** The notification to the manager who owns the client. */
export function managerNotice(f: RepeatFacts, locale: Locale): string {
  const channel = channelText(f.matchedBy, locale);
  if (locale === 'en') return `Your client ${f.client} contacted us again (${channel}, request №${f.requestId}). Please call back: deal №${f.targetId}.`;
  return `Ваш клиент ${f.client} обратился повторно (${channel}, заявка №${f.requestId}). Перезвоните ему: сделка №${f.targetId}.`;
}
