/**
 * Name matching for stages, fields and funnels: what an admin types and what the CRM returns
 * differ in case, ё/е, spaces and quotes, never in words. Nothing fuzzier than this is done:
 * a name that still does not match is reported, not guessed.
 */

const QUOTES = /["'`«»„“”‘’‚‹›]/g;

/** Lower case (Russian rules), ё → е, every kind of quote removed, whitespace collapsed and trimmed. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFC')
    .toLocaleLowerCase('ru-RU')
    .replace(/ё/g, 'е')
    .replace(QUOTES, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Whether two names are the same after normalisation. */
export function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}
