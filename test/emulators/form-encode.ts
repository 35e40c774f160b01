/**
 * PHP `http_build_query` compatible form encoder, used by the CRM emulators to
 * deliver webhooks/events the way PHP back-ends (Bitrix24, amoCRM) send them:
 * `application/x-www-form-urlencoded` with nested keys in square brackets
 * (`data[FIELDS][ID]=759`, `auth[application_token]=…`).
 *
 * Mirrors PHP's default behaviour (PHP_QUERY_RFC1738):
 * - nested objects/arrays become `parent[key]`, arrays use numeric indices;
 * - keys and values are encoded with PHP `urlencode` (brackets become %5B/%5D,
 *   space becomes `+`, everything except `A-Za-z0-9-_.` is percent-encoded);
 * - `null`/`undefined` entries are omitted, as are empty arrays/objects;
 * - `true`/`false` become `1`/`0`, numbers use their decimal string form.
 *
 * Dependency-free on purpose so any emulator can import it.
 */

/** PHP `urlencode()`: RFC 1738 style, space as `+`, only `A-Za-z0-9-_.` left as is. */
export function phpUrlencode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*~]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function scalarToString(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Flattens a nested value into `[key, value]` pairs with PHP bracket keys (not yet url-encoded). */
export function toPhpPairs(obj: object): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const walk = (prefix: string, value: unknown): void => {
    if (value === null || value === undefined || typeof value === 'function') return;
    if (Array.isArray(value)) {
      value.forEach((item: unknown, index: number) => walk(`${prefix}[${index}]`, item));
      return;
    }
    if (typeof value === 'object' && !(value instanceof Date)) {
      for (const [key, item] of Object.entries(value)) walk(`${prefix}[${key}]`, item);
      return;
    }
    pairs.push([prefix, scalarToString(value)]);
  };
  for (const [key, value] of Object.entries(obj)) walk(key, value);
  return pairs;
}

/** Encodes `obj` exactly like PHP `http_build_query($obj)`. */
export function toPhpForm(obj: object): string {
  return toPhpPairs(obj)
    .map(([key, value]) => `${phpUrlencode(key)}=${phpUrlencode(value)}`)
    .join('&');
}
