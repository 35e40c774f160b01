import type { InstallationState } from '../app';
import { computeRating, daysOf, type LeadFact, type MissFact, type MonthlyRating, type RatingFacts } from './monthly-rating';

/**
 * Where the rating's facts live in an installation's state (months are UTC "YYYY-MM", like the
 * stage guard's `meetings:<month>` and `violations:<day>`):
 *   takeover:leads:<month>   leads the takeover timer gave a manager (JSON LeadFact, newest first)
 *   takeover:misses:<month>  takeover misses (JSON MissFact)
 *   meetings:<month>         «Встреча состоялась» entered (stage guard)
 *   violations:<day>         regulation violations (stage guard)
 */
const KEEP = 100_000;
export const leadsKey = (month: string) => `takeover:leads:${month}`;
export const missesKey = (month: string) => `takeover:misses:${month}`;
export const monthOf = (at: Date) => at.toISOString().slice(0, 7);

export async function recordLeadFact(state: InstallationState, fact: LeadFact): Promise<void> {
  await state.push(leadsKey(fact.at.slice(0, 7)), JSON.stringify(fact), KEEP);
}

export async function recordMissFact(state: InstallationState, fact: MissFact): Promise<void> {
  await state.push(missesKey(fact.at.slice(0, 7)), JSON.stringify(fact), KEEP);
}

export async function readRatingFacts(state: InstallationState, month: string): Promise<RatingFacts> {
  const [leads, misses, meetings, ...violationDays] = await Promise.all([
    state.list(leadsKey(month), KEEP),
    state.list(missesKey(month), KEEP),
    state.list(`meetings:${month}`, KEEP),
    ...daysOf(month).map((d) => state.list(`violations:${d}`, 1000)),
  ]);
  return {
    leads: parseAll(leads!),
    misses: parseAll(misses!),
    meetings: parseAll(meetings!),
    violations: parseAll<{ managerId: string }>(violationDays.flat()),
  };
}

export async function ratingFor(state: InstallationState, month: string, names: ReadonlyMap<string, string>): Promise<MonthlyRating> {
  return computeRating(month, await readRatingFacts(state, month), names);
}

/**
 * A closed month's rating is read on every distribution; it is kept an hour so a busy
 * installation does not re-read a month of facts per lead.
 */
export async function cachedRating(state: InstallationState, month: string): Promise<MonthlyRating> {
  const key = `rating:cache:${month}`;
  const cached = await state.get(key);
  if (cached) return JSON.parse(cached) as MonthlyRating;
  const rating = await ratingFor(state, month, new Map());
  await state.set(key, JSON.stringify(rating), 3600);
  return rating;
}

function parseAll<T>(raw: string[]): T[] {
  const out: T[] = [];
  for (const line of raw) {
    try {
      const v = JSON.parse(line) as T & { managerId?: unknown };
      if (v && typeof v === 'object' && v.managerId !== undefined) out.push({ ...v, managerId: String(v.managerId) });
    } catch {
      // A malformed line is skipped, never fatal for the report.
    }
  }
  return out;
}
