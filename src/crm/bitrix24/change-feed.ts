import type { ChangedDeal, ChangeFeed, ScanStart } from '../change-feed';
import type { DealEntity } from '../crm-port';
import type { Bitrix24RestClient } from './rest-client';

const ENTITY_TYPE_ID: Record<DealEntity, number> = { lead: 1, deal: 2 };
/** crm.item.list pages are always 50 rows (restdocs `crm/universal/crm-item-list.md`). */
const PAGE_SIZE = 50;

interface Cursor {
  at: number;
  id: number;
}

/**
 * Deals and leads changed since a moment, from `crm.item.list` ordered by `updatedTime, id`.
 *
 * Paging is by key, not by `start` offset: the first page filters `>=updatedTime`, each next page
 * asks for what comes after the last row seen, `(updatedTime, id)` (`>updatedTime`, or the same
 * second and `>id`, in a `logic: OR` group). An offset page would skip a row whenever an earlier
 * row is edited during the scan (it moves to the end and every later row shifts one place back);
 * a key page cannot. `start: -1` skips the row count, as the docs' recipe for big selections does
 * (`settings/performance/huge-data.md`). Deals and leads travel in one `batch` per round; the
 * next page of an entity depends on the previous one, so one round holds one page of each.
 */
export class Bitrix24ChangeFeed implements ChangeFeed {
  readonly entities = ['deal', 'lead'] as const;

  constructor(private readonly rest: Bitrix24RestClient) {}

  async *changedSince(since: ScanStart): AsyncIterable<ChangedDeal[]> {
    const cursors = new Map<DealEntity, Cursor>();
    const open = new Set<DealEntity>(this.entities);
    while (open.size > 0) {
      const commands = Object.fromEntries(
        [...open].map((entity) => [entity, { method: 'crm.item.list', params: listParams(entity, since[entity], cursors.get(entity)) }]),
      );
      const { result, errors } = await this.rest.batch(commands);
      const page: ChangedDeal[] = [];
      for (const entity of [...open]) {
        const error = errors[entity];
        if (error) throw new Error(`Bitrix24 crm.item.list (${entity}) failed: ${error.error} ${error.error_description ?? ''}`.trim());
        const rows = ((result[entity] as { items?: Array<Record<string, unknown>> } | undefined)?.items ?? []);
        const changed = rows.map((row) => toChanged(entity, row)).filter((c): c is ChangedDeal => c !== null);
        page.push(...changed);
        const last = changed[changed.length - 1];
        const previous = cursors.get(entity);
        if (rows.length < PAGE_SIZE || !last) open.delete(entity);
        else if (previous && !(last.updatedAt > previous.at || (last.updatedAt === previous.at && Number(last.id) > previous.id))) {
          // A full page that does not move past the last key means the portal ignored the key filter: stop, do not loop.
          throw new Error(`Bitrix24 crm.item.list (${entity}) returned no rows after ${previous.at}/${previous.id}: key paging did not advance`);
        } else cursors.set(entity, { at: last.updatedAt, id: Number(last.id) });
      }
      if (page.length > 0) yield page;
    }
  }
}

function listParams(entity: DealEntity, from: number, after: Cursor | undefined): Record<string, unknown> {
  const filter = after
    ? { 0: { logic: 'OR', 0: { '>updatedTime': isoSeconds(after.at) }, 1: { '=updatedTime': isoSeconds(after.at), '>id': after.id } } }
    : { '>=updatedTime': isoSeconds(from) };
  return {
    entityTypeId: ENTITY_TYPE_ID[entity],
    select: ['id', 'updatedTime', 'createdTime'],
    filter,
    order: { updatedTime: 'ASC', id: 'ASC' },
    start: -1,
  };
}

/** Bitrix24 REST datetimes are ISO 8601 with an offset: `2024-07-22T18:00:08+02:00`. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function toChanged(entity: DealEntity, row: Record<string, unknown>): ChangedDeal | null {
  const updated = Date.parse(String(row.updatedTime ?? ''));
  if (row.id === undefined || Number.isNaN(updated)) return null;
  const created = Date.parse(String(row.createdTime ?? ''));
  return { entity, id: String(row.id), updatedAt: Math.floor(updated / 1000), createdAt: Number.isNaN(created) ? null : Math.floor(created / 1000) };
}
