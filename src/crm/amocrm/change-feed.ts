import type { ChangedDeal, ChangeFeed, ScanStart } from '../change-feed';
import type { AmoRestClient } from './rest-client';

/** `GET /api/v4/leads` returns at most 250 per page. */
const LIMIT = 250;

interface LeadRow {
  id: number;
  updated_at: number;
  created_at?: number;
}

/**
 * amoCRM leads (the app's deals) changed since a moment: `filter[updated_at][from]` (inclusive,
 * unix seconds), `order[updated_at]=asc`, 250 per page. Like the Bitrix24 feed it pages by key:
 * the next request starts at the last page's newest `updated_at` (repeats at that second are
 * skipped by the caller), so an edit during the scan cannot shift a row past us. Only when a whole
 * page shares one second (a mass update) does it walk that second with `page=2, 3…`.
 */
export class AmocrmChangeFeed implements ChangeFeed {
  readonly entities = ['deal'] as const;

  constructor(private readonly rest: AmoRestClient) {}

  async *changedSince(since: ScanStart): AsyncIterable<ChangedDeal[]> {
    let from = since.deal;
    let page = 1;
    for (;;) {
      const body = await this.rest.get<{ _embedded?: { leads?: LeadRow[] } }>('/api/v4/leads', {
        'filter[updated_at][from]': from,
        'order[updated_at]': 'asc',
        limit: LIMIT,
        page,
      });
      const leads = body?._embedded?.leads ?? [];
      if (leads.length > 0) {
        yield leads.map((l) => ({ entity: 'deal' as const, id: String(l.id), updatedAt: l.updated_at, createdAt: l.created_at ?? null }));
      }
      if (leads.length < LIMIT) return;
      const newest = Math.max(...leads.map((l) => l.updated_at));
      if (newest > from) {
        from = newest;
        page = 1;
      } else {
        page += 1;
      }
    }
  }
}
