/** A move of a deal between stages, and the stage guard's decision about it. */
import { z } from 'zod';
import { BoundFieldSchema } from './bound-schema';
import { KeySchema, LocaleSchema, StageRoleSchema } from './regulation-basics';

/**
 * One entry of the deal's stage history: a stage id, or the CRM's `StageHistoryEntry`.
 * Mark (or leave out) entries the app itself reverted, so a refused entry never counts as
 * "passed".
 */
export const HistoryEntrySchema = z.union([
  z.string(),
  z.object({ stageId: z.string(), at: z.string().optional(), revertedByApp: z.boolean().optional() }),
]);
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

export const MoveSchema = z.object({
  fromStageId: z.string(),
  toStageId: z.string(),
  /** The deal's current field values keyed by field code (`Deal.fields`). */
  fields: z.record(z.string(), z.unknown()),
  /**
   * The deal's stage history, oldest first (`CrmPort.getStageHistory`). It may or may not
   * include the move being judged. Required: without it a must-not-skip stage counts as passed
   * only when the deal is coming from it.
   */
  history: z.array(HistoryEntrySchema),
  /** Who moved the deal; `null` when the CRM does not say. */
  movedBy: z.object({ userId: z.string().nullable(), isAdmin: z.boolean().optional() }).nullable(),
  /** Defaults to the regulation's `settings.locale`. */
  locale: LocaleSchema.optional(),
});
export type Move = z.infer<typeof MoveSchema>;

export const StageRefSchema = z.strictObject({
  key: KeySchema,
  stageId: z.string(),
  name: z.string(),
  role: StageRoleSchema,
});
export type StageRef = z.infer<typeof StageRefSchema>;

const violationText = z.string();

export const ViolationSchema = z.discriminatedUnion('rule', [
  /** No allow rule covers the move. */
  z.strictObject({
    rule: z.literal('transition_not_allowed'),
    from: StageRefSchema,
    to: StageRefSchema,
    allowed: z.array(StageRefSchema),
    text: violationText,
  }),
  /** A deny rule covers the move (index `denyRule` in `transitions.deny`). */
  z.strictObject({
    rule: z.literal('transition_denied'),
    from: StageRefSchema,
    to: StageRefSchema,
    denyRule: z.number().int(),
    text: violationText,
  }),
  /** The deal never passed a must-not-skip stage (index `mustNotSkipRule`). */
  z.strictObject({
    rule: z.literal('skipped_stage'),
    stage: StageRefSchema,
    mustNotSkipRule: z.number().int(),
    text: violationText,
  }),
  z.strictObject({
    rule: z.literal('required_field_empty'),
    stage: StageRefSchema,
    field: BoundFieldSchema,
    text: violationText,
  }),
  z.strictObject({
    rule: z.literal('reason_empty'),
    stage: StageRefSchema,
    field: BoundFieldSchema,
    text: violationText,
  }),
]);
export type Violation = z.infer<typeof ViolationSchema>;
export type ViolationRule = Violation['rule'];

export const MoveDecisionSchema = z.strictObject({
  verdict: z.enum(['allow', 'revert']),
  /**
   * - `same_stage`: from = to;
   * - `not_governed`: the target stage is not part of the regulation;
   * - `complies`: no rule is broken;
   * - `exempt_user`: rules are broken (see `waived`) but the mover is exempt;
   * - `violations`: rules are broken: revert.
   */
  why: z.enum(['same_stage', 'not_governed', 'complies', 'exempt_user', 'violations']),
  /** Every broken rule that makes the verdict `revert`. */
  reasons: z.array(ViolationSchema),
  /** Rules an exempt user broke; not enforced, for the audit log. */
  waived: z.array(ViolationSchema),
  /** The text for the manager (empty when allowed). */
  message: z.string(),
  /** The stage to move the deal back to (the `from` stage) when the verdict is `revert`. */
  revertTo: z.string().nullable(),
  from: StageRefSchema.nullable(),
  to: StageRefSchema.nullable(),
  locale: LocaleSchema,
});
export type MoveDecision = z.infer<typeof MoveDecisionSchema>;
