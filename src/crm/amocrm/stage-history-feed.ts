import type { CrmFunnel, Deal, DealEntity } from '../crm-port';
import type { FunnelHistory, FunnelTransition, StageHistoryFeed } from '../stage-history-feed';
import { toDeal, type AmoLead } from './adapter';
import type { AmoRestClient } from './rest-client';

/** `GET /api/v4/events` answers at most 100 a page; `filter[entity_id]` takes at most 10 ids. */
const EVENTS_PAGE = 100;
const IDS_PER_EVENTS_REQUEST = 10;
/** `GET /api/v4/leads` answers at most 250 a page. */
const LEADS_PAGE = 250;
/** More pages than this for one question means the account ignores paging: stop rather than loop. */
const MAX_PAGES = 1000;

interface AmoStatusEvent {
  id: string;
  entity_id: number;
  created_by: number;
  created_at: number;
  value_before?: Array<{ lead_status?: { id: number; pipeline_id: number } }>;
  value_after?: Array<{ lead_status?: { id: number; pipeline_id: number } }>;
}
type EventsPage = { _embedded?: { events?: AmoStatusEvent[] }; _links?: { next?: { href: string } } };

/**
 * An amoCRM pipeline's stage history from the events API (Kommo docs "Events", "Events
 * filtration"): `filter[type]=lead_status_changed`, `filter[created_at][from]`, and
 * `filter[value_after][leads_statuses][i]` with every status of the pipeline, 100 a page, newest
 * first, following `_links.next` until `limit`. Each event names who made it (`created_by`). The
 * leads' earlier stages come from their older events, ten leads a request. Requests go through the
 * account's client and its rate limit (7 a second).
 */
export class AmocrmStageHistoryFeed implements StageHistoryFeed {
  constructor(
    private readonly rest: AmoRestClient,
    private readonly baseUrl: string,
  ) {}

  async funnelHistory(funnel: CrmFunnel, since: Date, limit: number): Promise<FunnelHistory> {
    const statuses: Record<string, number> = {};
    funnel.stages.forEach((stage, i) => {
      statuses[`filter[value_after][leads_statuses][${i}][pipeline_id]`] = Number(funnel.id);
      statuses[`filter[value_after][leads_statuses][${i}][status_id]`] = Number(stage.id);
    });
    const sinceSec = Math.floor(since.getTime() / 1000);
    const events: AmoStatusEvent[] = [];
    let capped = false;
    for await (const page of this.pages({ 'filter[type]': 'lead_status_changed', 'filter[entity]': 'lead', 'filter[created_at][from]': sinceSec, ...statuses })) {
      events.push(...page);
      if (events.length > limit) {
        capped = true;
        events.length = limit;
        break;
      }
    }
    // Newest first on the wire; the same second keeps the order the account gave, reversed.
    events.reverse();
    events.sort((a, b) => a.created_at - b.created_at);

    const transitions: FunnelTransition[] = events.flatMap((e) => {
      const from = e.value_before?.[0]?.lead_status?.id;
      const to = e.value_after?.[0]?.lead_status?.id;
      if (from === undefined || to === undefined) return [];
      return [{ dealId: String(e.entity_id), fromStageId: String(from), toStageId: String(to), at: new Date(e.created_at * 1000).toISOString(), movedBy: e.created_by ? String(e.created_by) : null }];
    });
    // Capped: the older events of the period left out count as what the leads passed before.
    const until = (capped && events[0] ? events[0].created_at : sinceSec) - 1;
    const priorStages = await this.priorStages([...new Set(transitions.map((t) => t.dealId))], until);
    // A lead with no older event started where its first move of the period came from.
    for (const t of transitions) if (!priorStages[t.dealId]?.length) priorStages[t.dealId] = [t.fromStageId];
    return { transitions, priorStages, capped, knowsMover: true };
  }

  /** Stages each lead passed up to `until` (inclusive, unix seconds), from its older status events. */
  private async priorStages(leadIds: string[], until: number): Promise<Record<string, string[]>> {
    const prior: Record<string, string[]> = {};
    for (let i = 0; i < leadIds.length; i += IDS_PER_EVENTS_REQUEST) {
      const chunk = leadIds.slice(i, i + IDS_PER_EVENTS_REQUEST);
      const events: AmoStatusEvent[] = [];
      for await (const page of this.pages({ 'filter[type]': 'lead_status_changed', 'filter[entity]': 'lead', 'filter[entity_id]': chunk.map(Number), 'filter[created_at][to]': until })) events.push(...page);
      events.reverse();
      events.sort((a, b) => a.created_at - b.created_at);
      for (const e of events) {
        const path = (prior[String(e.entity_id)] ??= []);
        const from = e.value_before?.[0]?.lead_status?.id;
        const to = e.value_after?.[0]?.lead_status?.id;
        if (path.length === 0 && from !== undefined) path.push(String(from));
        if (to !== undefined) path.push(String(to));
      }
    }
    return prior;
  }

  private async *pages(query: Record<string, string | number | number[]>): AsyncIterable<AmoStatusEvent[]> {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const body = await this.rest.get<EventsPage>('/api/v4/events', { ...query, limit: EVENTS_PAGE, page });
      const events = body?._embedded?.events ?? [];
      if (events.length) yield events;
      if (!body?._links?.next || events.length === 0) return;
    }
    throw new Error(`amoCRM /api/v4/events kept offering a next page after ${MAX_PAGES} pages`);
  }

  async dealsByIds(_entity: DealEntity, ids: readonly string[]): Promise<Deal[]> {
    const deals: Deal[] = [];
    for (let i = 0; i < ids.length; i += LEADS_PAGE) {
      const chunk = ids.slice(i, i + LEADS_PAGE).map(Number);
      const body = await this.rest.get<{ _embedded?: { leads?: AmoLead[] } }>('/api/v4/leads', { 'filter[id]': chunk, limit: LEADS_PAGE });
      deals.push(...(body?._embedded?.leads ?? []).map(toDeal));
    }
    return deals;
  }

  dealUrl(_entity: DealEntity, id: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}/leads/detail/${encodeURIComponent(id)}`;
  }
}
