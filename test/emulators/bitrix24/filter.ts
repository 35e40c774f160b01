/**
 * List-method helpers: the documented filter prefixes (`>=`, `>`, `<=`, `<`, `@`, `!@`, `%`, `=%`, `%=`, `!%`,
 * `!=%`, `!%=`, `=`, `!=`, `!`), nested `logic: 'OR'` groups, `order`, and fixed 50-row paging
 * (restdocs `crm/universal/crm-item-list.md`, `settings/how-to-call-rest-api/list-methods-pecularities.md`).
 */
import { RestError, isPlainObject, toInt } from './util';

/** Maps a client field name to the row key (`null`: unknown field). */
export type FieldResolver = (name: string) => string | null;

const OPERATORS = ['!=%', '!%=', '>=', '<=', '!@', '=%', '%=', '!%', '!=', '>', '<', '@', '%', '!', '='] as const;
type Operator = (typeof OPERATORS)[number] | '';

export const PAGE_SIZE = 50;

function splitKey(key: string): { op: Operator; field: string } {
  for (const op of OPERATORS) if (key.startsWith(op)) return { op, field: key.slice(op.length) };
  return { op: '', field: key };
}

const isEmpty = (value: unknown): boolean => value === null || value === undefined || value === '' || value === 0 || value === '0';
const numeric = (value: unknown): number | null => {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return null;
};
const dateLike = (value: unknown): number | null =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value)) ? Date.parse(value) : null;

function compare(a: unknown, b: unknown): number | null {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null) return na - nb;
  const da = dateLike(a);
  const db = dateLike(b);
  if (da !== null && db !== null) return da - db;
  if (a === null || a === undefined || b === null || b === undefined) return null;
  return String(a).localeCompare(String(b));
}

function equals(a: unknown, b: unknown): boolean {
  if ((b === '' || b === null || b === false) && isEmpty(a)) return true;
  if (typeof a === 'boolean' || typeof b === 'boolean') return String(a === true ? 'Y' : a) === String(b === true ? 'Y' : b);
  return compare(a, b) === 0;
}

function like(value: unknown, pattern: string, wildcards: boolean): boolean {
  if (value === null || value === undefined) return false;
  const text = String(value).toLowerCase();
  const needle = pattern.toLowerCase();
  if (!wildcards) return text.includes(needle);
  const regex = new RegExp(`^${needle.split('%').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return regex.test(text);
}

function matchCondition(actual: unknown, op: Operator, expected: unknown): boolean {
  const values = Array.isArray(actual) ? actual : [actual];
  const expectedList = Array.isArray(expected) ? expected : isPlainObject(expected) ? Object.values(expected) : [expected];
  const any = (predicate: (value: unknown) => boolean): boolean => values.some(predicate) || (values.length === 0 && predicate(null));
  switch (op) {
    case '':
    case '=':
    case '@':
      return any((value) => expectedList.some((item) => equals(value, item)));
    case '!':
    case '!=':
    case '!@':
      return !any((value) => expectedList.some((item) => equals(value, item)));
    case '>':
    case '>=':
    case '<':
    case '<=':
      return any((value) => {
        const diff = compare(value, expected);
        if (diff === null) return false;
        return op === '>' ? diff > 0 : op === '>=' ? diff >= 0 : op === '<' ? diff < 0 : diff <= 0;
      });
    case '%':
      return any((value) => like(value, String(expected), false));
    case '=%':
    case '%=':
      return any((value) => like(value, String(expected), true));
    case '!%':
      return !any((value) => like(value, String(expected), false));
    case '!=%':
    case '!%=':
      return !any((value) => like(value, String(expected), true));
  }
}

/** `unknownField`: `error` — 400 INVALID_ARG_VALUE (crm.item.list, stagehistory); `ignore` — legacy lists. */
export function matchFilter(
  row: Record<string, unknown>,
  filter: unknown,
  resolve: FieldResolver,
  unknownField: 'error' | 'ignore',
): boolean {
  // PHP has one array type: `filter[0][…]` in a form/batch query parses to a list here, but is the
  // same keyed array as `{"0": {…}}` in JSON to Bitrix24.
  if (Array.isArray(filter)) filter = Object.fromEntries(filter.map((value, index) => [String(index), value]));
  if (!isPlainObject(filter)) return true;
  const isOr = String(filter.logic ?? 'AND').toUpperCase() === 'OR';
  const results: boolean[] = [];
  for (const [key, expected] of Object.entries(filter)) {
    if (key.toLowerCase() === 'logic') continue;
    if (/^\d+$/.test(key) && isPlainObject(expected)) {
      results.push(matchFilter(row, expected, resolve, unknownField));
      continue;
    }
    const { op, field } = splitKey(key);
    const rowKey = resolve(field);
    if (rowKey === null) {
      if (unknownField === 'error') throw new RestError(400, 'INVALID_ARG_VALUE', `Invalid filter: field '${field}' is not allowed in filter`);
      continue;
    }
    results.push(matchCondition(row[rowKey], op, expected));
  }
  if (results.length === 0) return true;
  return isOr ? results.some(Boolean) : results.every(Boolean);
}

/** Sorts by `order` (`{field: 'ASC'|'DESC'}`), then by the id key ascending. */
export function sortRows<T extends Record<string, unknown>>(rows: T[], order: unknown, resolve: FieldResolver, idKey: string): T[] {
  const keys: Array<{ key: string; dir: number }> = [];
  if (isPlainObject(order)) {
    for (const [name, direction] of Object.entries(order)) {
      const key = resolve(name);
      if (key === null) continue;
      keys.push({ key, dir: String(direction).toUpperCase() === 'DESC' ? -1 : 1 });
    }
  }
  keys.push({ key: idKey, dir: 1 });
  return [...rows].sort((a, b) => {
    for (const { key, dir } of keys) {
      const diff = compare(a[key], b[key]) ?? 0;
      if (diff !== 0) return diff * dir;
    }
    return 0;
  });
}

/** Fixed 50-row pages; `start=-1` skips the count (no `total`/`next`), as in the "huge data" recipe. */
export function paginate<T>(rows: T[], startParam: unknown): { page: T[]; total?: number; next?: number } {
  const start = toInt(startParam) ?? 0;
  if (start < 0) return { page: rows.slice(0, PAGE_SIZE) };
  const page = rows.slice(start, start + PAGE_SIZE);
  const next = start + PAGE_SIZE < rows.length ? start + PAGE_SIZE : undefined;
  return { page, total: rows.length, ...(next !== undefined ? { next } : {}) };
}

/** Keeps only selected keys (`*`/empty → all); `always` keys are kept regardless. */
export function applySelect(row: Record<string, unknown>, select: unknown, resolve: FieldResolver, always: string[]): Record<string, unknown> {
  const names = (Array.isArray(select) ? select : isPlainObject(select) ? Object.values(select) : []).map(String);
  if (names.length === 0 || names.includes('*')) return row;
  const out: Record<string, unknown> = {};
  for (const key of always) if (key in row) out[key] = row[key];
  for (const name of names) {
    const key = resolve(name);
    if (key !== null && key in row) out[key] = row[key];
  }
  return out;
}
