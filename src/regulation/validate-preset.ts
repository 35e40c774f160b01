/**
 * Preset validation: the zod shape first, then what a schema cannot say — references between
 * stages, fields and rules, unique roles, name aliases, template placeholders. Every error points
 * at the exact place in the preset.
 */
import { fromZodError, regulationError, type RegulationError } from './errors';
import { unknownPlaceholders } from './messages';
import { normalizeName } from './normalize-name';
import {
  LOCALES,
  MESSAGE_KEYS,
  MESSAGE_PLACEHOLDERS,
  PresetSchema,
  STAGE_GROUP_SELECTORS,
  STAGE_ROLES,
  type MessageOverrides,
  type Preset,
  type StageRole,
  type StageSelection,
} from './schema';
import { timeLimitProblems } from './timing';
import { expandSelection, isGroupSelector, selectorsOf, type OrderedStage } from './selectors';

export type PresetResult = { ok: true; preset: Preset } | { ok: false; errors: RegulationError[] };

/** How errors name a preset: `presets/<key>.json`, as in `config/presets/`. */
export function presetFileLabel(key: string): string {
  return `presets/${key}.json`;
}

/**
 * Validates a preset (parsed JSON). `file` names it in errors; by default
 * `presets/<key>.json`.
 */
export function validatePreset(input: unknown, file?: string): PresetResult {
  const label = file ?? labelOf(input);
  const parsed = PresetSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: fromZodError(parsed.error, label) };
  const errors = checkPresetReferences(parsed.data, label);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, preset: parsed.data };
}

function labelOf(input: unknown): string {
  if (typeof input === 'object' && input !== null && 'key' in input && typeof input.key === 'string') {
    return presetFileLabel(input.key);
  }
  return 'preset';
}

/** The checks that need the whole preset. Exported for custom regulations built in code. */
export function checkPresetReferences(preset: Preset, file: string): RegulationError[] {
  const errors: RegulationError[] = [];
  const stageKeys = Object.keys(preset.stages);
  const fieldKeys = Object.keys(preset.fields);
  const ordered: OrderedStage[] = Object.entries(preset.stages).map(([key, stage]) => ({ key, role: stage.role }));
  const list = (keys: readonly string[]): string => (keys.length > 0 ? keys.join(', ') : 'none');

  // Roles: unique ones once per funnel.
  const roleOwner = new Map<StageRole, string>();
  for (const [key, stage] of Object.entries(preset.stages)) {
    const owner = roleOwner.get(stage.role);
    if (owner !== undefined && STAGE_ROLES[stage.role].unique) {
      errors.push(
        regulationError(
          'duplicate_role',
          file,
          ['stages', key, 'role'],
          `role «${stage.role}» is already used by stages.${owner}; a funnel has at most one «${stage.role}» stage`,
        ),
      );
    } else if (owner === undefined) {
      roleOwner.set(stage.role, key);
    }
  }

  // Names and fixed ids: one stage each, or a funnel stage could match two preset stages.
  const nameOwner = new Map<string, string>();
  const idOwner = new Map<string, string>();
  for (const [key, stage] of Object.entries(preset.stages)) {
    stage.names.forEach((name, i) => {
      const normal = normalizeName(name);
      const owner = nameOwner.get(normal);
      if (owner !== undefined && owner !== key) {
        errors.push(
          regulationError('duplicate_name', file, ['stages', key, 'names', i], `name «${name}» is also a name of stages.${owner}`),
        );
      } else nameOwner.set(normal, key);
    });
    (stage.ids ?? []).forEach((id, i) => {
      const owner = idOwner.get(id);
      if (owner !== undefined && owner !== key) {
        errors.push(regulationError('duplicate_name', file, ['stages', key, 'ids', i], `stage id «${id}» is also an id of stages.${owner}`));
      } else idOwner.set(id, key);
    });
  }

  // Field references.
  for (const [key, stage] of Object.entries(preset.stages)) {
    (stage.requiredFields ?? []).forEach((field, i) => {
      if (!fieldKeys.includes(field)) {
        errors.push(
          regulationError(
            'unknown_reference',
            file,
            ['stages', key, 'requiredFields', i],
            `field «${field}» is not defined in «fields» (defined: ${list(fieldKeys)})`,
          ),
        );
      }
    });
    if (stage.reasonField !== undefined && !fieldKeys.includes(stage.reasonField)) {
      errors.push(
        regulationError(
          'unknown_reference',
          file,
          ['stages', key, 'reasonField'],
          `field «${stage.reasonField}» is not defined in «fields» (defined: ${list(fieldKeys)})`,
        ),
      );
    }
  }

  // Selections in rules.
  const checkSelection = (selection: StageSelection, path: Array<string | number>, allowRelative: boolean): void => {
    selectorsOf(selection).forEach((selector, i) => {
      const at = Array.isArray(selection) ? [...path, i] : path;
      if (isGroupSelector(selector)) {
        if (!allowRelative && (selector === '@forward' || selector === '@backward')) {
          errors.push(regulationError('invalid_rule', file, at, `«${selector}» is relative to a «from» stage and cannot be used here`));
        }
      } else if (!stageKeys.includes(selector)) {
        errors.push(
          regulationError(
            'unknown_reference',
            file,
            at,
            `stage «${selector}» is not defined in «stages» (defined: ${list(stageKeys)}; groups: ${STAGE_GROUP_SELECTORS.join(', ')})`,
          ),
        );
      }
    });
  };
  preset.transitions.allow.forEach((rule, i) => {
    checkSelection(rule.from, ['transitions', 'allow', i, 'from'], false);
    checkSelection(rule.to, ['transitions', 'allow', i, 'to'], true);
  });
  (preset.transitions.deny ?? []).forEach((rule, i) => {
    checkSelection(rule.from, ['transitions', 'deny', i, 'from'], false);
    checkSelection(rule.to, ['transitions', 'deny', i, 'to'], true);
  });

  preset.mustNotSkip.forEach((rule, i) => {
    const at = ['mustNotSkip', i];
    if (!stageKeys.includes(rule.stage)) {
      errors.push(
        regulationError('unknown_reference', file, [...at, 'stage'], `stage «${rule.stage}» is not defined in «stages» (defined: ${list(stageKeys)})`),
      );
      return;
    }
    checkSelection(rule.beforeEntering, [...at, 'beforeEntering'], true);
    const before = expandSelection(rule.beforeEntering, ordered, rule.stage);
    if (before.includes(rule.stage)) {
      errors.push(regulationError('invalid_rule', file, [...at, 'beforeEntering'], `stage «${rule.stage}» cannot be required before entering itself`));
    }
    (rule.onceEntered ?? []).forEach((key, j) => {
      if (!stageKeys.includes(key)) {
        errors.push(
          regulationError('unknown_reference', file, [...at, 'onceEntered', j], `stage «${key}» is not defined in «stages» (defined: ${list(stageKeys)})`),
        );
      } else if (before.includes(key) || key === rule.stage) {
        errors.push(
          regulationError('invalid_rule', file, [...at, 'onceEntered', j], `stage «${key}» cannot be both a condition and a target of the rule`),
        );
      }
    });
  });

  errors.push(...checkMessagePlaceholders(preset.messages, file));
  errors.push(...checkStageTiming(preset, file));

  return errors;
}

