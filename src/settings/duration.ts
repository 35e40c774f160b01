import { z } from 'zod';

/**
 * Durations in settings read the way an integrator writes them: "20s", "15m", "3d", "1h30m"
 * (units ms, s, m, h, d, w). ISO-8601 is accepted too ("PT15M", "P3D"), without years and
 * months, whose length is not fixed. Parsed to milliseconds.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

const SHORT_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
const ISO = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export const DURATION_HINT = 'a duration like "20s", "15m", "3d" or "1h30m" (ISO-8601 "PT15M" is accepted too)';

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (!s) return null;
  if (/^P/i.test(s)) return parseIso(s.toUpperCase());
  SHORT_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = SHORT_PART.exec(s); m; m = SHORT_PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
    consumed = SHORT_PART.lastIndex;
  }
  return consumed === s.length ? Math.round(total) : null;
}

function parseIso(s: string): number | null {
  const m = ISO.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) return null;
  const [w, d, h, min, sec] = m.slice(1).map((v) => (v ? Number(v) : 0)) as [number, number, number, number, number];
  return Math.round(w * UNIT_MS.w + d * UNIT_MS.d + h * UNIT_MS.h + min * UNIT_MS.m + sec * UNIT_MS.s);
}

/** The shortest exact form: 900000 → "15m", 5400000 → "1h30m", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * UNIT_MS[unit];
  }
  return parts.join('');
}

/** A duration setting: the text as written, validated, parsed to milliseconds. */
export const durationSchema = z.string({ error: `expected ${DURATION_HINT}` }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not ${DURATION_HINT}` });
    return z.NEVER;
  }
  return ms;
});

/** A duration of at least `min` (e.g. a timer that cannot be zero). */
export function durationAtLeast(min: string) {
  const floor = parseDuration(min)!;
  return durationSchema.refine((ms) => ms >= floor, { message: `must be at least ${min}` });
}
