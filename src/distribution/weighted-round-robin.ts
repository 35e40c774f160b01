/**
 * Who gets the next lead: smooth weighted round-robin (the way nginx balances upstreams) over
 * the managers who can take a lead now. Pure: the caller passes the managers as they are at
 * this instant (in working hours? absent? how many leads today?) and the round-robin state, and
 * stores the state it gets back.
 *
 * Smooth WRR: every candidate's `current` grows by its weight; the largest `current` wins and
 * gives back the sum of the weights. Over any window a manager's share is weight / Σ weights,
 * and picks are interleaved (weights 2:1:1 give A B A C, not A A B C).
 *
 * Fairness rules of the regulation:
 * - only candidates accumulate `current`: a manager off shift or on vacation is not "owed" leads
 *   when they come back, and an absence resets their `current` to 0;
 * - a manager who already held this lead (and missed it) is not a candidate for it again, but keeps
 *   their place in the rotation: the miss cost them their turn;
 * - nobody in working hours (a lead at night): the managers of the next shift are the candidates.
 */

export type UnavailableReason = 'absent' | 'daily_cap' | 'off_hours' | 'already_held' | 'zero_weight';

export interface ManagerSlot {
  id: string;
  name: string;
  /** Base weight (settings) × monthly factor (rating, override). */
  weight: number;
  /** Why this manager cannot take a lead now, or null. */
  unavailable: 'absent' | 'daily_cap' | 'off_hours' | null;
  /** When an off-shift manager's next shift starts (epoch ms); used when nobody is on shift. */
  nextShiftAt?: number;
  assignedToday: number;
}

export interface RoundRobinState {
  current: Record<string, number>;
}

export interface CandidateLine {
  id: string;
  name: string;
  weight: number;
  /** `current` before this pick (after adding the weight) — the number compared. */
  score: number;
  assignedToday: number;
}

export interface DistributionDecision {
  chosen: { id: string; name: string } | null;
  /** True when nobody was on shift and the next shift's managers were the candidates. */
  nextShift: boolean;
  candidates: CandidateLine[];
  skipped: Array<{ id: string; name: string; reason: UnavailableReason }>;
  state: RoundRobinState;
}

export function emptyRoundRobin(): RoundRobinState {
  return { current: {} };
}

/** Picks the manager for one lead. `exclude`: managers who already held this lead. */
export function pickManager(managers: readonly ManagerSlot[], state: RoundRobinState, exclude: readonly string[] = []): DistributionDecision {
  const skipped: DistributionDecision['skipped'] = [];
  const current: Record<string, number> = {};
  const known = new Set(managers.map((m) => m.id));
  // Forget managers who left the roster; reset the absent (a vacation owes nothing).
  for (const [id, value] of Object.entries(state.current)) {
    const m = managers.find((x) => x.id === id);
    if (known.has(id) && m?.unavailable !== 'absent') current[id] = value;
  }
  const eligible: ManagerSlot[] = [];
  for (const m of managers) {
    if (exclude.includes(m.id)) skipped.push({ id: m.id, name: m.name, reason: 'already_held' });
    else if (!(m.weight > 0)) skipped.push({ id: m.id, name: m.name, reason: 'zero_weight' });
    else if (m.unavailable && m.unavailable !== 'off_hours') skipped.push({ id: m.id, name: m.name, reason: m.unavailable });
    else eligible.push(m);
  }
  let pool = eligible.filter((m) => !m.unavailable);
  let nextShift = false;
  if (!pool.length) {
    // Nobody on shift: the lead goes to the managers whose shift starts first.
    const starts = eligible.map((m) => m.nextShiftAt ?? Number.POSITIVE_INFINITY);
    const first = Math.min(...starts);
    pool = Number.isFinite(first) ? eligible.filter((m) => m.nextShiftAt === first) : [];
    nextShift = pool.length > 0;
  }
  for (const m of eligible) if (!pool.includes(m)) skipped.push({ id: m.id, name: m.name, reason: 'off_hours' });
  if (!pool.length) return { chosen: null, nextShift: false, candidates: [], skipped, state: { current } };

  const total = pool.reduce((sum, m) => sum + m.weight, 0);
  const candidates: CandidateLine[] = pool.map((m) => {
    current[m.id] = round((current[m.id] ?? 0) + m.weight);
    return { id: m.id, name: m.name, weight: m.weight, score: current[m.id]!, assignedToday: m.assignedToday };
  });
  // Ties go to the manager with fewer leads today, then to roster order: deterministic.
  const best = candidates.reduce((a, b) => (b.score > a.score || (b.score === a.score && b.assignedToday < a.assignedToday) ? b : a));
  current[best.id] = round(current[best.id]! - total);
  return { chosen: { id: best.id, name: best.name }, nextShift, candidates, skipped, state: { current } };
}

/** "Why did Б get this lead": one line per candidate with weight, score and today's count. */
export function explainDecision(decision: DistributionDecision): string {
  const lines = decision.candidates.map((c) => `${c.name} (#${c.id}): weight ${c.weight}, score ${c.score}, leads today ${c.assignedToday}`);
  const skipped = decision.skipped.map((s) => `${s.name} (#${s.id}): ${s.reason.replace('_', ' ')}`);
  const head = decision.chosen ? `chosen ${decision.chosen.name} (#${decision.chosen.id})${decision.nextShift ? ' for the next shift' : ''}` : 'nobody can take the lead';
  return [head, ...lines.map((l) => `  candidate ${l}`), ...skipped.map((s) => `  skipped ${s}`)].join('\n');
}

/** Floating weights (0.5) accumulate; two decimals keep the state readable and stable. */
const round = (n: number) => Math.round(n * 1e6) / 1e6;
