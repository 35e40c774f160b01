import type { Logger } from '../../log';
import type { AmoContact } from './client-search';
import type { AmoIdentityIndex } from './identity-index';
import type { AmoRestClient } from './rest-client';

/** `GET /api/v4/contacts` returns at most 250 per page. */
const PAGE = 250;
/** Each scan starts this far before the last one ended: a contact saved in the same second is not lost. */
const OVERLAP_SECONDS = 60;

export type IndexRefresh =
  | { step: 'backfill'; pages: number; contacts: number; complete: boolean }
  | { step: 'modified'; contacts: number };

/**
 * Keeps an amoCRM account's identity index whole (see ./identity-index.ts); run by the catch-up.
 * - While building: pages through every contact (`order[id]=asc`, 250 per page) through the shared
 *   rate limiter; the cursor is stored after each page, so a crash resumes at the next page, and
 *   the index is marked complete only after the last one.
 * - Once complete: indexes the contacts modified since the last scan (`filter[updated_at][from]`),
 *   which catches up values whose webhook was lost.
 */
export async function refreshIdentityIndex(rest: AmoRestClient, index: AmoIdentityIndex, log: Logger, nowSeconds = () => Math.floor(Date.now() / 1000)): Promise<IndexRefresh> {
  const state = await index.state();
  if (state.status === 'complete') return scanModified(rest, index, state.modifiedSince ?? nowSeconds(), nowSeconds());
  let startedAt = state.startedAt;
  if (startedAt === null) {
    // An installation from before the index, or a state lost with Redis: build it from page 1.
    startedAt = nowSeconds();
    await index.startRebuild(startedAt);
  }
  let page = state.nextPage;
  let pages = 0;
  let contacts = 0;
  for (;;) {
    const answer = await rest.get<{ _embedded?: { contacts?: AmoContact[] }; _links?: { next?: unknown } }>('/api/v4/contacts', { limit: PAGE, page, 'order[id]': 'asc' });
    const rows = answer?._embedded?.contacts ?? [];
    await index.add(rows);
    await index.pageDone(page + 1, rows.length);
    pages++;
    contacts += rows.length;
    if (pages % 20 === 0) log.info({ page, contacts: state.contacts + contacts }, 'amoCRM identity index: backfill in progress');
    // amoCRM links the next page only when there is one: a full last page costs no extra request.
    if (rows.length < PAGE || !answer?._links?.next) break;
    page++;
  }
  await index.complete(startedAt, nowSeconds());
  log.info({ pages, contacts: state.contacts + contacts }, 'amoCRM identity index complete: duplicate lookups now read candidates by id');
  return { step: 'backfill', pages, contacts, complete: true };
}

/**
 * Contacts modified since `from` (minus the overlap), oldest change first. Rows edited during the
 * scan move to its end (their `updated_at` grows), so none is skipped; the next scan starts at the
 * newest change seen.
 */
async function scanModified(rest: AmoRestClient, index: AmoIdentityIndex, from: number, now: number): Promise<IndexRefresh> {
  let newest = from;
  let contacts = 0;
  for (let page = 1; ; page++) {
    const answer = await rest.get<{ _embedded?: { contacts?: Array<AmoContact & { updated_at?: number }> } }>('/api/v4/contacts', {
      'filter[updated_at][from]': Math.max(0, from - OVERLAP_SECONDS),
      'order[updated_at]': 'asc',
      limit: PAGE,
      page,
    });
    const rows = answer?._embedded?.contacts ?? [];
    await index.add(rows);
    contacts += rows.length;
    for (const row of rows) newest = Math.max(newest, row.updated_at ?? 0);
    if (rows.length < PAGE) break;
  }
  // Never past now: a clock ahead in amoCRM must not make the next scan skip a minute.
  await index.scannedModifiedUntil(Math.min(newest, now));
  return { step: 'modified', contacts };
}
