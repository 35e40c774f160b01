/** A preset bound to one portal's funnel and fields: the only form the stage guard evaluates; plain JSON, re-validated on load. */
import { z } from 'zod';
import { BoundNextStepSchema, BoundTimeLimitSchema } from './timing';
import { EntitySchema, KeySchema, LocalizedTextSchema, MessageTemplatesSchema, RobotSettingsSchema, StageRoleSchema, StageSemanticsSchema } from './regulation-basics';

export const BoundFieldSchema = z.strictObject({
  key: KeySchema,
  /** The code in `Deal.fields`. */
  code: z.string().min(1),
  /** The CRM's own title, shown to managers. */
  title: z.string(),
});
export type BoundField = z.infer<typeof BoundFieldSchema>;

export const BoundStageSchema = z.strictObject({
  key: KeySchema,
  role: StageRoleSchema,
  /** The real stage id (Bitrix24 `C1:UC_8XK2`, amoCRM `31525846`). */
  stageId: z.string().min(1),
  /** The CRM's own stage name, shown to managers. */
  name: z.string(),
  semantics: StageSemanticsSchema,
  requiredFields: z.array(BoundFieldSchema),
  reasonField: BoundFieldSchema.nullable(),
  timeLimit: BoundTimeLimitSchema.nullable().default(null),
  nextStep: BoundNextStepSchema.nullable().default(null),
});
export type BoundStage = z.infer<typeof BoundStageSchema>;

/** One deny rule, expanded for one `from` stage. */
export const BoundDenyRuleSchema = z.strictObject({
  /** Index in the preset's `transitions.deny`. */
  rule: z.number().int().nonnegative(),
  from: KeySchema,
  to: z.array(KeySchema),
  explain: LocalizedTextSchema.nullable(),
});
export type BoundDenyRule = z.infer<typeof BoundDenyRuleSchema>;

export const BoundMustNotSkipSchema = z.strictObject({
  /** Index in the preset's `mustNotSkip`. */
  rule: z.number().int().nonnegative(),
  stage: KeySchema,
  beforeEntering: z.array(KeySchema),
  onceEntered: z.array(KeySchema).nullable(),
  explain: LocalizedTextSchema.nullable(),
});
export type BoundMustNotSkip = z.infer<typeof BoundMustNotSkipSchema>;

export const BoundRegulationSchema = z.strictObject({
  preset: z.strictObject({
    key: z.string(),
    version: z.number().int(),
    title: LocalizedTextSchema,
    source: z.string(),
  }),
  entity: EntitySchema,
  funnel: z.strictObject({ id: z.string(), name: z.string() }),
  /** Bound stages in preset order. */
  stages: z.array(BoundStageSchema),
  /** Every field the bound stages need. */
  fields: z.array(BoundFieldSchema),
  transitions: z.strictObject({
    /** Stage key → stage keys it may move to (deny rules already subtracted). */
    allowed: z.record(KeySchema, z.array(KeySchema)),
    denied: z.array(BoundDenyRuleSchema),
  }),
  mustNotSkip: z.array(BoundMustNotSkipSchema),
  settings: RobotSettingsSchema,
  messages: z.strictObject({ ru: MessageTemplatesSchema, en: MessageTemplatesSchema }),
  /** Stages of the funnel the regulation does not govern: moves into them always pass. */
  ungovernedStages: z.array(z.strictObject({ id: z.string(), name: z.string() })),
});
export type BoundRegulation = z.infer<typeof BoundRegulationSchema>;
