/**
 * The stage guard's decision, pure: given a bound regulation and one stage move, is the move
 * allowed, and if not, why (every broken rule), what the manager is told, and where the deal goes
 * back to. No I/O: the caller reads the deal, its history and the mover, and acts on the result.
 *
 * Semantics, in order:
 * 1. A move within the same stage passes (`same_stage`).
 * 2. A move into a stage the regulation does not govern passes (`not_governed`).
 * 3. Otherwise every rule is checked:
 *    - transitions, when the deal comes from a governed stage: the move must be in the
 *      allow-list and in no deny rule (a deal coming from an ungoverned stage — another
 *      funnel, a stage the preset does not know — is judged by the rules of entry only);
 *    - must-not-skip: for each rule whose `beforeEntering` holds the target, the deal's path
 *      (its history, minus entries the app reverted, plus the `from` stage) must contain the
 *      rule's stage; with `onceEntered`, only deals whose path contains one of those stages are
 *      held to it;
 *    - the target's required fields and reason field must be filled (`isFilled`).
 * 4. Broken rules by an exempt mover (settings: user ids, CRM admins, heads of sales) pass
 *    (`exempt_user`, the rules listed in `waived`); otherwise the verdict is `revert` to `from`.
 * The app's own moves are not judged here: the caller skips them.
 */
import { composeMessage, pickText, quoteList, renderTemplate } from './messages';
import type {
  BoundRegulation,
  BoundStage,
  HistoryEntry,
  Locale,
  MessageTemplates,
  Move,
  MoveDecision,
  RobotSettings,
  StageRef,
  Violation,
} from './schema';

interface RegulationIndex {
  byId: Map<string, BoundStage>;
  byKey: Map<string, BoundStage>;
}

const indexes = new WeakMap<BoundRegulation, RegulationIndex>();

/** Stage lookups for a regulation, built once per regulation object. */
export function indexRegulation(regulation: BoundRegulation): RegulationIndex {
  let index = indexes.get(regulation);
  if (!index) {
    index = {
      byId: new Map(regulation.stages.map((s) => [s.stageId, s])),
      byKey: new Map(regulation.stages.map((s) => [s.key, s])),
    };
    indexes.set(regulation, index);
  }
  return index;
}

export function stageRef(stage: BoundStage): StageRef {
  return { key: stage.key, stageId: stage.stageId, name: stage.name, role: stage.role };
}

/**
 * Decides one move.
 * @example
 * const decision = evaluateMove(regulation, {
 *   fromStageId: '31525846', toStageId: '142', fields: deal.fields,
 *   history: await crm.getStageHistory(deal), movedBy: { userId: deal.modifiedBy, isAdmin: false },
 * });
 * if (decision.verdict === 'revert') { await crm.moveDeal(deal, decision.revertTo!); await crm.addComment(deal, decision.message); }
 */
export function evaluateMove(regulation: BoundRegulation, move: Move): MoveDecision {
  const locale = move.locale ?? regulation.settings.locale;
  const index = indexRegulation(regulation);
  const from = index.byId.get(move.fromStageId) ?? null;
  const to = index.byId.get(move.toStageId) ?? null;
  const decision = (why: MoveDecision['why'], waived: Violation[] = []): MoveDecision => ({
    verdict: 'allow',
    why,
    reasons: [],
    waived,
    message: '',
    revertTo: null,
    from: from && stageRef(from),
    to: to && stageRef(to),
    locale,
  });

  if (move.fromStageId === move.toStageId) return decision('same_stage');
  if (!to) return decision('not_governed');

  const t = regulation.messages[locale];
  const violations = [
    ...transitionViolations(regulation, index, from, to, t, locale),
    ...skipViolations(regulation, index, move, from?.name ?? move.fromStageId, to, t, locale),
    ...fieldViolations(to, move.fields, t),
  ];
  if (violations.length === 0) return decision('complies');
  if (isExempt(regulation.settings, move.movedBy)) return decision('exempt_user', violations);

  return {
    verdict: 'revert',
    why: 'violations',
    reasons: violations,
    waived: [],
    message: composeManagerMessage(regulation, violations, from, to, move.fromStageId, t, locale),
    revertTo: move.fromStageId,
    from: from && stageRef(from),
    to: stageRef(to),
    locale,
  };
}

function transitionViolations(
  regulation: BoundRegulation,
  index: RegulationIndex,
  from: BoundStage | null,
  to: BoundStage,
  t: MessageTemplates,
  locale: Locale,
): Violation[] {
  if (!from) return [];
  const deny = regulation.transitions.denied.find((rule) => rule.from === from.key && rule.to.includes(to.key));
  if (deny) {
    const text = deny.explain ? pickText(deny.explain, locale) : renderTemplate(t.notAllowed, names(from, to));
    return [{ rule: 'transition_denied', from: stageRef(from), to: stageRef(to), denyRule: deny.rule, text }];
  }
  const allowedKeys = regulation.transitions.allowed[from.key] ?? [];
  if (allowedKeys.includes(to.key)) return [];
  const allowed = allowedKeys.flatMap((key) => {
    const stage = index.byKey.get(key);
    return stage ? [stageRef(stage)] : [];
  });
  return [
    {
      rule: 'transition_not_allowed',
      from: stageRef(from),
      to: stageRef(to),
      allowed,
      text: renderTemplate(t.notAllowed, names(from, to)),
    },
  ];
}

