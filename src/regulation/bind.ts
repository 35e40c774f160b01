/**
 * Binding: a preset (written against stage and field *names*) becomes a regulation of one
 * portal's funnel (real stage ids and field codes).
 *
 * Matching, per preset stage, in this order:
 * 1. `overrides.stages[key]`: a real stage id (or `null`: the portal has no such stage on purpose);
 * 2. the stage's `names`, tried in order, normalised (`normalizeName`), among stages whose CRM
 *    semantics fit the role (a won/lost role never binds to an in-progress stage);
 * 3. the stage's fixed `ids` (amoCRM 142/143, Bitrix24 WON/LOSE/CONVERTED/JUNK, `C<n>:` ignored).
 * A stage that matches nothing is reported (unless `optional`), a name that matches two stages is
 * reported: nothing is guessed. Fields are matched the same way (override → names → codes).
 *
 * The result is all or nothing: a bound regulation, or every error found.
 */
import type { CrmField, CrmFunnel } from '../crm/crm-port';
import { fromZodError, regulationError, type RegulationError } from './errors';
import { mergeMessages } from './messages';
import { BoundRegulationSchema, OverridesSchema, type BoundField, type BoundRegulation, type BoundStage, type OverridesInput, type Preset, type PresetInput } from './schema';
import type { OrderedStage } from './selectors';
import { checkMessagePlaceholders, presetFileLabel, validatePreset } from './validate-preset';
import { stageDef, unique, type BindContext } from './bind-context';
import { selectFunnel } from './bind-funnel';
import { bindStages } from './bind-stages';
import { bindFields } from './bind-fields';
import { applyRuleOverrides, hasRuleOverrides, relocateErrors, unknownStageRules } from './rule-overrides';
import { bindMustNotSkip, bindNextStep, bindSettings, bindTimeLimits, bindTransitions } from './bind-rules';

export type BindResult =
  | {
      ok: true;
      regulation: BoundRegulation;
      /** Things an integrator may want to know (ungoverned stages, dropped optional stages). */
      warnings: string[];
    }
  | { ok: false; errors: RegulationError[] };

export interface BindOptions {
  /** How errors name the preset; default `presets/<key>.json`. */
  presetFile?: string;
  /** How errors name the overrides; default `overrides`. */
  overridesFile?: string;
}

/**
 * Binds `preset` to one funnel of a portal.
 *
 * @param preset a preset (validated again here, so a hand-built one gets the same errors)
 * @param funnels the funnel to bind, or the portal's funnels to pick from (by
 *   `overrides.funnelId`, else by the preset's `funnel.names`, else the only funnel of the
 *   preset's entity)
 * @param fields the CRM's fields of the funnel's entity (`CrmPort.listFields`)
 * @param overrides what this installation adds (stage ids, field codes, settings, texts)
 * @example
 * const result = bindRegulation(loadPreset('amocrm-primary-market'), await crm.listFunnels(),
 *   await crm.listFields('deal'), { fields: { meeting_place: '584213' } });
 * if (!result.ok) console.error(formatRegulationErrors(result.errors));
 */
export function bindRegulation(
  preset: Preset | PresetInput,
  funnels: CrmFunnel | readonly CrmFunnel[],
  fields: readonly CrmField[],
  overrides: OverridesInput = {},
  options: BindOptions = {},
): BindResult {
  const presetResult = validatePreset(preset, options.presetFile);
  const overridesFile = options.overridesFile ?? 'overrides';
  const overridesResult = OverridesSchema.safeParse(overrides);
  const errors: RegulationError[] = [];
  if (!presetResult.ok) errors.push(...presetResult.errors);
  if (!overridesResult.success) errors.push(...fromZodError(overridesResult.error, overridesFile));
  if (!presetResult.ok || !overridesResult.success) return { ok: false, errors };

  const presetFile = options.presetFile ?? presetFileLabel(presetResult.preset.key);
  const edits = overridesResult.data;
  let effective = presetResult.preset;
  if (hasRuleOverrides(edits)) {
    // The installation's own rules (the settings page): the edited preset is checked like any preset.
    const unknown = unknownStageRules(effective, edits, overridesFile);
    const merged = validatePreset(applyRuleOverrides(effective, edits), presetFile);
    if (unknown.length || !merged.ok) return { ok: false, errors: [...unknown, ...relocateErrors(merged.ok ? [] : merged.errors, edits, presetFile, overridesFile)] };
    effective = merged.preset;
  }

  const ctx: BindContext = {
    preset: effective,
    overrides: edits,
    presetFile,
    overridesFile,
    errors: [],
    warnings: [],
  };
  const result = bind(ctx, funnels, fields);
  return result.ok ? result : { ok: false, errors: relocateErrors(result.errors, edits, presetFile, overridesFile) };
}

