import { z } from 'zod';
import type { Contact, CrmKind, Deal, DealEntity } from './crm/crm-port';
import { installationIdSchema } from './installations/installation';

/**
 * What the HTTP edge enqueues: a verified notification that something changed.
 * Bitrix24 says only "deal 759 was updated"; amoCRM adds the stage it saw, which we keep
 * as a hint (the worker decides from the CRM's current state, not from the notification).
 */
export const inboundEventSchema = z.object({
  installationId: installationIdSchema,
  crm: z.enum(['bitrix24', 'amocrm']),
  kind: z.enum(['created', 'updated', 'removed']),
  entity: z.enum(['deal', 'lead', 'contact', 'installation']),
  entityId: z.string().min(1),
  hint: z
    .object({
      fromStageId: z.string().optional(),
      toStageId: z.string().optional(),
      modifiedBy: z.string().optional(),
      /** amoCRM: the lead's name as the webhook shows it (compared with the app's own writes). */
      title: z.string().optional(),
    })
    .optional(),
  receivedAt: z.number(),
  /** When the CRM raised the event, where it says so (Bitrix24 `ts`, whole seconds), epoch ms. */
  occurredAt: z.number().optional(),
  /** `catch-up`: enqueued by the reconciliation scan, not by a webhook (never taken for an echo). */
  via: z.enum(['webhook', 'catch-up']).optional(),
});
export type InboundEvent = z.infer<typeof inboundEventSchema>;

/** The CRM's users or fields changed (Bitrix24 user field events, ONUSERADD): the worker forgets its cached catalog. */
export const catalogChangeSchema = z.object({
  installationId: installationIdSchema,
  crm: z.enum(['bitrix24', 'amocrm']),
  kind: z.literal('updated'),
  entity: z.literal('catalog'),
  entityId: z.enum(['fields', 'users']),
  receivedAt: z.number(),
});
export type CatalogChange = z.infer<typeof catalogChangeSchema>;

/** Everything the events queue carries. */
export const queuedEventSchema = z.union([inboundEventSchema, catalogChangeSchema]);
export type QueuedEvent = z.infer<typeof queuedEventSchema>;

/** A deal (or Bitrix24 lead) as a robot sees it: the CRM's current state and its contacts. */
export interface DealEventPayload {
  deal: Deal;
  contacts: Contact[];
  /** True when the change is the echo of the app's own write. */
  causedByApp: boolean;
}

export interface StageChangedPayload extends DealEventPayload {
  /** The last stage the app saw (first sight: from the CRM's stage history). */
  from: string | null;
  to: string;
  /** Stages passed since `from`, oldest first, ending with `to` (from the CRM's stage history). */
  path: string[];
  /** Every stage the deal has entered, oldest first, as far as the CRM's history goes. */
  history: string[];
}

/** CRM-neutral events robots subscribe to. A misspelt name is a compile error. */
export interface CrmEventMap {
  'deal.created': DealEventPayload;
  'deal.updated': DealEventPayload;
  'deal.stageChanged': StageChangedPayload;
  'lead.created': DealEventPayload;
  'lead.updated': DealEventPayload;
  'lead.stageChanged': StageChangedPayload;
  'contact.created': { contact: Contact; causedByApp: boolean };
  'installation.removed': { crm: CrmKind };
}
export type CrmEventName = keyof CrmEventMap;

export const eventNameFor = (entity: DealEntity, what: 'created' | 'updated' | 'stageChanged'): CrmEventName =>
  `${entity}.${what}` as CrmEventName;
