import type { InboundEvent, QueuedEvent } from '../../src/events';
import { bitrix24InstallationId } from '../../src/installations/installation';
import { crmEntityDataSchema, type Bitrix24Event } from './event-schema';

type Target = Pick<InboundEvent, 'kind' | 'entity'>;

/** Bitrix24 event names → what changed. Events we do not handle are acknowledged and ignored. */
const EVENT_TARGETS: Record<string, Target> = {
  ONCRMDEALADD: { kind: 'created', entity: 'deal' },
  ONCRMDEALUPDATE: { kind: 'updated', entity: 'deal' },
  ONCRMLEADADD: { kind: 'created', entity: 'lead' },
  ONCRMLEADUPDATE: { kind: 'updated', entity: 'lead' },
  ONCRMCONTACTADD: { kind: 'created', entity: 'contact' },
  ONAPPUNINSTALL: { kind: 'removed', entity: 'installation' },
};

/**
 * Catalog changes: the worker forgets the portal's cached fields or users in every process
 * (restdocs crm/deals|leads/user-defined-fields/events, common/events/on-user-add.md). The
 * notification's own data (field id, user) is not needed: the whole list is read again.
 */
const CATALOG_EVENTS: Record<string, 'fields' | 'users'> = {
  ONCRMDEALUSERFIELDADD: 'fields',
  ONCRMDEALUSERFIELDUPDATE: 'fields',
  ONCRMDEALUSERFIELDDELETE: 'fields',
  ONCRMDEALUSERFIELDSETENUMVALUES: 'fields',
  ONCRMLEADUSERFIELDADD: 'fields',
  ONCRMLEADUSERFIELDUPDATE: 'fields',
  ONCRMLEADUSERFIELDDELETE: 'fields',
  ONCRMLEADUSERFIELDSETENUMVALUES: 'fields',
  ONUSERADD: 'users',
};

export type Normalized = { ok: true; event: QueuedEvent | null } | { ok: false; reason: string };

/** A verified Bitrix24 event as a CRM-neutral notification (null: an event we do not handle). */
export function normalizeBitrix24Event(event: Bitrix24Event, receivedAt: number): Normalized {
  const installationId = bitrix24InstallationId(event.auth.member_id);
  const catalog = CATALOG_EVENTS[event.event];
  if (catalog) return { ok: true, event: { installationId, crm: 'bitrix24', kind: 'updated', entity: 'catalog', entityId: catalog, receivedAt } };
  const target = EVENT_TARGETS[event.event];
  if (!target) return { ok: true, event: null };
  if (target.entity === 'installation') {
    return { ok: true, event: { installationId, crm: 'bitrix24', ...target, entityId: event.auth.member_id, receivedAt } };
  }
  const data = crmEntityDataSchema.safeParse(event.data);
  if (!data.success) return { ok: false, reason: `data[FIELDS][ID] ${data.error.issues[0]?.message ?? 'is missing'}` };
  // `ts`: when the portal raised the event (seconds); it tells the echo of the app's own write (own-echo.ts).
  return { ok: true, event: { installationId, crm: 'bitrix24', ...target, entityId: data.data.FIELDS.ID, receivedAt, occurredAt: Number(event.ts) * 1000 } };
}