function skipViolations(
  regulation: BoundRegulation,
  index: RegulationIndex,
  move: Move,
  fromName: string,
  to: BoundStage,
  t: MessageTemplates,
  locale: Locale,
): Violation[] {
  const path = new Set<string>();
  for (const entry of move.history) {
    const id = historyStageId(entry);
    if (id !== null) path.add(id);
  }
  path.add(move.fromStageId);
  const passed = (key: string): boolean => {
    const stage = index.byKey.get(key);
    return stage !== undefined && path.has(stage.stageId);
  };

  const violations: Violation[] = [];
  for (const rule of regulation.mustNotSkip) {
    if (!rule.beforeEntering.includes(to.key)) continue;
    if (rule.onceEntered && !rule.onceEntered.some(passed)) continue;
    if (passed(rule.stage)) continue;
    const stage = index.byKey.get(rule.stage);
    if (!stage || violations.some((v) => v.rule === 'skipped_stage' && v.stage.key === stage.key)) continue;
    const text = renderTemplate(t.skippedStage, { stage: stage.name, from: fromName, to: to.name });
    violations.push({
      rule: 'skipped_stage',
      stage: stageRef(stage),
      mustNotSkipRule: rule.rule,
      text: rule.explain ? `${text}. ${pickText(rule.explain, locale)}` : text,
    });
  }
  return violations;
}

/** The stage id of a history entry, or null for an entry the app reverted. */
function historyStageId(entry: HistoryEntry): string | null {
  if (typeof entry === 'string') return entry;
  return entry.revertedByApp ? null : entry.stageId;
}

function fieldViolations(to: BoundStage, values: Move['fields'], t: MessageTemplates): Violation[] {
  const violations: Violation[] = [];
  const reasonCode = to.reasonField?.code;
  for (const field of to.requiredFields) {
    if (field.code === reasonCode || isFilled(values[field.code])) continue;
    violations.push({
      rule: 'required_field_empty',
      stage: stageRef(to),
      field,
      text: renderTemplate(t.missingField, { field: field.title, stage: to.name }),
    });
  }
  if (to.reasonField && !isFilled(values[to.reasonField.code])) {
    violations.push({
      rule: 'reason_empty',
      stage: stageRef(to),
      field: to.reasonField,
      text: renderTemplate(t.missingReason, { field: to.reasonField.title, stage: to.name }),
    });
  }
  return violations;
}

/**
 * Whether a field value counts as filled: not null/undefined, not a blank string, not `false`,
 * not an empty array/object; arrays and `{ value }` / `{ values }` wrappers (amoCRM custom field
 * values) are filled when something inside is.
 */
export function isFilled(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (typeof value === 'number') return !Number.isNaN(value);
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.some(isFilled);
  if (typeof value === 'object') {
    if ('values' in value) return isFilled(value.values);
    if ('value' in value) return isFilled(value.value);
    return Object.values(value).some(isFilled);
  }
  return true;
}

/** Whether the regulation exempts this mover from the stage guard. */
export function isExempt(settings: RobotSettings, movedBy: Move['movedBy']): boolean {
  if (!movedBy) return false;
  const { exempt, headOfSalesUserIds } = settings;
  if (movedBy.isAdmin === true && exempt.roles.includes('admin')) return true;
  if (movedBy.userId === null) return false;
  if (exempt.userIds.includes(movedBy.userId)) return true;
  return exempt.roles.includes('head_of_sales') && headOfSalesUserIds.includes(movedBy.userId);
}

function names(from: BoundStage, to: BoundStage): Record<string, string> {
  return { from: from.name, to: to.name };
}

/**
 * «Нельзя перейти из «A» в «B»: сначала этап «X». <why X>. Заполните поле «Y».»
 * Skipped stages come first (they say what to do); the generic "not provided for" clause is left
 * out when a skipped stage already explains the move.
 */
function composeManagerMessage(
  regulation: BoundRegulation,
  violations: readonly Violation[],
  from: BoundStage | null,
  to: BoundStage,
  fromStageId: string,
  t: MessageTemplates,
  locale: Locale,
): string {
  const fromName = from?.name ?? fromStageId;
  const clauses: string[] = [];

  const skipped = violations.flatMap((v) => (v.rule === 'skipped_stage' ? [v] : []));
  if (skipped.length === 1 && skipped[0]) {
    clauses.push(renderTemplate(t.skippedStage, { stage: skipped[0].stage.name, from: fromName, to: to.name }));
  } else if (skipped.length > 1) {
    clauses.push(renderTemplate(t.skippedStages, { stages: quoteList(skipped.map((v) => v.stage.name), locale), from: fromName, to: to.name }));
  }
  const explains = new Set<string>();
  for (const v of skipped) {
    const rule = regulation.mustNotSkip.find((r) => r.rule === v.mustNotSkipRule);
    if (rule?.explain) explains.add(pickText(rule.explain, locale));
  }
  clauses.push(...explains);

  for (const v of violations) {
    if (v.rule === 'transition_denied') clauses.push(v.text);
    if (v.rule === 'transition_not_allowed' && skipped.length === 0) {
      clauses.push(v.text);
      clauses.push(
        v.allowed.length > 0
          ? renderTemplate(t.allowedTargets, { from: fromName, stages: quoteList(v.allowed.map((s) => s.name), locale) })
          : renderTemplate(t.noTargets, { from: fromName }),
      );
    }
  }

  const missing = violations.flatMap((v) => (v.rule === 'required_field_empty' ? [v.field.title] : []));
  if (missing.length === 1 && missing[0] !== undefined) {
    clauses.push(renderTemplate(t.missingField, { field: missing[0], stage: to.name }));
  } else if (missing.length > 1) {
    clauses.push(renderTemplate(t.missingFields, { fields: quoteList(missing, locale), stage: to.name }));
  }
  for (const v of violations) if (v.rule === 'reason_empty') clauses.push(v.text);

  return composeMessage(renderTemplate(t.blocked, { from: fromName, to: to.name }), clauses);
}
