import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * Working hours, written the way a head of sales says them:
 *   "09:00-21:00 Europe/Moscow, every day"   (the default)
 *   "09:00-18:00 Europe/Moscow, Mon-Fri; 10:00-16:00 Sat"
 *   "24/7"
 * Windows are separated by ";". Each is "HH:MM-HH:MM", optionally the IANA time zone (given
 * once, or repeated identically), optionally ", <days>": "every day", "Mon-Fri", "Mon,Wed,Fri"
 * (Russian "пн-пт" too). Days default to every day. The end may be "24:00"; a window does not
 * cross midnight (write two windows instead).
 */
export const DEFAULT_SCHEDULE = '09:00-21:00 Europe/Moscow, every day';

export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7; // ISO: 1 = Monday
export interface WorkWindow {
  days: Weekday[];
  /** Minutes since local midnight. */
  from: number;
  to: number;
}
export type Schedule = { kind: 'always'; text: string } | { kind: 'weekly'; text: string; timeZone: string; windows: WorkWindow[] };

const DAY_NAMES: Record<string, Weekday> = {
  mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7,
  пн: 1, вт: 2, ср: 3, чт: 4, пт: 5, сб: 6, вс: 7,
};
const EVERY_DAY: Weekday[] = [1, 2, 3, 4, 5, 6, 7];
// "HH:MM-HH:MM", then an optional zone ("Area/City" or UTC), then optional days (with or without a comma).
const WINDOW = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(?:\s+((?:[A-Za-z_]+\/[A-Za-z0-9_+\/-]+)|UTC))?\s*(?:,?\s*(\S.*))?$/;

export const SCHEDULE_HINT = `working hours like "${DEFAULT_SCHEDULE}", "09:00-18:00 Europe/Moscow, Mon-Fri; 10:00-16:00 Sat" or "24/7"`;

export type ScheduleParse = { ok: true; schedule: Schedule } | { ok: false; error: string };

export function parseSchedule(input: string): ScheduleParse {
  const text = input.trim();
  if (/^24\s*\/\s*7$/.test(text)) return { ok: true, schedule: { kind: 'always', text } };
  const windows: WorkWindow[] = [];
  const zones = new Set<string>();
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = WINDOW.exec(part);
    if (!m) return { ok: false, error: `"${part}" is not a window "HH:MM-HH:MM <time zone>, <days>"` };
    const from = minutes(m[1]!, m[2]!);
    const to = minutes(m[3]!, m[4]!);
    if (from === null || to === null) return { ok: false, error: `"${part}": hours are 00:00–24:00` };
    if (to <= from) return { ok: false, error: `"${part}": the end must be after the start (a window does not cross midnight; write two windows)` };
    if (m[5]) zones.add(m[5]);
    const days = m[6] ? parseDays(m[6]) : EVERY_DAY;
    if (!days) return { ok: false, error: `"${m[6]}" are not days: use "every day", "Mon-Fri", "Mon,Wed,Fri" or "пн-пт"` };
    windows.push({ days, from, to });
  }
  if (!windows.length) return { ok: false, error: 'no working hours given' };
  if (zones.size !== 1) return { ok: false, error: zones.size ? `one time zone per schedule, got ${[...zones].join(', ')}` : 'the time zone is missing, e.g. "Europe/Moscow"' };
  const timeZone = [...zones][0]!;
  if (!IANAZone.isValidZone(timeZone)) return { ok: false, error: `"${timeZone}" is not an IANA time zone (e.g. "Europe/Moscow", "Asia/Yekaterinburg")` };
  return { ok: true, schedule: { kind: 'weekly', text, timeZone, windows } };
}

function minutes(h: string, m: string): number | null {
  const hours = Number(h);
  const mins = Number(m);
  if (mins > 59 || hours > 24 || (hours === 24 && mins > 0)) return null;
  return hours * 60 + mins;
}

function parseDays(text: string): Weekday[] | null {
  const t = text.trim().toLowerCase();
  if (t === 'every day' || t === 'daily' || t === 'ежедневно' || t === 'каждый день') return EVERY_DAY;
  const days = new Set<Weekday>();
  for (const item of t.split(',').map((s) => s.trim())) {
    const range = item.split('-').map((s) => DAY_NAMES[s.trim().slice(0, 3)] ?? DAY_NAMES[s.trim().slice(0, 2)]);
    if (range.length === 1 && range[0]) days.add(range[0]);
    else if (range.length === 2 && range[0] && range[1]) {
      for (let d = range[0]; ; d = ((d % 7) + 1) as Weekday) {
        days.add(d);
        if (d === range[1]) break;
      }
    } else return null;
  }
  return [...days].sort();
}

/** A schedule setting: the text as written, validated, parsed. */
export const scheduleSchema = z.string({ error: `expected ${SCHEDULE_HINT}` }).transform((text, ctx) => {
  const parsed = parseSchedule(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `${parsed.error}; expected ${SCHEDULE_HINT}` });
    return z.NEVER;
  }
  return parsed.schedule;
});
