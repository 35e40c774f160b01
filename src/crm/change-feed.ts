import type { DealEntity } from './crm-port';

/**
 * What changed in a CRM since a moment: the catch-up path reads it to find deals whose
 * notifications the app never received (Bitrix24 never resends an event; amoCRM gives up).
 * One adapter per CRM (`bitrix24/change-feed.ts`, `amocrm/change-feed.ts`).
 */
export interface ChangedDeal {
  entity: DealEntity;
  id: string;
  /** The CRM's last-modified time, epoch seconds (both CRMs keep whole seconds). */
  updatedAt: number;
  /** Creation time, epoch seconds, when the CRM reports it. */
  createdAt: number | null;
}

/** Per entity, the first second to look at (inclusive). */
export type ScanStart = Record<DealEntity, number>;

export interface ChangeFeed {
  /** Entities this CRM has: Bitrix24 deals and leads; amoCRM leads (its deals), as `deal`. */
  readonly entities: readonly DealEntity[];
  /**
   * Every deal changed at or after `since[entity]`, in pages. Within one entity, items come in
   * the order of their change (oldest first), so the caller can advance a watermark page by page.
   * An item may appear twice (paging overlaps at a second's boundary); the caller skips repeats.
   */
  changedSince(since: ScanStart): AsyncIterable<ChangedDeal[]>;
}
