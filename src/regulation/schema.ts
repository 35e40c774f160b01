/**
 * The regulation model ("регламент"), as zod schemas. Every TS type of the regulation is
 * derived from these schemas with `z.infer`, never written twice.
 *
 * Three layers:
 * - **Preset** (`config/presets/*.json`): a funnel's regulation written against stage *names*
 *   and field *names*, CRM-neutral, portable between portals. See `config/regulation.schema.md`.
 * - **Overrides**: what one installation adds: stage key → real stage id, field key → real field
 *   code, the funnel id, robot settings (exempt users, heads of sales…), message texts.
 * - **BoundRegulation**: a preset bound to one portal's funnel and fields (`bindRegulation`).
 *   Only a bound regulation is ever evaluated; it is plain JSON, so it can be stored and
 *   re-validated with `BoundRegulationSchema`.
 */
import { z } from 'zod';
import { BoundNextStepSchema, BoundTimeLimitSchema, PresetNextStepSchema, PresetTimeLimitSchema, TimeLimitOverrideSchema } from './timing';

// ---------------------------------------------------------------------------------------------
// Small shared pieces
// ---------------------------------------------------------------------------------------------

export const LOCALES = ['ru', 'en'] as const;
export const LocaleSchema = z.enum(LOCALES);
export type Locale = z.infer<typeof LocaleSchema>;

/**
 * A text a manager or admin reads. A plain string is Russian; an object may add English.
 * Missing English falls back to Russian.
 */
export const LocalizedTextSchema = z.union(
  [z.string().min(1), z.strictObject({ ru: z.string().min(1), en: z.string().min(1).optional() })],
  { error: 'expected a text: a string (Russian) or { "ru": "…", "en": "…" }' },
);
export type LocalizedText = z.infer<typeof LocalizedTextSchema>;

/** Stable keys of stages and fields inside a preset: lower_snake_case, never integer-like (key order matters). */
export const KeySchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'a key is lower_snake_case: a–z, 0–9 and _, starting with a letter');
export type Key = z.infer<typeof KeySchema>;

/** CRM user ids: amoCRM sends numbers, Bitrix24 strings; both are kept as strings. */
export const UserIdSchema = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

export const StageSemanticsSchema = z.enum(['process', 'success', 'failure']);
export type StageSemantics = z.infer<typeof StageSemanticsSchema>;

export const EntitySchema = z.enum(['deal', 'lead']);

// ---------------------------------------------------------------------------------------------
// Stage roles
// ---------------------------------------------------------------------------------------------

/**
 * What a stage *means* to the robots, independent of how a portal names it. Other robots look
 * stages up by role (the booking releaser needs `booking` and `booking_expired`, the duplicate
 * catcher the three special loss roles, the meeting recorder `meeting_held`).
 */
export const STAGE_ROLE_NAMES = [
  'incoming', // amoCRM «Неразобранное»
  'technical', // technical stages nobody works (amoCRM «Технический этап»)
  'new', // a fresh request nobody has taken yet (amoCRM «Новый лид», Bitrix24 lead «Принять в работу»)
  'qualification', // call-center qualifier (amoCRM «Квалификатор»)
  'responsible_assigned', // Bitrix24 lead «Назначен ответственный»
  'in_work', // amoCRM «Передан в работу»: the manager starts here
  'to_hand_over', // amoCRM «Для передачи»
  'no_answer', // amoCRM «Не дозвонились», Bitrix24 lead «Попытки связаться»
  'to_close', // amoCRM «На закрытие»
  'deferred', // amoCRM «Отложенный спрос >7 мес»
  'needs_identified',
  'meeting_set',
  'meeting_held',
  'proposal_sent',
  'feedback_received',
  'booking',
  'booking_expired',
  'contract',
  'registration',
  'payment_received',
  'qualified', // Bitrix24 lead «Качественный лид» (converted to a deal)
  'won',
  'lost', // any loss stage; a Bitrix24 funnel often has many, named after the loss reason
  'new_contact_of_active_client', // special loss: «Новые контакты у активного клиента»
  'existing_buyer', // special loss: «Дольщик»
  'agent', // special loss: «Агент»
  'custom', // any other working stage of a custom regulation
] as const;

export const StageRoleSchema = z.enum(STAGE_ROLE_NAMES);
export type StageRole = z.infer<typeof StageRoleSchema>;

export interface StageRoleInfo {
  /** The CRM semantics a stage with this role must have (Bitrix24 `SEMANTICS`, amoCRM 142/143). */
  semantics: StageSemantics;
  /** A unique role may be given to one stage of a funnel only. */
  unique: boolean;
}

/** Fixed facts about each role. */
export const STAGE_ROLES: Readonly<Record<StageRole, StageRoleInfo>> = {
  incoming: { semantics: 'process', unique: true },
  technical: { semantics: 'process', unique: false },
  new: { semantics: 'process', unique: true },
  qualification: { semantics: 'process', unique: true },
  responsible_assigned: { semantics: 'process', unique: true },
  in_work: { semantics: 'process', unique: true },
  to_hand_over: { semantics: 'process', unique: true },
  no_answer: { semantics: 'process', unique: true },
  to_close: { semantics: 'process', unique: true },
  deferred: { semantics: 'process', unique: true },
  needs_identified: { semantics: 'process', unique: true },
  meeting_set: { semantics: 'process', unique: true },
  meeting_held: { semantics: 'process', unique: true },
  proposal_sent: { semantics: 'process', unique: true },
  feedback_received: { semantics: 'process', unique: true },
  booking: { semantics: 'process', unique: true },
  booking_expired: { semantics: 'process', unique: true },
  contract: { semantics: 'process', unique: true },
  registration: { semantics: 'process', unique: true },
  payment_received: { semantics: 'process', unique: true },
  qualified: { semantics: 'success', unique: true },
  won: { semantics: 'success', unique: true },
  lost: { semantics: 'failure', unique: false },
  new_contact_of_active_client: { semantics: 'failure', unique: true },
  existing_buyer: { semantics: 'failure', unique: true },
  agent: { semantics: 'failure', unique: true },
  custom: { semantics: 'process', unique: false },
};

