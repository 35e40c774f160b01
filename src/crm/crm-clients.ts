import type { Redis } from 'ioredis';
import type { AppConfig } from '../config';
import { installationKey } from '../infra/keys';
import type { BucketLimits, RedisRateLimiter } from '../infra/rate-limiter';
import { TtlCache } from '../infra/ttl-cache';
import { InstallationRevokedError } from '../errors';
import type { InvalidationBus } from '../infra/invalidation-bus';
import { installationLock } from '../installations/installation-lock';
import { RedisInstallationState } from '../installations/installation-state';
import type { AmocrmInstallation, Bitrix24Installation, Installation, TokenSet } from '../installations/installation';
import type { InstallationStore } from '../installations/installation-store';
import type { TokenRefresher } from '../installations/token-refresher';
import type { Logger } from '../log';
import { globalSettingsOf } from '../settings/installation-settings';
import { AmoCrmAdapter } from './amocrm/adapter';
import { AmoIdentityIndex } from './amocrm/identity-index';
import { AmoRequestMerger } from './amocrm/request-merger';
import { AmoRestClient } from './amocrm/rest-client';
import { Bitrix24Adapter } from './bitrix24/adapter';
import { BatchCoalescer } from './bitrix24/batch-coalescer';
import { Bitrix24RestClient } from './bitrix24/rest-client';

import type { CrmField, CrmFunnel, CrmPort, CrmUser } from './crm-port';

export interface CrmClientsDeps {
  redis: Redis;
  prefix: string;
  config: Pick<AppConfig, 'BITRIX24_CLIENT_ID' | 'BITRIX24_CLIENT_SECRET' | 'BITRIX24_COALESCE_BATCHES' | 'BITRIX24_RATE_BURST' | 'BITRIX24_RATE_PER_SECOND' | 'BITRIX24_RATE_MARGIN_MS' | 'AMOCRM_RATE_PER_SECOND' | 'AMOCRM_MERGE_REQUESTS'>;
  store: InstallationStore;
  refresher: TokenRefresher;
  limiter: RedisRateLimiter;
  log: Logger;
  /** Tells the other processes that an installation's catalog changed; without it, changes stay local. */
  invalidations?: InvalidationBus;
}

/**
 * How long users, fields and funnels are trusted without a change being heard. Bitrix24 announces
 * user field changes and new users (bound at install, invalidated through the bus); funnels and
 * stages, user deactivation, and anything on amoCRM (no such webhooks) rely on this TTL and on
 * noticing a stale catalog in what the CRM answers.
 */
const FIVE_MINUTES = 5 * 60 * 1000;
/** Per cache; the least recently used installation's entries go first (one worker serves thousands). */
const CATALOG_ENTRIES_MAX = 5000;
/** Coalescers are small but one per portal; an evicted one is rebuilt on the next job (the rate lives in Redis). */
const COALESCERS_MAX = 2000;

/** Builds the CrmPort of an installation: the right adapter, its tokens, the shared limiter. */
export class CrmClients {
  private readonly caches = {
    funnels: new TtlCache<CrmFunnel[]>(FIVE_MINUTES, CATALOG_ENTRIES_MAX),
    fields: new TtlCache<CrmField[]>(FIVE_MINUTES, CATALOG_ENTRIES_MAX),
    users: new TtlCache<CrmUser[]>(FIVE_MINUTES, CATALOG_ENTRIES_MAX),
    lossReasons: new TtlCache<Array<{ id: number; name: string }>>(FIVE_MINUTES, CATALOG_ENTRIES_MAX),
    /** An adapter saw the catalog is stale (amoCRM: a field or status the CRM no longer knows). */
    stale: (installationId: string) => void this.catalogChanged(installationId).catch(() => undefined),
  };
  private listening = false;

  /**
   * One batch coalescer per Bitrix24 installation in this process, shared by every job's client, so
   * concurrent jobs' commands travel in shared batches. Rebuilt when the portal's address or plan changes.
   */
  private readonly coalescers = new Map<string, { fingerprint: string; coalescer: BatchCoalescer }>();

