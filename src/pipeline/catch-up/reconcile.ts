import { observeReconcileLag } from '../../observability/metrics';
import { AmocrmChangeFeed } from '../../crm/amocrm/change-feed';
import { Bitrix24ChangeFeed } from '../../crm/bitrix24/change-feed';
import type { ChangedDeal, ChangeFeed, ScanStart } from '../../crm/change-feed';
import type { DealEntity } from '../../crm/crm-port';
import { InstallationRevokedError } from '../../errors';
import type { InboundEvent } from '../../events';
import { ensureAmocrmWebhook, type WebhookHealth } from '../../installations/amocrm-webhook-health';
import type { AmocrmInstallation, Installation } from '../../installations/installation';
import { refreshIdentityIndex } from '../../crm/amocrm/identity-backfill';
import type { AmoRestClient } from '../../crm/amocrm/rest-client';
import type { Services } from '../../services';
import { CatchUpState } from './catch-up-state';

/**
 * Each run starts this many seconds before the watermark: a change whose transaction committed
 * a moment after a later one was listed is still found. Repeats cost a list row, not a job
 * (versions the worker handled are skipped; BullMQ deduplicates a deal whose job still waits).
 */
export const OVERLAP_SECONDS = 60;

export interface ReconcileResult {
  installationId: string;
  outcome: 'done' | 'unknown-installation' | 'revoked';
  /** Rows the CRM listed (repeats included). */
  listed: number;
  /** Deals enqueued through the normal path. */
  enqueued: number;
  /** amoCRM only: whether our webhook had to be re-subscribed. */
  webhook?: WebhookHealth;
  watermarks: Partial<Record<DealEntity, number>>;
  /** Seconds between this run's end and the previous run's end (null on the first run): the reconciliation lag it closed. */
  lagSeconds: number | null;
}

/**
 * Catch-up of one installation: read what changed in the CRM since the watermark and enqueue
 * every deal whose current version the worker has not handled, exactly as a webhook would
 * (`EventQueue.enqueue`: per-deal deduplication with live events, robots judge the current
 * state, writes happen only when a value differs). The watermark moves after each page is
 * enqueued, so a run that dies half-way resumes where it stopped.
 */
export async function reconcileInstallation(installationId: string, services: Services, nowMs = Date.now()): Promise<ReconcileResult> {
  const state = new CatchUpState(services.redis, services.prefix);
  const empty = { installationId, listed: 0, enqueued: 0, watermarks: {}, lagSeconds: null };
  const installation = await services.store.find(installationId);
  if (!installation) return { ...empty, outcome: 'unknown-installation' };
  if (installation.status !== 'active') return { ...empty, outcome: 'revoked' };
  const log = services.log.child({ installation: installation.id, catchUp: true });

  // First the webhook (amoCRM): re-subscribing before the scan means the scan covers the gap.
  const webhook = installation.crm === 'amocrm' ? await ensureAmocrmWebhook(installation, services) : undefined;
  const feed = await changeFeedFor(installation, services);
  const before = await state.status(installation.id);
  const since = scanStart(feed, before.watermarks, installation, services.config.RECONCILE_FIRST_WINDOW_S, nowMs);

  let listed = 0;
  let enqueued = 0;
  for await (const page of feed.changedSince(since)) {
    // Uninstalled meanwhile: stop before writing anything under its keys again.
    if (!(await services.store.find(installation.id))) return { ...empty, outcome: 'unknown-installation', listed, enqueued };
    listed += page.length;
    const fresh = await state.unseen(installation.id, page);
    // Not marked as handled here: the job records the version it actually read (a failed job is enqueued again next run).
    for (const item of fresh) await services.events.enqueue(await eventFor(item, installation, since, services));
    enqueued += fresh.length;
    for (const entity of feed.entities) {
      const newest = Math.max(...page.filter((i) => i.entity === entity).map((i) => i.updatedAt));
      if (Number.isFinite(newest)) await state.advance(installation.id, entity, newest);
    }
  }
  // amoCRM: the duplicate catcher's identity index (backfill, then contacts modified since the last run).
  if (installation.crm === 'amocrm') await refreshIdentityIndex(await amocrmRestFor(installation, services), services.clients.amocrmIdentities(installation), log);
  const finishedAt = Date.now();
  await state.finishRun(installation.id, finishedAt);
  const after = await state.status(installation.id);
  const lagSeconds = before.reconciledAt === null ? null : (finishedAt - before.reconciledAt) / 1000;
  if (enqueued > 0) log.info({ listed, enqueued, since, watermarks: after.watermarks }, 'catch-up enqueued deals the app had not handled');
  else log.debug({ listed, since }, 'catch-up found nothing new');
  // The gauge shows how much time this pass had to cover (the worst installation is what alerting watches).
  observeReconcileLag(installationId, lagSeconds ?? 0);
  return { installationId, outcome: 'done', listed, enqueued, webhook, watermarks: after.watermarks, lagSeconds };
}

/**
 * Where a run starts, per entity: the watermark minus the overlap; with no watermark yet, the
 * install time, but never more than RECONCILE_FIRST_WINDOW_S back (an installation that predates
 * catch-up must not replay its whole history at the first start).
 */
export function scanStart(
  feed: Pick<ChangeFeed, 'entities'>,
  watermarks: Partial<Record<DealEntity, number>>,
  installation: Pick<Installation, 'installedAt'>,
  firstWindowSeconds: number,
  nowMs: number,
): ScanStart {
  const installed = Math.floor(Date.parse(installation.installedAt) / 1000);
  const floor = Math.floor(nowMs / 1000) - firstWindowSeconds;
  const first = Number.isNaN(installed) ? floor : Math.max(installed, floor);
  const start = { deal: first, lead: first };
  for (const entity of feed.entities) {
    const mark = watermarks[entity];
    if (mark !== undefined) start[entity] = mark - OVERLAP_SECONDS;
  }
  return start;
}

/**
 * The event a webhook would have brought. "Created" when the deal appeared inside the scanned
 * span and the app has never seen it (no last-seen stage), so robots that act on new deals
 * (a lead not taken in time) see it as new; everything else is an update.
 */
async function eventFor(item: ChangedDeal, installation: Installation, since: ScanStart, services: Services): Promise<InboundEvent> {
  const known = (await services.tracker.get(installation.id, item)) !== null;
  const createdInSpan = item.createdAt !== null && item.createdAt >= since[item.entity];
  return {
    installationId: installation.id,
    crm: installation.crm,
    kind: createdInSpan && !known ? 'created' : 'updated',
    entity: item.entity,
    entityId: item.id,
    receivedAt: Date.now(),
    via: 'catch-up',
  };
}

async function changeFeedFor(installation: Installation, services: Services): Promise<ChangeFeed> {
  if (installation.crm === 'bitrix24') return new Bitrix24ChangeFeed(await services.clients.bitrix24Rest(installation));
  return new AmocrmChangeFeed(await amocrmRestFor(installation, services));
}

async function amocrmRestFor(installation: AmocrmInstallation, services: Services): Promise<AmoRestClient> {
  const tokens = await services.store.tokens(installation.id);
  if (!tokens) throw new InstallationRevokedError(installation.id, 'no tokens');
  return services.clients.amocrmRest(installation, tokens, services.log.child({ installation: installation.id }));
}
