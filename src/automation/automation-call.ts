import { z } from 'zod';

/**
 * What an admin can put in the CRM's own automation (Bitrix24 robots in the automation designer):
 * CRM-neutral actions the worker performs with the robots' code and answers the CRM with.
 */
export const AUTOMATION_ACTIONS = ['checkTransition', 'distributeLead', 'bookUnit', 'releaseUnit', 'renameDeal'] as const;
export const automationActionSchema = z.enum(AUTOMATION_ACTIONS);
export type AutomationAction = z.infer<typeof automationActionSchema>;

/** The amoCRM Digital Pipeline action codes the widget offers (snake_case), mapped to the automation actions. */
export const DP_ACTION_CODES = {
  check_transition: 'checkTransition',
  distribute_lead: 'distributeLead',
  book_unit: 'bookUnit',
  release_unit: 'releaseUnit',
  rename_deal: 'renameDeal',
} as const satisfies Record<string, AutomationAction>;
export type DpActionCode = keyof typeof DP_ACTION_CODES;

/**
 * Where the outcome of a call goes, and what makes the call one call:
 * - Bitrix24: the robot waits for `bizproc.event.send` with the call's event_token (kept only in
 *   the job, never in a key);
 * - amoCRM Digital Pipeline: nothing waits for an answer; the outcome is a note in the lead. The
 *   DP event has no token of its own: the stage it entered and the event's time name it.
 */
export const automationReplySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bitrix24'), eventToken: z.string().min(1) }),
  z.object({
    kind: z.literal('amocrm_dp'),
    statusId: z.string().regex(/^\d{1,18}$/),
    pipelineId: z.string().regex(/^\d{1,18}$/),
    /** The DP event's `time` (unix seconds). */
    eventTime: z.string().regex(/^\d{1,12}$/),
  }),
]);
export type AutomationReply = z.infer<typeof automationReplySchema>;

/** One call of an automation robot, as queued by the HTTP edge (ids validated there). */
export const automationCallSchema = z.preprocess(
  // Jobs queued before the reply became a union carry Bitrix24's `replyToken`: read them as such.
  (raw) => (raw && typeof raw === 'object' && 'replyToken' in raw && !('reply' in raw) ? { ...raw, reply: { kind: 'bitrix24', eventToken: (raw as { replyToken: unknown }).replyToken } } : raw),
  z.object({
    installationId: z.string().min(1),
    action: automationActionSchema,
    target: z.object({ entity: z.enum(['deal', 'lead']), id: z.string().regex(/^\d+$/) }),
    /** The robot's parameters as the admin filled them in (strings: the CRM sends a form). */
    properties: z.record(z.string(), z.string()).default({}),
    reply: automationReplySchema,
    receivedAt: z.number(),
  }),
);
export type AutomationCall = z.infer<typeof automationCallSchema>;

/** What the action answers the CRM's automation with (Bitrix24 RETURN_VALUES), plus a line for the workflow log. */
export interface AutomationResult {
  values: Record<string, string>;
  log: string;
}
