/**
 * The monthly manager rating (seed 002: "at month end the head of sales ranks managers by
 * conversion to a meeting or showing; the 3 worst get fewer new leads next month"). Pure: computed
 * from facts the robots record — leads the takeover timer gave a manager, takeover misses,
 * «Встреча состоялась» entered (stage guard), regulation violations (stage guard).
 */

export interface LeadFact {
  managerId: string;
  entity: string;
  dealId: string;
  at: string;
}
export interface MeetingFact {
  managerId: string;
  dealId: string;
  at: string;
}
export interface MissFact {
  managerId: string;
  entity: string;
  dealId: string;
  at: string;
}
export interface ViolationFact {
  managerId: string;
}

export interface RatingFacts {
  leads: LeadFact[];
  meetings: MeetingFact[];
  misses: MissFact[];
  violations: ViolationFact[];
}

export interface RatingRow {
  managerId: string;
  name: string;
  /** Leads given to the manager and not missed (a missed lead is counted in `misses` instead). */
  leads: number;
  meetings: number;
  /** meetings / leads, or null without leads (no history: not ranked). */
  conversion: number | null;
  misses: number;
  violations: number;
}

export interface MonthlyRating {
  month: string;
  rows: RatingRow[];
}

/** Rows ordered best first: conversion, then fewer misses, then fewer violations; managers without leads last. */
export function computeRating(month: string, facts: RatingFacts, names: ReadonlyMap<string, string>): MonthlyRating {
  const rows = new Map<string, RatingRow>();
  const row = (id: string) => {
    let r = rows.get(id);
    if (!r) rows.set(id, (r = { managerId: id, name: names.get(id) ?? `#${id}`, leads: 0, meetings: 0, conversion: null, misses: 0, violations: 0 }));
    return r;
  };
  const missed = new Set(facts.misses.map((m) => `${m.managerId}|${m.entity}|${m.dealId}`));
  const counted = new Set<string>();
  for (const lead of facts.leads) {
    const key = `${lead.managerId}|${lead.entity}|${lead.dealId}`;
    if (missed.has(key) || counted.has(key)) continue;
    counted.add(key);
    row(lead.managerId).leads++;
  }
  const meetingDeals = new Set<string>();
  for (const m of facts.meetings) {
    // A deal that re-enters «Встреча состоялась» is one meeting.
    if (meetingDeals.has(`${m.managerId}|${m.dealId}`)) continue;
    meetingDeals.add(`${m.managerId}|${m.dealId}`);
    row(m.managerId).meetings++;
  }
  for (const m of facts.misses) row(m.managerId).misses++;
  for (const v of facts.violations) row(v.managerId).violations++;
  for (const r of rows.values()) r.conversion = r.leads > 0 ? Math.min(1, r.meetings / r.leads) : null;
  return { month, rows: [...rows.values()].filter((r) => r.managerId !== 'unknown').sort(byRank) };
}

function byRank(a: RatingRow, b: RatingRow): number {
  if (a.conversion === null || b.conversion === null) return a.conversion === null ? (b.conversion === null ? a.name.localeCompare(b.name) : 1) : -1;
  return b.conversion - a.conversion || a.misses - b.misses || a.violations - b.violations || a.name.localeCompare(b.name);
}

/** The previous calendar month of `month` ("2026-12" → "2026-11"). */
export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

export const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Every day of a month, "YYYY-MM-DD" (violations are kept per day). */
export function daysOf(month: string): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return Array.from({ length: days }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}
