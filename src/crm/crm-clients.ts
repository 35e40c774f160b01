import type { Redis } from 'ioredis';
import type { AppConfig } from '../config';
import { installationKey } from '../infra/keys';
import type { RedisRateLimiter } from '../infra/rate-limiter';
import { TtlCache } from '../infra/ttl-cache';
import { InstallationRevokedError } from '../errors';
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
  config: Pick<AppConfig, 'BITRIX24_CLIENT_ID' | 'BITRIX24_CLIENT_SECRET' | 'BITRIX24_COALESCE_BATCHES' | 'BITRIX24_RATE_BURST' | 'BITRIX24_RATE_PER_SECOND' | 'AMOCRM_RATE_PER_SECOND' | 'AMOCRM_MERGE_REQUESTS'>;
  store: InstallationStore;
  refresher: TokenRefresher;
  limiter: RedisRateLimiter;
  log: Logger;
}

const FIVE_MINUTES = 5 * 60 * 1000;

/** Builds the CrmPort of an installation: the right adapter, its tokens, the shared limiter. */
export class CrmClients {
  private readonly caches = {
    funnels: new TtlCache<CrmFunnel[]>(FIVE_MINUTES),
    fields: new TtlCache<CrmField[]>(FIVE_MINUTES),
    users: new TtlCache<CrmUser[]>(FIVE_MINUTES),
    lossReasons: new TtlCache<Array<{ id: number; name: string }>>(FIVE_MINUTES),
  };

  /**
   * One batch coalescer per Bitrix24 installation in this process, shared by every job's client, so
   * concurrent jobs' commands travel in shared batches. Rebuilt when the portal's address or plan changes.
   */
  private readonly coalescers = new Map<string, { fingerprint: string; coalescer: BatchCoalescer }>();

  /** One request merger per amoCRM account in this process, shared by every job's adapter (README, "Merged amoCRM requests"). */
  private readonly mergers = new Map<string, AmoRequestMerger>();

  constructor(private readonly deps: CrmClientsDeps) {}

  async forInstallation(installation: Installation): Promise<CrmPort> {
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
    if (known && known.fingerprint === fingerprint) return known.coalescer;
    const coalescer = new BatchCoalescer(
      deps ?? { limiter: this.deps.limiter, limiterKey: installationKey(this.deps.prefix, installation.id, 'rate'), limits, log: this.deps.log.child({ installation: installation.id }) },
    );
    this.coalescers.set(installation.id, { fingerprint, coalescer });
    return coalescer;
  }

  /** The account's shared request merger (for benches and diagnostics: its `stats`). */
  amocrmMerger(installation: AmocrmInstallation): AmoRequestMerger {
    let merger = this.mergers.get(installation.id);
    if (!merger) this.mergers.set(installation.id, (merger = new AmoRequestMerger()));
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

  /** Plan limits: 50/2 by default, overridable per installation (`settings.rateLimit`, e.g. Enterprise 250/5). */
  private bitrix24Limits(installation: Installation) {
    const plan = globalSettingsOf(installation.settings).rateLimit;
    return {
      burst: plan?.burst ?? this.deps.config.BITRIX24_RATE_BURST,
      perSecond: plan?.perSecond ?? this.deps.config.BITRIX24_RATE_PER_SECOND,
    };
  }

  /** Forget cached funnels/fields of an installation (after its regulation or funnels change). */
  invalidate(installationId: string): void {
    for (const cache of Object.values(this.caches)) cache.clear(installationId);
    this.mergers.delete(installationId);
  }
}
