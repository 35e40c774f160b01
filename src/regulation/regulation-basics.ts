/** The regulation model's small shared pieces: locales, keys, user ids, stage roles, robot settings, message templates. */
import { z } from 'zod';

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
