/**
 * The texts the stage guard writes for managers and heads of sales: Russian by default,
 * English available. Templates use `{placeholder}`s (see `MESSAGE_PLACEHOLDERS`); a preset or an
 * installation overrides any of them (`messages.ru.blocked`, …).
 */
import type {
  BoundRegulation,
  Locale,
  LocalizedText,
  MessageKey,
  MessageOverrides,
  MessageTemplates,
  MoveDecision,
} from './schema';
import { MESSAGE_PLACEHOLDERS } from './schema';

export const DEFAULT_MESSAGES: Readonly<Record<Locale, MessageTemplates>> = {
  ru: {
    blocked: 'Нельзя перейти из «{from}» в «{to}»',
    skippedStage: 'Сначала этап «{stage}»',
    skippedStages: 'Сначала этапы {stages}',
    notAllowed: 'Такой переход не предусмотрен регламентом',
    allowedTargets: 'Из «{from}» можно перейти в: {stages}',
    noTargets: 'Из «{from}» регламент не предусматривает переходов',
    missingField: 'Заполните поле «{field}»',
    missingFields: 'Заполните поля {fields}',
    missingReason: 'Укажите причину в поле «{field}»',
    reverted: 'Сделка возвращена на этап «{from}».',
    violationAlert: 'Менеджер {manager} сегодня нарушает регламент этапов: нарушений — {count} (порог — {threshold}).',
    meetingHeld: 'Встреча состоялась {date}, провёл {manager}.',
  },
  en: {
    blocked: 'The deal cannot move from “{from}” to “{to}”',
    skippedStage: 'It must pass the stage “{stage}” first',
    skippedStages: 'It must pass the stages {stages} first',
    notAllowed: 'The regulation does not provide for this move',
    allowedTargets: 'From “{from}” the deal may move to: {stages}',
    noTargets: 'The regulation provides no moves out of “{from}”',
    missingField: 'Fill in the field “{field}”',
    missingFields: 'Fill in the fields {fields}',
    missingReason: 'State the reason in the field “{field}”',
    reverted: 'The deal was moved back to “{from}”.',
    violationAlert: 'Manager {manager} has broken the stage regulation {count} times today (threshold: {threshold}).',
    meetingHeld: 'Meeting held on {date} by {manager}.',
  },
};

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The `{placeholders}` a template uses, in order of appearance. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** The placeholders of `template` that `key` does not provide. */
export function unknownPlaceholders(key: MessageKey, template: string): string[] {
  const known: readonly string[] = MESSAGE_PLACEHOLDERS[key];
  return placeholdersOf(template).filter((name) => !known.includes(name));
}

/** Replaces `{name}` with `params[name]`; a placeholder without a value is left as written. */
export function renderTemplate(template: string, params: Readonly<Record<string, string | number>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

/** The text for `locale`; English falls back to Russian. */
export function pickText(text: LocalizedText, locale: Locale): string {
  if (typeof text === 'string') return text;
  return locale === 'en' ? (text.en ?? text.ru) : text.ru;
}

/** «name» in Russian, “name” in English. */
export function quote(name: string, locale: Locale): string {
  return locale === 'en' ? `“${name}”` : `«${name}»`;
}

/** «a», «b», «c». */
export function quoteList(names: readonly string[], locale: Locale): string {
  return names.map((name) => quote(name, locale)).join(', ');
}

/** Defaults ← each override in turn, for both locales. */
export function mergeMessages(...overrides: ReadonlyArray<MessageOverrides | undefined>): Record<Locale, MessageTemplates> {
  const merged: Record<Locale, MessageTemplates> = { ru: { ...DEFAULT_MESSAGES.ru }, en: { ...DEFAULT_MESSAGES.en } };
  for (const override of overrides) {
    if (!override) continue;
    Object.assign(merged.ru, stripUndefined(override.ru));
    Object.assign(merged.en, stripUndefined(override.en));
  }
  return merged;
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Renders one of the regulation's templates, e.g. for the caller's notes:
 * `renderMessage(regulation, 'reverted', { from: 'Передан в работу', to: 'Договор' })`.
 */
export function renderMessage(
  regulation: BoundRegulation,
  key: MessageKey,
  params: Readonly<Record<string, string | number>>,
  locale: Locale = regulation.settings.locale,
): string {
  return renderTemplate(regulation.messages[locale][key], params);
}

/**
 * The whole text the stage guard writes into the card (and notifies) when it moves a deal back:
 * the decision's message, then the «reverted» line. `fallback` names the stages when the decision
 * does not (a move from an ungoverned stage).
 */
export function revertNote(
  regulation: BoundRegulation,
  decision: Pick<MoveDecision, 'message' | 'from' | 'to'>,
  fallback: { from: string; to: string },
  locale: Locale,
): string {
  return `${decision.message}\n${renderMessage(regulation, 'reverted', { from: decision.from?.name ?? fallback.from, to: decision.to?.name ?? fallback.to }, locale)}`;
}

/**
 * Joins clauses into the manager's message: `Head: first clause. Second clause.`
 * The first clause is lower-cased after the colon when it starts with an ordinary word.
 */
export function composeMessage(head: string, clauses: readonly string[]): string {
  if (clauses.length === 0) return terminate(head);
  const [first, ...rest] = clauses;
  return [`${head}: ${terminate(lowerFirst(first ?? ''))}`, ...rest.map(terminate)].join(' ');
}

function terminate(sentence: string): string {
  const trimmed = sentence.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function lowerFirst(sentence: string): string {
  const [a, b] = [sentence.charAt(0), sentence.charAt(1)];
  const isUpperLetter = (c: string): boolean => c !== c.toLocaleLowerCase();
  // «Сначала …» → «сначала …», «С первого звонка …» → «с первого звонка …»; «КП …» keeps its capitals.
  return isUpperLetter(a) && !isUpperLetter(b) ? a.toLocaleLowerCase() + sentence.slice(1) : sentence;
}