function bind(ctx: BindContext, funnels: CrmFunnel | readonly CrmFunnel[], fields: readonly CrmField[]): BindResult {
  checkOverrideReferences(ctx);
  const funnel = selectFunnel(ctx, funnels);
  if (!funnel) return failure(ctx);

  const stages = bindStages(ctx, funnel);
  const presentOrder: OrderedStage[] = [...stages.keys()].map((key) => ({ key, role: stageDef(ctx, key).role }));
  const mustNotSkip = bindMustNotSkip(ctx, stages, presentOrder);
  const boundFields = bindFields(ctx, stages, fields);
  const timeLimits = bindTimeLimits(ctx, stages);
  if (ctx.errors.length > 0) return failure(ctx);

  const boundStages: BoundStage[] = [...stages.entries()].map(([key, stage]) => {
    const def = stageDef(ctx, key);
    const field = (fieldKey: string): BoundField => {
      const bound = boundFields.get(fieldKey);
      if (!bound) throw new Error(`field ${fieldKey} was not bound`); // unreachable: errors returned above
      return bound;
    };
    return {
      key,
      role: def.role,
      stageId: stage.id,
      name: stage.name,
      semantics: stage.semantics,
      requiredFields: unique(def.requiredFields ?? []).map(field),
      reasonField: def.reasonField === undefined ? null : field(def.reasonField),
      timeLimit: timeLimits.get(key) ?? null,
      nextStep: bindNextStep(ctx, def.nextStep, field),
    };
  });

  const governedIds = new Set(boundStages.map((s) => s.stageId));
  const ungovernedStages = [...funnel.stages]
    .filter((s) => !governedIds.has(s.id))
    .sort((a, b) => a.sort - b.sort)
    .map((s) => ({ id: s.id, name: s.name }));
  if (ungovernedStages.length > 0) {
    ctx.warnings.push(
      `stages the regulation does not govern (moves into them always pass): ${ungovernedStages.map((s) => `«${s.name}» (${s.id})`).join(', ')}`,
    );
  }

  const regulation: BoundRegulation = BoundRegulationSchema.parse({
    preset: {
      key: ctx.preset.key,
      version: ctx.preset.version,
      title: ctx.preset.title,
      source: ctx.preset.source,
    },
    entity: ctx.preset.entity,
    funnel: { id: funnel.id, name: funnel.name },
    stages: boundStages,
    fields: [...boundFields.values()],
    transitions: bindTransitions(ctx, presentOrder),
    mustNotSkip,
    settings: bindSettings(ctx),
    messages: mergeMessages(ctx.preset.messages, ctx.overrides.messages),
    ungovernedStages,
  });
  return { ok: true, regulation, warnings: ctx.warnings };
}

function failure(ctx: BindContext): BindResult {
  return { ok: false, errors: ctx.errors };
}

function checkOverrideReferences(ctx: BindContext): void {
  const stageKeys = Object.keys(ctx.preset.stages);
  const fieldKeys = Object.keys(ctx.preset.fields);
  for (const key of Object.keys(ctx.overrides.stages ?? {})) {
    if (!stageKeys.includes(key)) {
      ctx.errors.push(
        regulationError('unknown_reference', ctx.overridesFile, ['stages', key], `the preset has no stage «${key}» (stages: ${stageKeys.join(', ')})`),
      );
    }
  }
  for (const key of Object.keys(ctx.overrides.fields ?? {})) {
    if (!fieldKeys.includes(key)) {
      ctx.errors.push(
        regulationError(
          'unknown_reference',
          ctx.overridesFile,
          ['fields', key],
          `the preset has no field «${key}» (fields: ${fieldKeys.join(', ') || 'none'})`,
        ),
      );
    }
  }
  ctx.errors.push(...checkMessagePlaceholders(ctx.overrides.messages, ctx.overridesFile));
}
