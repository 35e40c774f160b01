import type { CrmFunnel, Deal, DealEntity } from '../crm-port';
import type { FunnelHistory, FunnelTransition, StageHistoryFeed } from '../stage-history-feed';
import { toDeal } from './adapter';
import { isoSeconds } from './change-feed';
import type { Bitrix24RestClient } from './rest-client';

const ENTITY_TYPE_ID: Record<DealEntity, number> = { lead: 1, deal: 2 };
/** List methods answer 50 rows a page; a batch runs at most 50 commands. */
const PAGE = 50;
/** `TYPE_ID` 1: the record was created in that stage (no move). */
const CREATED = 1;

interface Row {
  id: number;
  ownerId: string;
  stageId: string;
  at: string;
  typeId: number;
}

/**
 * A funnel's stage history from `crm.stagehistory.list` (restdocs `crm/crm-stage-history-list.md`).
 *
 * The period is read newest first and paged by key (`<ID` of the last row, `start: -1` to skip the
 * count, the docs' recipe for big selections) until `limit` rows. Then, for the deals met, what they
 * passed before (`<ID` of their first row read), one command per deal, 50 to a `batch`. The history
 * records no user: `movedBy` is null.
 */
export class Bitrix24StageHistoryFeed implements StageHistoryFeed {
  constructor(
    private readonly rest: Bitrix24RestClient,
    /** `https://portal.bitrix24.ru` (the installation's client endpoint's origin). */
    private readonly portalOrigin: string,
  ) {}

  async funnelHistory(funnel: CrmFunnel, since: Date, limit: number): Promise<FunnelHistory> {
    const entityTypeId = ENTITY_TYPE_ID[funnel.entity];
    const inFunnel = funnel.entity === 'deal' ? { CATEGORY_ID: Number(funnel.id) } : {};
    const rows: Row[] = [];
    let capped = false;
    for (let before: number | null = null; ; ) {
      const filter = { ...inFunnel, '>=CREATED_TIME': isoSeconds(Math.floor(since.getTime() / 1000)), ...(before !== null ? { '<ID': before } : {}) };
      const page = toRows(funnel.entity, await this.rest.call<unknown>('crm.stagehistory.list', { entityTypeId, filter, order: { ID: 'DESC' }, select: SELECT[funnel.entity], start: -1 }));
      rows.push(...page);
      if (rows.length > limit) {
        capped = true;
        rows.length = limit;
        break;
      }
      const last = page[page.length - 1];
      if (page.length < PAGE || !last) break;
      if (before !== null && last.id >= before) throw new Error(`Bitrix24 crm.stagehistory.list ignored the <ID filter at ${before}`);
      before = last.id;
    }
    rows.reverse();

    const firstRowOf = new Map<string, number>();
    for (const row of rows) if (!firstRowOf.has(row.ownerId)) firstRowOf.set(row.ownerId, row.id);
    const priorStages = await this.priorStages(funnel.entity, firstRowOf);

    const last = new Map(Object.entries(priorStages).flatMap(([id, stages]) => (stages.length ? [[id, stages[stages.length - 1]!] as const] : [])));
    const transitions: FunnelTransition[] = [];
    for (const row of rows) {
      const from = last.get(row.ownerId);
      last.set(row.ownerId, row.stageId);
      if (from === undefined || row.typeId === CREATED) {
        // Created in the period: the first stage is where its path starts, not a move.
        if (!transitions.some((t) => t.dealId === row.ownerId)) (priorStages[row.ownerId] ??= []).push(row.stageId);
        continue;
      }
      transitions.push({ dealId: row.ownerId, fromStageId: from, toStageId: row.stageId, at: row.at, movedBy: null });
    }
    return { transitions, priorStages, capped, knowsMover: false };
  }

  /** Each deal's earlier stages (the first 50 rows before its first row read), 50 deals to a batch. */
  private async priorStages(entity: DealEntity, firstRowOf: Map<string, number>): Promise<Record<string, string[]>> {
    const prior: Record<string, string[]> = {};
    const owners = [...firstRowOf.keys()];
    for (let i = 0; i < owners.length; i += PAGE) {
      const chunk = owners.slice(i, i + PAGE);
      const commands = Object.fromEntries(
        chunk.map((owner, n) => [
          `h${n}`,
          { method: 'crm.stagehistory.list', params: { entityTypeId: ENTITY_TYPE_ID[entity], filter: { OWNER_ID: Number(owner), '<ID': firstRowOf.get(owner) }, order: { ID: 'ASC' }, select: SELECT[entity] } },
        ]),
      );
      const { result, errors } = await this.rest.batch(commands);
      chunk.forEach((owner, n) => {
        const error = errors[`h${n}`];
        if (error) throw new Error(`Bitrix24 crm.stagehistory.list (owner ${owner}) failed: ${error.error} ${error.error_description ?? ''}`.trim());
        prior[owner] = toRows(entity, result[`h${n}`]).map((r) => r.stageId);
      });
    }
    return prior;
  }

  async dealsByIds(entity: DealEntity, ids: readonly string[]): Promise<Deal[]> {
    const deals: Deal[] = [];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += PAGE) chunks.push(ids.slice(i, i + PAGE));
    for (let i = 0; i < chunks.length; i += PAGE) {
      const group = chunks.slice(i, i + PAGE);
      const commands = Object.fromEntries(group.map((chunk, n) => [`d${n}`, { method: 'crm.item.list', params: { entityTypeId: ENTITY_TYPE_ID[entity], filter: { '@id': chunk.map(Number) }, start: -1 } }]));
      const { result, errors } = await this.rest.batch(commands);
      group.forEach((_chunk, n) => {
        const error = errors[`d${n}`];
        if (error) throw new Error(`Bitrix24 crm.item.list failed: ${error.error} ${error.error_description ?? ''}`.trim());
        const items = (result[`d${n}`] as { items?: Array<Record<string, unknown>> } | undefined)?.items ?? [];
        deals.push(...items.map((item) => toDeal(entity, item)));
      });
    }
    return deals;
  }

  dealUrl(entity: DealEntity, id: string): string {
    return `${this.portalOrigin}/crm/${entity}/details/${encodeURIComponent(id)}/`;
  }
}

const SELECT: Record<DealEntity, string[]> = {
  deal: ['ID', 'TYPE_ID', 'OWNER_ID', 'CREATED_TIME', 'CATEGORY_ID', 'STAGE_ID'],
  lead: ['ID', 'TYPE_ID', 'OWNER_ID', 'CREATED_TIME', 'STATUS_ID'],
};

function toRows(entity: DealEntity, raw: unknown): Row[] {
  const items = ((raw as { items?: Array<Record<string, unknown>> } | null)?.items ?? []);
  return items.flatMap((item) => {
    const at = Date.parse(String(item.CREATED_TIME ?? ''));
    const stageId = entity === 'lead' ? item.STATUS_ID : item.STAGE_ID;
    if (item.ID === undefined || item.OWNER_ID === undefined || stageId === undefined || Number.isNaN(at)) return [];
    return [{ id: Number(item.ID), ownerId: String(item.OWNER_ID), stageId: String(stageId), at: new Date(at).toISOString(), typeId: Number(item.TYPE_ID) }];
  });
}
