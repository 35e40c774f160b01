import type { InboundEvent } from '../../src/events';
import { amocrmInstallationId } from '../../src/installations/installation';
import type { AmocrmWebhook } from './webhook-schema';

/**
 * One amoCRM POST may carry several events (`leads[add][0]`, `leads[status][0]`, `leads[update][1]`…).
 * Each becomes a notification; a status entry keeps the stages it reported as a hint.
 */
export function normalizeAmocrmWebhook(hook: AmocrmWebhook, receivedAt: number): InboundEvent[] {
  const installationId = amocrmInstallationId(hook.account.id);
  const base = { installationId, crm: 'amocrm' as const, receivedAt };
  const events: InboundEvent[] = [];
  for (const lead of hook.leads?.add ?? []) events.push({ ...base, kind: 'created', entity: 'deal', entityId: lead.id });
  for (const lead of hook.leads?.status ?? []) {
    events.push({
      ...base,
      kind: 'updated',
      entity: 'deal',
      entityId: lead.id,
      hint: { fromStageId: lead.old_status_id, toStageId: lead.status_id, modifiedBy: lead.modified_user_id, title: lead.name },
    });
  }
  for (const lead of [...(hook.leads?.update ?? []), ...(hook.leads?.responsible ?? []), ...(hook.leads?.restore ?? [])]) {
    // Each entry is a snapshot of the lead: its current status and name (compared with the app's own writes).
    events.push({ ...base, kind: 'updated', entity: 'deal', entityId: lead.id, hint: { modifiedBy: lead.modified_user_id, toStageId: lead.status_id, title: lead.name } });
  }
  for (const contact of hook.contacts?.add ?? []) events.push({ ...base, kind: 'created', entity: 'contact', entityId: contact.id });
  // The worker reads the contact (its current values, whatever order events arrive in) into the identity index.
  for (const contact of hook.contacts?.update ?? []) events.push({ ...base, kind: 'updated', entity: 'contact', entityId: contact.id });
  return events;
}
