import { z } from 'zod';
import { amocrmAccountIdSchema } from '../../src/installations/installation';

/** One entity inside an amoCRM webhook (API v2 layout: every value is a string). */
const entitySchema = z.looseObject({
  id: z.string().regex(/^\d+$/, 'must be a numeric id'),
  status_id: z.string().optional(),
  old_status_id: z.string().optional(),
  pipeline_id: z.string().optional(),
  modified_user_id: z.string().optional(),
  name: z.string().max(2000).optional(),
});

/** qs turns `leads[status][0][…]` into an array (or an object keyed by index past its array limit). */
const entityList = z
  .union([z.array(entitySchema), z.record(z.string(), entitySchema)])
  .transform((v) => (Array.isArray(v) ? v : Object.values(v)));

/** `leads[delete][0][id]`, or just `leads[delete][0]=id` as some senders do. */
const deletedList = z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]);

export const amocrmWebhookSchema = z.object({
  account: z.looseObject({
    id: amocrmAccountIdSchema,
    subdomain: z.string().min(1),
  }),
  leads: z
    .object({
      add: entityList.optional(),
      update: entityList.optional(),
      status: entityList.optional(),
      responsible: entityList.optional(),
      delete: deletedList.optional(),
      restore: entityList.optional(),
      note: z.unknown().optional(),
    })
    .optional(),
  contacts: z
    .object({
      add: entityList.optional(),
      update: entityList.optional(),
      delete: deletedList.optional(),
      note: z.unknown().optional(),
    })
    .optional(),
});
export type AmocrmWebhook = z.infer<typeof amocrmWebhookSchema>;

/** The "access revoked" hook: GET ?account_id&client_uuid&signature (HMAC-SHA256 of "client_uuid|account_id"). */
export const amocrmDisconnectSchema = z.object({
  account_id: amocrmAccountIdSchema,
  client_uuid: z.string().min(1),
  signature: z.string().regex(/^[0-9a-f]{64}$/i, 'must be a hex HMAC-SHA256'),
});
