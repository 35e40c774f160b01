/**
 * The dry run of a regulation, pure: replays a stretch of a funnel's stage history under a bound
 * regulation and says which moves the stage guard would have put back, counted by rule and by
 * manager, with a few example deals per rule. No I/O: the caller reads the history, the deals and
 * the users (`src/installations/regulation-dry-run.ts`).
 *
 * What a replay can and cannot know:
 * - transitions and stages that may not be skipped are judged from the history itself (exact);
 * - the history keeps no field values: required fields and closing reasons are judged against the
 *   deals' *current* values (`fieldValues: 'current'`, a revert that only these fire is marked
 *   `basis: 'current_values'`) or not at all (`'not_replayed'`); the report says which;
 * - each move is judged as it happened: after a would-be revert the real history goes on, and a
 *   refused stage does not count as passed for the deal's later moves (as with the live guard);
 * - a CRM that does not record who moved a deal (Bitrix24 stage history) is attributed to the
 *   deal's responsible manager, and exemptions by user cannot apply (`attribution: 'responsible'`).
 */
import type { CrmUser } from '../crm/crm-port';
import { evaluateMove, indexRegulation } from './evaluate-move';
import type { BoundRegulation, HistoryEntry, Violation } from './schema';

/** One stage change as the CRM recorded it. */
export interface StageTransition {
  dealId: string;
  fromStageId: string;
  toStageId: string;
  /** ISO instant. */
  at: string;
  /** Who made the move; null when the CRM does not record it. */
  movedBy: string | null;
}

export interface DryRunDeal {
  title: string;
  responsibleId: string | null;
  /** Current field values; null when the deal could not be read (deleted since). */
  fields: Record<string, unknown> | null;
  url: string | null;
}

export interface DryRunInput {
  regulation: BoundRegulation;
  /** Oldest first. */
  transitions: readonly StageTransition[];
  /** Stages each deal passed before the first replayed transition, oldest first. */
  priorStages: Readonly<Record<string, readonly string[]>>;
  deals: Readonly<Record<string, DryRunDeal>>;
  users: readonly CrmUser[];
  fieldValues: 'current' | 'not_replayed';
  attribution: 'mover' | 'responsible';
  /**
   * Stage entries the live stage guard already refused, per deal, as it keeps them
   * (`<stageId>#<n>`: the n-th time the deal's history entered that stage). The move out of such
   * an entry is the app's own revert: it is not judged, and the refused entry does not count as passed.
   */
  appReverted?: Readonly<Record<string, readonly string[]>>;
  examplesPerRule?: number;
}

export interface DryRunExample {
  dealId: string;
  title: string;
  url: string | null;
  from: string;
  to: string;
  at: string;
}

export interface DryRunRuleCount {
  /** Stable id of the rule: `transition_not_allowed`, `transition_denied:0`, `skipped_stage:meeting_held`, `required_field_empty:unit`… */
  id: string;
  rule: Violation['rule'];
  /** The stage the rule is about (skipped stage, stage whose field is empty), by its CRM name. */
  stage: string | null;
  /** The field the rule is about, by its CRM title. */
  field: string | null;
  /** A deny rule's explanation or the first manager text seen for this rule. */
  text: string;
  /** Only checkable against current field values. */
  basis: 'history' | 'current_values';
  count: number;
  examples: DryRunExample[];
}

export interface DryRunManagerCount {
  userId: string | null;
  name: string;
  count: number;
}

export interface DryRunRevert {
  dealId: string;
  at: string;
  from: string;
  to: string;
  managerId: string | null;
  rules: string[];
  basis: 'history' | 'current_values';
}

export interface DryRunResult {
  funnel: { id: string; name: string };
  /** Transitions replayed (in the funnel, any stage). */
  transitions: number;
  /** Of them, moves into a stage the regulation governs. */
  governedMoves: number;
  /** Moves an exempt mover made that broke a rule (not reverted). */
  waived: number;
  /** The live guard's own reverts found in the history, not judged. */
  appMoves: number;
  wouldRevert: number;
  /** Of `wouldRevert`, moves that break a rule the history alone proves. */
  wouldRevertFromHistory: number;
  byRule: DryRunRuleCount[];
  byManager: DryRunManagerCount[];
  /** Every would-be revert, newest first (the caller may trim). */
  reverts: DryRunRevert[];
  fieldValues: DryRunInput['fieldValues'];
  attribution: DryRunInput['attribution'];
}

const HISTORY_RULES = new Set<Violation['rule']>(['transition_not_allowed', 'transition_denied', 'skipped_stage']);