/** Time limits that cannot work (an escalation before the limit, reminders every second) and next steps naming unknown fields. */
function checkStageTiming(preset: Preset, file: string): RegulationError[] {
  const errors: RegulationError[] = [];
  const fieldKeys = Object.keys(preset.fields);
  for (const [key, stage] of Object.entries(preset.stages)) {
    if (stage.timeLimit) {
      for (const p of timeLimitProblems(stage.timeLimit)) errors.push(regulationError('invalid_rule', file, ['stages', key, 'timeLimit', ...p.path], p.message));
    }
    if (stage.nextStep?.kind === 'meeting' && !fieldKeys.includes(stage.nextStep.dateField)) {
      errors.push(
        regulationError('unknown_reference', file, ['stages', key, 'nextStep', 'dateField'], `field «${stage.nextStep.dateField}» is not defined in «fields» (defined: ${fieldKeys.join(', ') || 'none'})`),
      );
    }
  }
  return errors;
}

function braces(names: readonly string[]): string {
  return names.map((name) => `{${name}}`).join(', ');
}

/** Templates may only use the placeholders their key provides. */
export function checkMessagePlaceholders(messages: MessageOverrides | undefined, file: string): RegulationError[] {
  const errors: RegulationError[] = [];
  for (const locale of LOCALES) {
    const templates = messages?.[locale];
    if (!templates) continue;
    for (const key of MESSAGE_KEYS) {
      const template = templates[key];
      if (template === undefined) continue;
      const unknown = unknownPlaceholders(key, template);
      if (unknown.length > 0) {
        errors.push(
          regulationError(
            'unknown_placeholder',
            file,
            ['messages', locale, key],
            `unknown placeholder ${braces(unknown)} (this text may use ${braces(MESSAGE_PLACEHOLDERS[key])})`,
          ),
        );
      }
    }
  }
  return errors;
}
