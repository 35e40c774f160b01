/** A preset (`config/presets/*.json`), written against stage and field names, and what one installation overrides. */
import { z } from 'zod';
import { PresetNextStepSchema, PresetTimeLimitSchema, TimeLimitOverrideSchema } from './timing';
import { EntitySchema, KeySchema, LocalizedTextSchema, MessageOverridesSchema, RobotSettingsPatchSchema, RobotSettingsSchema, StageRoleSchema } from './regulation-basics';

/**
 * Stage selectors in transition rules and must-not-skip rules:
 * - a stage key;
 * - `*`: every stage of the regulation;
 * - `@process`, `@success`, `@failure`: stages whose role has that semantics;
 * - `@forward`, `@backward`: stages after / before the reference stage in the preset's stage
 *   order (the `from` stage of a transition rule, the `stage` of a must-not-skip rule); not
 *   allowed in `from`.
 */
export const STAGE_GROUP_SELECTORS = ['*', '@process', '@success', '@failure', '@forward', '@backward'] as const;
export const StageSelectorSchema = z.union([z.enum(STAGE_GROUP_SELECTORS), KeySchema], {
  error: `expected a stage key or one of ${STAGE_GROUP_SELECTORS.join(', ')}`,
});
export type StageSelector = z.infer<typeof StageSelectorSchema>;
export const StageSelectionSchema = z.union([StageSelectorSchema, z.array(StageSelectorSchema).min(1)]);
export type StageSelection = z.infer<typeof StageSelectionSchema>;

const NamesSchema = z.array(z.string().trim().min(1)).min(1);

export const PresetStageSchema = z.strictObject({
  role: StageRoleSchema,
  /**
   * Names to match against the funnel's stage names, tried in order (normalised: case, ё/е,
   * whitespace, quotes). The first is the canonical name used in errors.
   */
  names: NamesSchema,
  /**
   * Stage ids the CRM fixes for this meaning, tried after the names: amoCRM `142` (won) and
   * `143` (lost) in every pipeline; Bitrix24 `WON`, `LOSE`, `CONVERTED`, `JUNK` (a `C<n>:`
   * category prefix is ignored).
   */
  ids: z.array(z.string().min(1)).optional(),
  /** The funnel may lack this stage; binding then drops it (and every rule about it) silently. */
  optional: z.boolean().optional(),
  /** Field keys that must be filled to enter this stage. */
  requiredFields: z.array(KeySchema).optional(),
  /** For closing stages: the field key holding the reason, which must be filled to enter. */
  reasonField: KeySchema.optional(),
  /** How long a deal may stay here and who hears of it (`timing.ts`; the stage timers robot). */
  timeLimit: PresetTimeLimitSchema.optional(),
  /** The task a deal must have on entering this stage (`timing.ts`). */
  nextStep: PresetNextStepSchema.optional(),
  /** The stage's goal (seed 003: every stage has a goal and exit conditions). Documentation. */
  goal: z.string().optional(),
  /** Where this comes from, what the robot cannot check (notes, tasks). Documentation. */
  note: z.string().optional(),
});
export type PresetStage = z.infer<typeof PresetStageSchema>;

export const PresetFieldSchema = z.strictObject({
  /** Field titles to match (normalised), tried in order. The first is the canonical title. */
  names: NamesSchema,
  /** Field codes the CRM fixes for this meaning, tried after the names. */
  codes: z.array(z.string().min(1)).optional(),
  note: z.string().optional(),
});
export type PresetField = z.infer<typeof PresetFieldSchema>;

export const TransitionRuleSchema = z.strictObject({
  from: StageSelectionSchema,
  to: StageSelectionSchema,
  /** For deny rules: the reason shown to the manager. */
  explain: LocalizedTextSchema.optional(),
  note: z.string().optional(),
});
export type TransitionRule = z.infer<typeof TransitionRuleSchema>;

/**
 * Transitions: an allow-list of `from → to` rules, minus deny rules (deny wins).
 * A move between two stages of the regulation is allowed only if some allow rule covers it
 * and no deny rule does.
 */
export const TransitionsSchema = z.strictObject({
  allow: z.array(TransitionRuleSchema).min(1),
  deny: z.array(TransitionRuleSchema).optional(),
});

