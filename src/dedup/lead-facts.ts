import { z } from 'zod';
import type { InstallationState } from '../app';
import { REPEAT_CLASSES, type RepeatClass } from './classify';

/**
 * Every request the duplicate catcher judged, kept so lead counts are honest: a repeat is
 * counted by its class, never as a new lead. One fact per request (`leadfact:<entity>:<id>`,
 * updated when a later judgement changes it), listed once per month of creation
 * (`leads:<YYYY-MM>`).
 */
export const leadFactSchema = z.object({
  entity: z.enum(['deal', 'lead']),
  id: z.string(),
  source: z.string(),
  class: z.enum(REPEAT_CLASSES as [RepeatClass, ...RepeatClass[]]).nullable(),
  createdAt: z.string(),
});
export type LeadFact = z.infer<typeof leadFactSchema>;

const KEEP_SECONDS = 400 * 24 * 3600;
const MONTH_LIST_MAX = 1_000_000;

export const repeatFactKey = (entity: string, id: string) => `repeat:${entity}:${id}`;

export async function recordLeadFact(state: InstallationState, fact: LeadFact): Promise<void> {
  const key = `leadfact:${fact.entity}:${fact.id}`;
  await state.set(key, JSON.stringify(fact), KEEP_SECONDS);
  if (await state.claim(`${key}:listed`, '1', KEEP_SECONDS)) await state.push(`leads:${fact.createdAt.slice(0, 7)}`, `${fact.entity}:${fact.id}`, MONTH_LIST_MAX);
}

export async function readLeadFacts(state: InstallationState, month: string): Promise<LeadFact[]> {
  const refs = [...new Set(await state.list(`leads:${month}`, MONTH_LIST_MAX))];
  const facts: LeadFact[] = [];
  for (const ref of refs) {
    const raw = await state.get(`leadfact:${ref}`);
    const parsed = raw ? leadFactSchema.safeParse(JSON.parse(raw)) : null;
    if (parsed?.success) facts.push(parsed.data);
  }
  return facts;
}

export interface SourceCount {
  source: string;
  leads: number;
  repeats: Record<RepeatClass, number>;
  genuine: number;
  budget: number | null;
  /** Budget / leads: what the ad report shows. */
  costPerLead: number | null;
  /** Budget / genuine new leads: what a new client really costs. */
  costPerGenuineLead: number | null;
}

/** Per source and in total: leads, repeats by class, genuine new leads, and their cost. Pure. */
export function countLeads(facts: LeadFact[], budgets: Record<string, number> = {}): { sources: SourceCount[]; total: SourceCount } {
  const bySource = new Map<string, LeadFact[]>();
  for (const f of facts) bySource.set(f.source, [...(bySource.get(f.source) ?? []), f]);
  for (const source of Object.keys(budgets)) if (!bySource.has(source)) bySource.set(source, []);
  const sources = [...bySource.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([source, list]) => summarise(source, list, budgets[source] ?? null));
  const totalBudget = Object.keys(budgets).length ? Object.values(budgets).reduce((a, b) => a + b, 0) : null;
  return { sources, total: summarise('total', facts, totalBudget) };
}

function summarise(source: string, list: LeadFact[], budget: number | null): SourceCount {
  const repeats = Object.fromEntries(REPEAT_CLASSES.map((c) => [c, list.filter((f) => f.class === c).length])) as Record<RepeatClass, number>;
  const genuine = list.filter((f) => f.class === null).length;
  const per = (n: number) => (budget === null || n === 0 ? null : Math.round((budget / n) * 100) / 100);
  return { source, leads: list.length, repeats, genuine, budget, costPerLead: per(list.length), costPerGenuineLead: per(genuine) };
}
