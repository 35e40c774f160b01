/** Small helpers shared by the Bitrix24 emulator modules. */
import { randomBytes } from 'node:crypto';

/** A REST error: rendered as `{ error, error_description }` with the given HTTP status. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(`${code}: ${description}`);
  }
}

export const randomHex = (bytes = 16): string => randomBytes(bytes).toString('hex');

/** Formats a timestamp the way Bitrix24 REST does: `2024-07-22T18:00:08+02:00`. */
export function formatDateTime(ms: number, utcOffset: string): string {
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(utcOffset);
  const sign = match?.[1] === '-' ? -1 : 1;
  const offsetMin = match ? sign * (Number(match[2]) * 60 + Number(match[3])) : 0;
  const local = new Date(ms + offsetMin * 60_000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${match ? utcOffset : '+00:00'}`
  );
}

/**
 * Bitrix24 is PHP: an associative array is JSON-encoded as `[]` when empty, as a list when its keys
 * are 0..n-1 in order, and as an object otherwise. `phpArray` reproduces that for an ordered map.
 */
export function phpArray(entries: Map<string, unknown>): unknown {
  if (entries.size === 0) return [];
  const keys = [...entries.keys()];
  if (keys.every((key, index) => key === String(index))) return [...entries.values()];
  return Object.fromEntries(entries);
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Params arrive as JSON (typed) or as a form/query string (all strings): coerce leniently like PHP. */
export function toInt(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Math.trunc(Number(value));
  if (typeof value === 'boolean') return value ? 1 : 0;
  return null;
}

export function toNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** PHP-ish truthiness for flags such as `halt`, `useOriginalUfNames`, `ACTIVE`. */
export function toBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return !['', '0', 'n', 'false', 'no'].includes(value.trim().toLowerCase());
  return false;
}

/** Accepts an array or a PHP-style map (`{0: 'a', 1: 'b'}` from a form body) and returns its values. */
export function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value)) return Object.values(value);
  if (value === undefined || value === null || value === '') return [];
  return [value];
}

/** Deep equality for JSON-like values (used to detect no-op updates). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    // Compare scalars loosely the way PHP form input would ("5" vs 5).
    if ((typeof a === 'number' || typeof a === 'string') && (typeof b === 'number' || typeof b === 'string')) {
      return String(a) === String(b);
    }
    return false;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}