// ---------------------------------------------------------------------------------------------
// Robot settings
// ---------------------------------------------------------------------------------------------

/** Roles whose moves the stage guard never reverts (besides explicit user ids). */
export const ExemptRoleSchema = z.enum(['admin', 'head_of_sales']);
export type ExemptRole = z.infer<typeof ExemptRoleSchema>;

export const RobotSettingsSchema = z.strictObject({
  /** Language of the texts the robot writes into the CRM. */
  locale: LocaleSchema.default('ru'),
  /** Violations per manager per day after which the heads of sales are alerted. */
  violationAlertThreshold: z.number().int().positive().default(3),
  /** Heads of sales (РОП): they receive alerts and, with the `head_of_sales` exempt role, move freely. */
  headOfSalesUserIds: z.array(UserIdSchema).default([]),
  exempt: z
    .strictObject({
      /** Users whose moves are never reverted. */
      userIds: z.array(UserIdSchema).default([]),
      /** `admin`: CRM administrators; `head_of_sales`: the users in `headOfSalesUserIds`. */
      roles: z.array(ExemptRoleSchema).default(['admin', 'head_of_sales']),
    })
    .prefault({}),
});
export type RobotSettings = z.infer<typeof RobotSettingsSchema>;

/** A partial patch of the settings, as an installation gives it. */
export const RobotSettingsPatchSchema = z.strictObject({
  locale: LocaleSchema.optional(),
  violationAlertThreshold: z.number().int().positive().optional(),
  headOfSalesUserIds: z.array(UserIdSchema).optional(),
  exempt: z
    .strictObject({
      userIds: z.array(UserIdSchema).optional(),
      roles: z.array(ExemptRoleSchema).optional(),
    })
    .optional(),
});
export type RobotSettingsPatch = z.infer<typeof RobotSettingsPatchSchema>;

// ---------------------------------------------------------------------------------------------
// Message templates
// ---------------------------------------------------------------------------------------------

/**
 * Every text the stage guard produces, with the placeholders each template may use.
 * Defaults live in `messages.ts`; a preset or an installation may override any of them.
 */
export const MESSAGE_PLACEHOLDERS = {
  /** Head of the manager's message: «Нельзя перейти из «{from}» в «{to}»». */
  blocked: ['from', 'to'],
  /** One must-not-skip stage was skipped. */
  skippedStage: ['stage', 'from', 'to'],
  /** Several must-not-skip stages were skipped; `{stages}` is a quoted list. */
  skippedStages: ['stages', 'from', 'to'],
  /** The move is not in the allow-list. */
  notAllowed: ['from', 'to'],
  /** Where the deal may go from its stage; `{stages}` is a quoted list. */
  allowedTargets: ['from', 'stages'],
  /** The regulation allows no move out of this stage. */
  noTargets: ['from'],
  /** One required field of the target stage is empty. */
  missingField: ['field', 'stage'],
  /** Several required fields are empty; `{fields}` is a quoted list. */
  missingFields: ['fields', 'stage'],
  /** A closing stage needs its reason field. */
  missingReason: ['field', 'stage'],
  /** For the caller: the note after moving the deal back. */
  reverted: ['from', 'to'],
  /** For the caller: the alert to the heads of sales when a manager reaches the daily threshold. */
  violationAlert: ['manager', 'count', 'threshold'],
  /** For the caller: the note recording a held meeting. */
  meetingHeld: ['date', 'manager'],
} as const satisfies Record<string, readonly string[]>;

export type MessageKey = keyof typeof MESSAGE_PLACEHOLDERS;
export const MESSAGE_KEYS = Object.keys(MESSAGE_PLACEHOLDERS) as [MessageKey, ...MessageKey[]];

const templateShape = Object.fromEntries(MESSAGE_KEYS.map((key) => [key, z.string().min(1)])) as Record<
  MessageKey,
  z.ZodString
>;

/** A full set of templates for one locale. */
export const MessageTemplatesSchema = z.strictObject(templateShape);
export type MessageTemplates = z.infer<typeof MessageTemplatesSchema>;

/** Template overrides, per locale, each key optional. */
export const MessageOverridesSchema = z.strictObject({
  ru: MessageTemplatesSchema.partial().optional(),
  en: MessageTemplatesSchema.partial().optional(),
});
export type MessageOverrides = z.infer<typeof MessageOverridesSchema>;

// ---------------------------------------------------------------------------------------------
// Preset
// ---------------------------------------------------------------------------------------------

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
});
export type Overrides = z.infer<typeof OverridesSchema>;
export type OverridesInput = z.input<typeof OverridesSchema>;

// ---------------------------------------------------------------------------------------------
// Bound regulation
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// A move and the stage guard's decision
// ---------------------------------------------------------------------------------------------

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