  /** One request merger per amoCRM account in this process, shared by every job's adapter (README, "Merged amoCRM requests"). */
  private readonly mergers = new Map<string, AmoRequestMerger>();

  constructor(private readonly deps: CrmClientsDeps) {}

  async forInstallation(installation: Installation): Promise<CrmPort> {
    this.listen();
    const tokens = await this.deps.store.tokens(installation.id);
    if (!tokens || installation.status !== 'active') throw new InstallationRevokedError(installation.id, installation.revokedReason ?? 'no tokens');
    const log = this.deps.log.child({ installation: installation.id });
    if (installation.crm === 'bitrix24') return new Bitrix24Adapter(await this.bitrix24Rest(installation, tokens), installation.id, this.caches, installation.adminUserIds);
    const rest = this.amocrmRest(installation, tokens, log);
    const lock = installationLock(new RedisInstallationState(this.deps.redis, this.deps.prefix, installation.id));
    const merger = this.deps.config.AMOCRM_MERGE_REQUESTS === 'on' ? this.amocrmMerger(installation) : undefined;
    // The newest client carries the newest stored tokens: shared requests go with its access token.
    merger?.useTransport(rest);
    return new AmoCrmAdapter(rest, installation.id, this.caches, lock, merger, this.amocrmIdentities(installation));
  }

  /** The raw Bitrix24 REST client, for install-time calls that are not part of the CrmPort (event.bind). */
  async bitrix24Rest(installation: Bitrix24Installation, known?: TokenSet): Promise<Bitrix24RestClient> {
    const tokens = known ?? (await this.deps.store.tokens(installation.id));
    if (!tokens) throw new InstallationRevokedError(installation.id, 'no tokens');
    const log = this.deps.log.child({ installation: installation.id });
    const limiterKey = installationKey(this.deps.prefix, installation.id, 'rate');
    const limits = this.bitrix24Limits(installation);
    const coalescer = this.deps.config.BITRIX24_COALESCE_BATCHES === 'on' ? this.bitrix24Coalescer(installation, { limiter: this.deps.limiter, limiterKey, limits, log }) : undefined;
    const client = new Bitrix24RestClient({
      installation,
      tokens,
      refresher: this.deps.refresher,
      limiter: this.deps.limiter,
      limiterKey,
      limits,
      clientId: this.deps.config.BITRIX24_CLIENT_ID,
      clientSecret: this.deps.config.BITRIX24_CLIENT_SECRET,
      log,
      coalescer,
    });
    // The newest client carries the newest stored tokens: shared batches go with its access token
    // (one token per batch), and its refresh goes through the cross-process refresher.
    coalescer?.useTransport(client);
    return client;
  }

  /** The installation's shared coalescer (for benches and diagnostics: its `stats`). */
  bitrix24Coalescer(installation: Bitrix24Installation, deps?: ConstructorParameters<typeof BatchCoalescer>[0]): BatchCoalescer {
    const limits = this.bitrix24Limits(installation);
    const fingerprint = JSON.stringify([installation.clientEndpoint, installation.memberId, limits]);
    const known = this.coalescers.get(installation.id);
    if (known && known.fingerprint === fingerprint) {
      this.coalescers.delete(installation.id);
      this.coalescers.set(installation.id, known); // most recently used last: eviction takes the first
      return known.coalescer;
    }
    const coalescer = new BatchCoalescer(
      deps ?? { limiter: this.deps.limiter, limiterKey: installationKey(this.deps.prefix, installation.id, 'rate'), limits, log: this.deps.log.child({ installation: installation.id }) },
    );
    this.coalescers.delete(installation.id);
    this.coalescers.set(installation.id, { fingerprint, coalescer });
    while (this.coalescers.size > COALESCERS_MAX) this.coalescers.delete(this.coalescers.keys().next().value as string);
    return coalescer;
  }

