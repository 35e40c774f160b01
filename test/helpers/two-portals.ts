import type { InboundEvent } from '../../src/events';

/** Installations of the fairness tests: two with a backlog, one quiet. */
export const NOISY = 'b24:0123456789abcdef0123456789abcdef';
export const OTHER_NOISY = 'amo:30918123';
export const QUIET = 'b24:fedcba9876543210fedcba9876543210';

/** A deal update of `installationId`, as the edge accepts it. */
export const dealEvent = (installationId: string, dealId: number): InboundEvent => ({
  installationId,
  crm: installationId.startsWith('b24') ? 'bitrix24' : 'amocrm',
  kind: 'updated',
  entity: 'deal',
  entityId: String(dealId),
  receivedAt: Date.now(),
});

/** "quiet:7", "noisy:12", "other:3": which portal's event a worker got, in the order it got them. */
export const label = (e: Pick<InboundEvent, 'installationId' | 'entityId'>) => `${e.installationId === QUIET ? 'quiet' : e.installationId === NOISY ? 'noisy' : 'other'}:${e.entityId}`;