/** Replays the transitions under the regulation (see the module comment for what is exact). */
export function replayRegulation(input: DryRunInput): DryRunResult {
  const { regulation } = input;
  const examplesPerRule = input.examplesPerRule ?? 3;
  const index = indexRegulation(regulation);
  const users = new Map(input.users.map((u) => [u.id, u]));
  const stageName = (id: string) => index.byId.get(id)?.name ?? regulation.ungovernedStages.find((s) => s.id === id)?.name ?? id;
  const notReplayed = Object.fromEntries(regulation.fields.map((f) => [f.code, 'not replayed']));

  const paths = new Map<string, Array<Exclude<HistoryEntry, string>>>();
  const seen = new Map<string, Map<string, number>>();
  /** Counts an entry of the deal's history; true when the live guard refused this very entry. */
  const enter = (dealId: string, stageId: string): boolean => {
    let counts = seen.get(dealId);
    if (!counts) seen.set(dealId, (counts = new Map()));
    const n = (counts.get(stageId) ?? 0) + 1;
    counts.set(stageId, n);
    return input.appReverted?.[dealId]?.includes(`${stageId}#${n}`) ?? false;
  };
  /** Per deal, the stage of its last entry when the live guard refused that entry. */
  const refusedEntry = new Map<string, string>();
  const pathOf = (dealId: string) => {
    let path = paths.get(dealId);
    if (!path) {
      path = (input.priorStages[dealId] ?? []).map((stageId) => ({ stageId, revertedByApp: enter(dealId, stageId) }));
      const last = path[path.length - 1];
      if (last?.revertedByApp) refusedEntry.set(dealId, last.stageId);
      paths.set(dealId, path);
    }
    return path;
  };

  const rules = new Map<string, DryRunRuleCount>();
  const managers = new Map<string, DryRunManagerCount>();
  const reverts: DryRunRevert[] = [];
  let governedMoves = 0;
  let waived = 0;
  let appMoves = 0;

  for (const t of input.transitions) {
    const deal = input.deals[t.dealId];
    const path = pathOf(t.dealId);
    const outOfRefused = refusedEntry.get(t.dealId) === t.fromStageId;
    refusedEntry.delete(t.dealId);
    const refusedByApp = enter(t.dealId, t.toStageId);
    if (refusedByApp) refusedEntry.set(t.dealId, t.toStageId);
    if (outOfRefused) {
      // The guard put the deal back out of the entry it refused: the app's move, not a manager's.
      appMoves++;
      path.push({ stageId: t.toStageId, revertedByApp: refusedByApp });
      continue;
    }
    const mover = input.attribution === 'mover' ? t.movedBy : null;
    const fields = input.fieldValues === 'current' ? (deal?.fields ?? notReplayed) : notReplayed;
    const decision = evaluateMove(regulation, {
      fromStageId: t.fromStageId,
      toStageId: t.toStageId,
      fields,
      history: path,
      movedBy: mover === null ? null : { userId: mover, isAdmin: users.get(mover)?.isAdmin ?? false },
    });
    if (decision.why !== 'same_stage' && decision.why !== 'not_governed') governedMoves++;
    if (decision.why === 'exempt_user') waived++;
    const reverted = decision.verdict === 'revert';
    path.push({ stageId: t.toStageId, revertedByApp: reverted || refusedByApp });
    if (!reverted) continue;

    const basis = decision.reasons.some((r) => HISTORY_RULES.has(r.rule)) ? 'history' : 'current_values';
    const managerId = input.attribution === 'mover' ? t.movedBy : (deal?.responsibleId ?? null);
    const example: DryRunExample = { dealId: t.dealId, title: deal?.title ?? `#${t.dealId}`, url: deal?.url ?? null, from: stageName(t.fromStageId), to: stageName(t.toStageId), at: t.at };
    const ids: string[] = [];
    for (const violation of decision.reasons) {
      const counted = ruleOf(violation);
      ids.push(counted.id);
      const known = rules.get(counted.id) ?? { ...counted, count: 0, examples: [] };
      known.count++;
      if (known.examples.length < examplesPerRule && !known.examples.some((e) => e.dealId === t.dealId)) known.examples.push(example);
      rules.set(counted.id, known);
    }
    const key = managerId ?? '';
    const manager = managers.get(key) ?? { userId: managerId, name: managerId ? (users.get(managerId)?.name || `#${managerId}`) : '—', count: 0 };
    manager.count++;
    managers.set(key, manager);
    reverts.push({ dealId: t.dealId, at: t.at, from: example.from, to: example.to, managerId, rules: ids, basis });
  }

  return {
    funnel: regulation.funnel,
    transitions: input.transitions.length,
    governedMoves,
    waived,
    appMoves,
    wouldRevert: reverts.length,
    wouldRevertFromHistory: reverts.filter((r) => r.basis === 'history').length,
    byRule: [...rules.values()].sort((a, b) => b.count - a.count || a.id.localeCompare(b.id)),
    byManager: [...managers.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
    reverts: reverts.reverse(),
    fieldValues: input.fieldValues,
    attribution: input.attribution,
  };
}

function ruleOf(v: Violation): Omit<DryRunRuleCount, 'count' | 'examples'> {
  const basis = HISTORY_RULES.has(v.rule) ? 'history' : 'current_values';
  switch (v.rule) {
    case 'transition_not_allowed':
      return { id: v.rule, rule: v.rule, stage: null, field: null, text: v.text, basis };
    case 'transition_denied':
      return { id: `${v.rule}:${v.denyRule}`, rule: v.rule, stage: v.to.name, field: null, text: v.text, basis };
    case 'skipped_stage':
      return { id: `${v.rule}:${v.stage.key}`, rule: v.rule, stage: v.stage.name, field: null, text: v.text, basis };
    case 'required_field_empty':
    case 'reason_empty':
      return { id: `${v.rule}:${v.stage.key}:${v.field.key}`, rule: v.rule, stage: v.stage.name, field: v.field.title, text: v.text, basis };
  }
}
