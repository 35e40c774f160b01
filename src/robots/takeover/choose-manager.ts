import type { InstallationState } from '../../app';
import type { CrmPort, CrmUser } from '../../crm/crm-port';
import { factorOf, monthlyFactors, type WeightRules } from '../../distribution/monthly-weights';
import { emptyRoundRobin, explainDecision, pickManager, type DistributionDecision, type ManagerSlot, type RoundRobinState } from '../../distribution/weighted-round-robin';
import type { Logger } from '../../log';
import { previousMonth } from '../../rating/monthly-rating';
import { cachedRating, monthOf } from '../../rating/rating-facts';
import { availabilityOf, buildRoster, localDay, type RosterManager, type RosterOptions, type Vacation } from '../../team/roster';

/**
 * The side-effect edge of the distribution: gathers the roster, who is away, today's counts
 * and last month's rating, asks the pure `pickManager`, and stores the round-robin state
 * (compare-and-set: two leads distributed at once never both take the same turn).
 */
export interface ChooseInput {
  crm: CrmPort;
  state: InstallationState;
  log: Logger;
  now: Date;
  rosterOptions: RosterOptions;
  vacations: readonly Vacation[];
  dailyCap: number | undefined;
  weights: WeightRules;
  /** Managers who already held this lead. */
  exclude: readonly string[];
}

export interface Choice {
  decision: DistributionDecision;
  manager: RosterManager | null;
  roster: RosterManager[];
  users: CrmUser[];
}

const RR_KEY = 'distribution:round-robin';
const todayKey = (day: string, managerId: string) => `distribution:today:${day}:${managerId}`;

export async function loadRoster(crm: CrmPort, options: RosterOptions): Promise<{ roster: RosterManager[]; users: CrmUser[] }> {
  const users = await crm.listUsers();
  return { roster: buildRoster(users, options), users };
}

export async function chooseManager(input: ChooseInput): Promise<Choice> {
  const { roster, users } = await loadRoster(input.crm, input.rosterOptions);
  const absences = await absencesOf(input, roster);
  const rating = await cachedRating(input.state, previousMonth(monthOf(input.now)));
  const factors = monthlyFactors(rating, input.weights);
  const slots: ManagerSlot[] = [];
  for (const m of roster) {
    const availability = availabilityOf(m, input.now, input.vacations, absences);
    const assignedToday = Number((await input.state.get(todayKey(localDay(m.schedule, input.now), m.id))) ?? 0);
    const capped = input.dailyCap !== undefined && assignedToday >= input.dailyCap;
    slots.push({
      id: m.id,
      name: m.name,
      weight: round(m.baseWeight * factorOf(factors, m.id).factor),
      unavailable: availability.unavailable === 'absent' ? 'absent' : capped ? 'daily_cap' : availability.unavailable,
      nextShiftAt: availability.nextShiftAt,
      assignedToday,
    });
  }
  for (let attempt = 0; ; attempt++) {
    const raw = await input.state.get(RR_KEY);
    const state: RoundRobinState = raw ? (JSON.parse(raw) as RoundRobinState) : emptyRoundRobin();
    const decision = pickManager(slots, state, input.exclude);
    if (!decision.chosen || (await input.state.compareAndSet(RR_KEY, raw, JSON.stringify(decision.state)))) {
      input.log.info({ decision: explainDecision(decision) }, 'lead distribution');
      const manager = decision.chosen ? roster.find((m) => m.id === decision.chosen!.id) ?? null : null;
      if (manager) await input.state.increment(todayKey(localDay(manager.schedule, input.now), manager.id), 2 * 86_400);
      return { decision, manager, roster, users };
    }
    if (attempt > 20) throw new Error('lead distribution: the round-robin state keeps changing under us');
  }
}

/**
 * CRM absences for the next day (a night lead goes to the morning shift). A CRM that does not
 * expose them (amoCRM; Bitrix24 without the `calendar` scope) is not asked again for a day.
 */
async function absencesOf(input: ChooseInput, roster: RosterManager[]) {
  if (await input.state.get('absences:unsupported')) return [];
  const absences = await input.crm.listAbsences(roster.map((m) => m.id), input.now, new Date(input.now.getTime() + 86_400_000)).catch((err) => {
    input.log.warn({ err }, 'absences unavailable now; app-level vacations only');
    return [];
  });
  if (absences === null) await input.state.set('absences:unsupported', '1', 86_400);
  return absences ?? [];
}

/** Counts a lead a manager received without the distribution (already assigned by hand). */
export async function countLeadToday(state: InstallationState, manager: RosterManager, now: Date): Promise<void> {
  await state.increment(todayKey(localDay(manager.schedule, now), manager.id), 2 * 86_400);
}

const round = (n: number) => Math.round(n * 1000) / 1000;
