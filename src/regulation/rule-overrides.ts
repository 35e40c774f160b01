/**
 * The rule edits one installation makes (what the settings page edits): `overrides.transitions`,
 * `overrides.mustNotSkip`, `overrides.stageRules` and `overrides.addFields`. They are applied to the
 * preset before it is validated and bound, so an edited regulation passes exactly the checks a
 * preset does; an error inside an edited part is reported at the override's path, not the preset's.
 */
import { regulationError, type RegulationError } from './errors';
import type { Overrides, Preset, PresetInput } from './schema';

export function hasRuleOverrides(overrides: Overrides): boolean {
  return Boolean(overrides.transitions || overrides.mustNotSkip || overrides.stageRules || overrides.addFields);
}

/** The preset with the installation's rule edits in place (each edited part replaces the preset's). */
export function applyRuleOverrides(preset: Preset, overrides: Overrides): PresetInput {
  const stages = Object.fromEntries(
    Object.entries(preset.stages).map(([key, def]) => {
      const rule = overrides.stageRules?.[key];
      if (!rule) return [key, def];
      const next = { ...def };
      if (rule.requiredFields !== undefined) {
        if (rule.requiredFields.length) next.requiredFields = rule.requiredFields;
        else delete next.requiredFields;
      }
      if (rule.reasonField === null) delete next.reasonField;
      else if (rule.reasonField !== undefined) next.reasonField = rule.reasonField;
      return [key, next];
    }),
  );
  return {
    ...preset,
    fields: { ...preset.fields, ...(overrides.addFields ?? {}) },
    stages,
    transitions: overrides.transitions ?? preset.transitions,
    mustNotSkip: overrides.mustNotSkip ?? preset.mustNotSkip,
  };
}

/** `stageRules` may only name the preset's stages. */
export function unknownStageRules(preset: Preset, overrides: Overrides, file: string): RegulationError[] {
  const keys = Object.keys(preset.stages);
  return Object.keys(overrides.stageRules ?? {})
    .filter((key) => !keys.includes(key))
    .map((key) => regulationError('unknown_reference', file, ['stageRules', key], `the preset has no stage «${key}» (stages: ${keys.join(', ')})`));
}

/** Errors the merged preset got inside an edited part point at the override that wrote it. */
export function relocateErrors(errors: readonly RegulationError[], overrides: Overrides, presetFile: string, overridesFile: string): RegulationError[] {
  return errors.map((error) => {
    if (error.file !== presetFile) return error;
    const at = (path: string): RegulationError => ({ ...error, file: overridesFile, path });
    if (overrides.transitions && /^transitions([.[]|$)/.test(error.path)) return at(error.path);
    if (overrides.mustNotSkip && /^mustNotSkip([.[]|$)/.test(error.path)) return at(error.path);
    const stage = /^stages\.([a-z][a-z0-9_]*)\.(requiredFields|reasonField)(.*)$/.exec(error.path);
    if (stage) {
      const rule = overrides.stageRules?.[stage[1]!];
      if (rule && rule[stage[2] as 'requiredFields' | 'reasonField'] !== undefined) return at(`stageRules.${stage[1]}.${stage[2]}${stage[3]}`);
    }
    const field = /^fields\.([a-z][a-z0-9_]*)(.*)$/.exec(error.path);
    if (field && overrides.addFields?.[field[1]!]) return at(`addFields.${field[1]}${field[2]}`);
    return error;
  });
}
