/** The rules between bound stages (transitions, stages never skipped), their timing, and the robot settings. */
import type { FunnelStage } from '../crm/crm-port';
import { regulationError } from './errors';
import { RobotSettingsSchema, type BoundDenyRule, type BoundField, type BoundMustNotSkip, type BoundRegulation, type RobotSettings } from './schema';
import { expandSelection, type OrderedStage } from './selectors';
import { bindTimeLimit, mergeTimeLimit, timeLimitProblems, type BoundNextStep, type BoundTimeLimit, type PresetNextStep } from './timing';
import { stageDef, type BindContext } from './bind-context';

export function bindMustNotSkip(ctx: BindContext, stages: Map<string, FunnelStage>, order: readonly OrderedStage[]): BoundMustNotSkip[] {
  const rules: BoundMustNotSkip[] = [];
  ctx.preset.mustNotSkip.forEach((rule, index) => {
    if (!stages.has(rule.stage)) {
      if (ctx.errors.some((e) => e.path === `stages.${rule.stage}`)) return; // already reported
      const nulled = ctx.overrides.stages?.[rule.stage] === null;
      ctx.errors.push(
        regulationError(
          'stage_required',
          nulled ? ctx.overridesFile : ctx.presetFile,
          nulled ? ['stages', rule.stage] : ['mustNotSkip', index, 'stage'],
          `stage «${stageDef(ctx, rule.stage).names[0] ?? rule.stage}» must never be skipped (mustNotSkip[${index}]), so the funnel must have it; map it with overrides.stages.${rule.stage}`,
        ),
      );
      return;
    }
    const beforeEntering = expandSelection(rule.beforeEntering, order, rule.stage);
    const onceEntered = rule.onceEntered ? rule.onceEntered.filter((key) => stages.has(key)) : null;
    if (beforeEntering.length === 0 || (onceEntered !== null && onceEntered.length === 0)) {
      ctx.warnings.push(`mustNotSkip[${index}] is dropped: the funnel has none of the stages it is about`);
      return;
    }
    rules.push({ rule: index, stage: rule.stage, beforeEntering, onceEntered, explain: rule.explain ?? null });
  });
  return rules;
}

export function bindTransitions(ctx: BindContext, order: readonly OrderedStage[]): BoundRegulation['transitions'] {
  const allowed = new Map<string, Set<string>>(order.map((s) => [s.key, new Set<string>()]));
  for (const rule of ctx.preset.transitions.allow) {
    for (const from of expandSelection(rule.from, order)) {
      for (const to of expandSelection(rule.to, order, from)) {
        if (to !== from) allowed.get(from)?.add(to);
      }
    }
  }
  const denied: BoundDenyRule[] = [];
  (ctx.preset.transitions.deny ?? []).forEach((rule, index) => {
    for (const from of expandSelection(rule.from, order)) {
      const to = expandSelection(rule.to, order, from).filter((key) => key !== from);
      if (to.length === 0) continue;
      denied.push({ rule: index, from, to, explain: rule.explain ?? null });
      for (const key of to) allowed.get(from)?.delete(key);
    }
  });
  const keys = order.map((s) => s.key);
  return {
    allowed: Object.fromEntries(
      [...allowed.entries()].map(([from, to]) => [from, keys.filter((key) => to.has(key))]),
    ),
    denied,
  };
}

/** The preset's limits with the installation's changes (`overrides.timeLimits`), checked where they were written. */
export function bindTimeLimits(ctx: BindContext, stages: Map<string, FunnelStage>): Map<string, BoundTimeLimit> {
  const bound = new Map<string, BoundTimeLimit>();
  const changes = ctx.overrides.timeLimits ?? {};
  for (const key of Object.keys(changes)) {
    if (!(key in ctx.preset.stages)) {
      ctx.errors.push(regulationError('unknown_reference', ctx.overridesFile, ['timeLimits', key], `the preset has no stage «${key}» (stages: ${Object.keys(ctx.preset.stages).join(', ')})`));
    }
  }
  for (const key of stages.keys()) {
    const base = stageDef(ctx, key).timeLimit;
    const change = changes[key];
    if (change === null || (!base && change === undefined)) continue;
    if (change === undefined) {
      bound.set(key, bindTimeLimit(base!));
      continue;
    }
    const merged = mergeTimeLimit(base, change);
    if (!merged) {
      ctx.errors.push(regulationError('invalid_shape', ctx.overridesFile, ['timeLimits', key, 'maxTime'], `stage «${key}» has no time limit in the preset: give its maxTime (e.g. "1d")`));
      continue;
    }
    const problems = timeLimitProblems(merged);
    for (const p of problems) ctx.errors.push(regulationError('invalid_rule', ctx.overridesFile, ['timeLimits', key, ...p.path], p.message));
    if (!problems.length) bound.set(key, bindTimeLimit(merged));
  }
  return bound;
}

export function bindNextStep(ctx: BindContext, step: PresetNextStep | undefined, field: (key: string) => BoundField): BoundNextStep | null {
  if (!step) return null;
  if (step.kind === 'feedback') return { kind: 'feedback', dueMs: step.due };
  const date = field(step.dateField);
  return { kind: 'meeting', dateFieldCode: date.code, dateFieldTitle: date.title };
}

export function bindSettings(ctx: BindContext): RobotSettings {
  const base = ctx.preset.settings;
  const patch = ctx.overrides.settings ?? {};
  return RobotSettingsSchema.parse({
    locale: patch.locale ?? base.locale,
    violationAlertThreshold: patch.violationAlertThreshold ?? base.violationAlertThreshold,
    headOfSalesUserIds: patch.headOfSalesUserIds ?? base.headOfSalesUserIds,
    exempt: {
      userIds: patch.exempt?.userIds ?? base.exempt.userIds,
      roles: patch.exempt?.roles ?? base.exempt.roles,
    },
  });
}
