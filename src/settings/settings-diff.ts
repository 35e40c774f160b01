import { isPlainObject, maskSecrets } from './installation-settings';

/**
 * One changed setting: its dotted path in the stored overrides and the value before and after,
 * secrets masked the way the settings page shows them («••••1234»). An absent `before`/`after`
 * means "not set here" — the shipped default applies.
 */
export interface SettingChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/**
 * What changed between two stored settings (the installation's overrides), leaf by leaf: objects
 * are walked key by key, anything else (lists included, e.g. the regulations) is compared whole.
 * Paths come out sorted; nothing changed → `[]`.
 */
export function diffSettings(before: Record<string, unknown>, after: Record<string, unknown>): SettingChange[] {
  const changes: SettingChange[] = [];
  walk(before, after, [], changes);
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function walk(before: unknown, after: unknown, path: string[], out: SettingChange[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) walk(before[key], after[key], [...path, key], out);
    return;
  }
  if (jsonEqual(before, after)) return;
  // An object appearing or disappearing: one change per leaf, so every path reads like the page's fields.
  if ((isPlainObject(before) && after === undefined) || (before === undefined && isPlainObject(after))) {
    const present = (before ?? after) as Record<string, unknown>;
    if (Object.keys(present).length) {
      for (const key of Object.keys(present)) walk(before === undefined ? undefined : present[key], after === undefined ? undefined : present[key], [...path, key], out);
      return;
    }
  }
  const key = path.at(-1);
  out.push({
    path: path.join('.'),
    ...(before === undefined ? {} : { before: maskSecrets(before, key) }),
    ...(after === undefined ? {} : { after: maskSecrets(after, key) }),
  });
}

/**
 * Equality of JSON data by value: lists item by item, objects key by key (in any order). Not
 * `isDeepStrictEqual`, which also compares prototypes — a list cloned in another realm is the same setting.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    return keys.length === Object.keys(b).filter((k) => b[k] !== undefined).length && keys.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}
