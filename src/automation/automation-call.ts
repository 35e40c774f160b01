import { z } from 'zod';

/**
 * What an admin can put in the CRM's own automation (Bitrix24 robots in the automation designer):
 * CRM-neutral actions the worker performs with the robots' code and answers the CRM with.
 */
export const AUTOMATION_ACTIONS = ['checkTransition', 'distributeLead', 'bookUnit', 'releaseUnit', 'renameDeal'] as const;
export const automationActionSchema = z.enum(AUTOMATION_ACTIONS);
export type AutomationAction = z.infer<typeof automationActionSchema>;

/** One call of an automation robot, as queued by the HTTP edge (ids validated there). */
export const automationCallSchema = z.object({
  installationId: z.string().min(1),
  action: automationActionSchema,
  target: z.object({ entity: z.enum(['deal', 'lead']), id: z.string().regex(/^\d+$/) }),
  /** The robot's parameters as the admin filled them in (strings: the CRM sends a form). */
  properties: z.record(z.string(), z.string()).default({}),
  /** Where the answer goes: Bitrix24's event_token (kept only in the job, never in a key). */
  replyToken: z.string().min(1),
  receivedAt: z.number(),
});
export type AutomationCall = z.infer<typeof automationCallSchema>;

/** What the action answers the CRM's automation with (Bitrix24 RETURN_VALUES), plus a line for the workflow log. */
export interface AutomationResult {
  values: Record<string, string>;
  log: string;
}