/**
 * "To enter any of `beforeEntering`, the deal must have passed `stage`": the deal's stage
 * history (plus the stage it comes from) must contain `stage`. With `onceEntered`, the rule
 * only applies to deals whose history contains one of those stages (e.g. "once a meeting is
 * set, it must be recorded as held before the proposal").
 */
export const MustNotSkipRuleSchema = z.strictObject({
  stage: KeySchema,
  beforeEntering: StageSelectionSchema,
  onceEntered: z.array(KeySchema).min(1).optional(),
  /** Why the stage cannot be skipped, shown to the manager after «сначала этап …». */
  explain: LocalizedTextSchema.optional(),
  note: z.string().optional(),
});
export type MustNotSkipRule = z.infer<typeof MustNotSkipRuleSchema>;

export const PresetSchema = z.strictObject({
  /** Equals the file name without `.json`. */
  key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a preset key is kebab-case: a–z, 0–9 and -'),
  version: z.number().int().positive(),
  title: LocalizedTextSchema,
  /** Which CRM the preset was written for; informative (binding works on any CrmFunnel). */
  crm: z.enum(['bitrix24', 'amocrm']).optional(),
  entity: EntitySchema,
  /** Where the regulation comes from (the seed it cites). Required. */
  source: z.string().min(1),
  /** Funnel names to pick the funnel from a portal's list; absent: the only funnel of `entity`. */
  funnel: z.strictObject({ names: NamesSchema.optional() }).optional(),
  fields: z.record(KeySchema, PresetFieldSchema).default({}),
  /** Stages keyed by a stable key, in funnel order (the order `@forward`/`@backward` use). */
  stages: z.record(KeySchema, PresetStageSchema),
  transitions: TransitionsSchema,
  mustNotSkip: z.array(MustNotSkipRuleSchema).default([]),
  messages: MessageOverridesSchema.optional(),
  settings: RobotSettingsSchema.prefault({}),
});
/** A validated preset (defaults applied). */
export type Preset = z.infer<typeof PresetSchema>;
/** A preset as written in JSON (defaults optional). */
export type PresetInput = z.input<typeof PresetSchema>;

// ---------------------------------------------------------------------------------------------
// Overrides (per installation)
// ---------------------------------------------------------------------------------------------

export const OverridesSchema = z.strictObject({
  /** The funnel to bind when a list of funnels is given (Bitrix24 category id, amoCRM pipeline id). */
  funnelId: z.union([z.string().min(1), z.number().int()]).transform(String).optional(),
  /** Stage key → real stage id; `null`: this portal has no such stage on purpose. */
  stages: z.record(KeySchema, z.union([z.string().min(1), z.number().int()]).transform(String).nullable()).optional(),
  /** Field key → real field code (Bitrix24 `ufCrm…`, amoCRM field id). */
  fields: z.record(KeySchema, z.union([z.string().min(1), z.number().int()]).transform(String)).optional(),
  settings: RobotSettingsPatchSchema.optional(),
  messages: MessageOverridesSchema.optional(),
  /** Stage key → changes to its time limit (a whole limit for a stage without one), or `null` to drop it. */
  timeLimits: z.record(KeySchema, TimeLimitOverrideSchema).optional(),
  // The rules themselves, as the settings page edits them (`rule-overrides.ts`); each replaces the preset's.
  /** The whole transition table (allow, deny) instead of the preset's. */
  transitions: TransitionsSchema.optional(),
  /** The whole list of stages never skipped instead of the preset's. */
  mustNotSkip: z.array(MustNotSkipRuleSchema).optional(),
  /** Stage key → its required fields and closing-reason field (`null`: none) instead of the preset's. */
  stageRules: z
    .record(KeySchema, z.strictObject({ requiredFields: z.array(KeySchema).optional(), reasonField: KeySchema.nullable().optional() }))
    .optional(),
  /** Fields the preset does not name (a CRM field picked on the page), usable in `stageRules`. */
  addFields: z.record(KeySchema, PresetFieldSchema).optional(),
});
export type Overrides = z.infer<typeof OverridesSchema>;
export type OverridesInput = z.input<typeof OverridesSchema>;