  /** The account's shared request merger (for benches and diagnostics: its `stats`). */
  amocrmMerger(installation: AmocrmInstallation): AmoRequestMerger {
    const merger = this.mergers.get(installation.id) ?? new AmoRequestMerger();
    // Most recently used last; past the cap the least recent (idle for long) goes, as with coalescers.
    this.mergers.delete(installation.id);
    this.mergers.set(installation.id, merger);
    while (this.mergers.size > COALESCERS_MAX) this.mergers.delete(this.mergers.keys().next().value as string);
    return merger;
  }

  /** The account's contact identity index (duplicate lookups; README "Duplicate catcher"). */
  amocrmIdentities(installation: AmocrmInstallation): AmoIdentityIndex {
    return new AmoIdentityIndex(this.deps.redis, this.deps.prefix, installation.id);
  }

  /** The raw amoCRM REST client, for install-time calls (account, webhooks). */
  amocrmRest(installation: AmocrmInstallation, tokens: TokenSet, log: Logger = this.deps.log): AmoRestClient {
    return new AmoRestClient({
      installation,
      tokens,
      refresher: this.deps.refresher,
      limiter: this.deps.limiter,
      // amoCRM allows 7 requests per second per integration, counted over any second: a bucket of 1
      // draining (rate − 1)/s never puts more than `rate` requests into one second.
      limits: { burst: 1, perSecond: Math.max(1, this.deps.config.AMOCRM_RATE_PER_SECOND - 1) },
      redis: this.deps.redis,
      prefix: this.deps.prefix,
      log,
    });
  }

  /**
   * Plan limits: 50/2 by default, overridable per installation (`settings.rateLimit`, e.g. Enterprise 250/5),
   * less the arrival headroom (`admissionLimits`).
   */
  private bitrix24Limits(installation: Installation) {
    const plan = globalSettingsOf(installation.settings).rateLimit;
    return admissionLimits(
      { burst: plan?.burst ?? this.deps.config.BITRIX24_RATE_BURST, perSecond: plan?.perSecond ?? this.deps.config.BITRIX24_RATE_PER_SECOND },
      this.deps.config.BITRIX24_RATE_MARGIN_MS ?? 0,
    );
  }

  /** An uninstalled installation: its caches, request merger and batch coalescer go. */
  forget(installationId: string): void {
    this.invalidate(installationId);
    this.mergers.delete(installationId);
    this.coalescers.delete(installationId);
  }

  /** Forget cached funnels/fields/users of an installation in this process (after its regulation or funnels change). */
  invalidate(installationId: string | null): void {
    for (const cache of [this.caches.funnels, this.caches.fields, this.caches.users, this.caches.lossReasons]) cache.clear(installationId ?? undefined);
  }

  /** The installation's users, fields or funnels changed: forget them here and in every other process. */
  async catalogChanged(installationId: string): Promise<void> {
    this.invalidate(installationId);
    await this.deps.invalidations?.publish('catalog', installationId);
  }

  /** Sizes for the memory bench and diagnostics. */
  get cachedInstallations() {
    return { funnels: this.caches.funnels.size, fields: this.caches.fields.size, users: this.caches.users.size, coalescers: this.coalescers.size };
  }

  /** Hears other processes' catalog changes from the first adapter built on (processes that build none open no subscription). */
  private listen(): void {
    if (this.listening || !this.deps.invalidations) return;
    this.listening = true;
    this.deps.invalidations.subscribe('catalog', (installationId) => this.invalidate(installationId));
  }
}

/**
 * The bucket the app admits requests by, for a portal bucket of `plan`. Both leak at the same rate,
 * but the portal counts a request when it arrives and the app when it lets it go: two requests let
 * go 500 ms apart at a full bucket may arrive 200 ms apart (one waited longer for the event loop,
 * the socket, the portal parsing its body), and the second is then over the portal's brim —
 * QUERY_LIMIT_EXCEEDED though the app kept the rate. Keeping `marginMs` of drain as headroom absorbs
 * any such unevenness up to `marginMs`; it lowers the burst by ceil(rate × margin), never the rate.
 */
export function admissionLimits(plan: BucketLimits, marginMs: number): BucketLimits {
  const headroom = Math.ceil((plan.perSecond * marginMs) / 1000);
  return { burst: Math.max(1, plan.burst - headroom), perSecond: plan.perSecond };
}
