import type { MonthlyRating } from '../rating/monthly-rating';

/**
 * Next month's weights follow from last month's rating: the `worst.count` managers by conversion
 * to «Встреча состоялась» get `worst.factor` (default 3 × 0.5), optionally the `best.count` get
 * `best.factor`. A manager without history (a new hire, fewer than `minLeads` leads) keeps
 * factor 1. The head of sales may override any manager's factor.
 */
export interface WeightRules {
  worst: { count: number; factor: number };
  best: { count: number; factor: number };
  /** Leads a manager needs in the month to be ranked at all. */
  minLeads: number;
  /** Head-of-sales override: user id → factor (replaces the computed one). */
  overrides: Record<string, number>;
}

export interface MonthlyFactor {
  factor: number;
  reason: 'worst' | 'best' | 'override' | 'new' | 'normal';
}

export function monthlyFactors(rating: MonthlyRating | null, rules: WeightRules): Map<string, MonthlyFactor> {
  const factors = new Map<string, MonthlyFactor>();
  const ranked = (rating?.rows ?? []).filter((r) => r.conversion !== null && r.leads >= rules.minLeads);
  for (const r of rating?.rows ?? []) factors.set(r.managerId, { factor: 1, reason: ranked.includes(r) ? 'normal' : 'new' });
  // Never mark more than half the ranked team as "worst": three of four would be a punishment for all.
  const worstCount = Math.min(rules.worst.count, Math.floor(ranked.length / 2));
  const bestCount = Math.min(rules.best.count, ranked.length - worstCount);
  for (const r of ranked.slice(ranked.length - worstCount)) factors.set(r.managerId, { factor: rules.worst.factor, reason: 'worst' });
  for (const r of ranked.slice(0, bestCount)) factors.set(r.managerId, { factor: rules.best.factor, reason: 'best' });
  for (const [id, factor] of Object.entries(rules.overrides)) factors.set(id, { factor, reason: 'override' });
  return factors;
}

/** The factor of one manager: a manager the rating does not know is a new hire (1). */
export function factorOf(factors: ReadonlyMap<string, MonthlyFactor>, managerId: string): MonthlyFactor {
  return factors.get(managerId) ?? { factor: 1, reason: 'new' };
}
