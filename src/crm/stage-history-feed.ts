import type { CrmFunnel, Deal, DealEntity } from './crm-port';

/**
 * A funnel's stage history over a period, for the regulation dry run: every stage change in the
 * funnel since a moment, with what each deal passed before it. One adapter per CRM
 * (`bitrix24/stage-history-feed.ts`: `crm.stagehistory.list`; `amocrm/stage-history-feed.ts`:
 * `GET /api/v4/events` of type `lead_status_changed`). Reads go through the installation's client
 * (rate limiter, Bitrix24 batches).
 */
export interface FunnelTransition {
  dealId: string;
  fromStageId: string;
  toStageId: string;
  /** ISO instant. */
  at: string;
  /** Who moved the deal; null where the CRM does not record it (Bitrix24 stage history). */
  movedBy: string | null;
}

export interface FunnelHistory {
  /** Oldest first: the newest `limit` stage changes of the period. */
  transitions: FunnelTransition[];
  /** Stages each deal of `transitions` passed before its first transition read, oldest first. */
  priorStages: Record<string, string[]>;
  /** More changes happened in the period than `limit`: the oldest were left out. */
  capped: boolean;
  /** Whether `movedBy` is known. */
  knowsMover: boolean;
}

export interface StageHistoryFeed {
  /** Stage changes into any stage of `funnel` since `since`, the newest `limit` of them. */
  funnelHistory(funnel: CrmFunnel, since: Date, limit: number): Promise<FunnelHistory>;
  /** The deals by id as they are now (deleted ones are missing). */
  dealsByIds(entity: DealEntity, ids: readonly string[]): Promise<Deal[]>;
  /** The deal's card in the CRM. */
  dealUrl(entity: DealEntity, id: string): string;
}
