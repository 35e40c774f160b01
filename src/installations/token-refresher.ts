import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { InstallationRevokedError, TransientError } from '../errors';
import { installationKey } from '../infra/keys';
import { sleep } from '../infra/sleep';
import type { Installation, TokenSet } from './installation';
import type { InstallationStore } from './installation-store';

/** The CRM refused the refresh token (used, expired or the app was removed). */
export class RefreshRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefreshRejectedError';
  }
}

/** Performs the actual OAuth call for one CRM. */
export type RefreshGrant = (installation: Installation, refreshToken: string) => Promise<TokenSet>;

const LOCK_TTL_MS = 30_000;
const WAIT_STEP_MS = 25;

/**
 * At most one refresh per installation at a time across every process.
 *
 * Both CRMs rotate the refresh token on every refresh and reject the old one, so two
 * processes refreshing with the same token would lose the installation. A caller says
 * which access token it found stale; under a Redis lock we re-read the stored pair and
 * refresh only if nobody has done it yet. The new pair is saved before anyone uses it.
 */
export class TokenRefresher {
  constructor(
    private readonly redis: Redis,
    private readonly store: InstallationStore,
    private readonly prefix: string,
    private readonly grants: Record<Installation['crm'], RefreshGrant>,
    private readonly log: Logger,
  ) {}

  async refresh(installationId: string, staleAccessToken: string): Promise<TokenSet> {
    const lockKey = installationKey(this.prefix, installationId, 'refresh-lock');
    const deadline = Date.now() + LOCK_TTL_MS * 2;
    while (Date.now() < deadline) {
      const current = await this.currentTokens(installationId);
      if (current.accessToken !== staleAccessToken) return current; // someone else already refreshed
      const owner = randomUUID();
      if (await this.redis.set(lockKey, owner, 'PX', LOCK_TTL_MS, 'NX')) {
        try {
          return await this.refreshUnderLock(installationId, staleAccessToken);
        } finally {
          await this.redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lockKey, owner);
        }
      }
      await sleep(WAIT_STEP_MS);
    }
    throw new TransientError(`Timed out waiting for the token refresh of ${installationId}`, 'REFRESH_LOCK_TIMEOUT');
  }

  private async refreshUnderLock(installationId: string, staleAccessToken: string): Promise<TokenSet> {
    const installation = await this.store.find(installationId);
    if (!installation || installation.status !== 'active') throw new InstallationRevokedError(installationId, 'not installed');
    const current = await this.currentTokens(installationId);
    if (current.accessToken !== staleAccessToken) return current;
    try {
      const next = await this.grants[installation.crm](installation, current.refreshToken);
      await this.store.saveTokens(installationId, next);
      this.log.info({ installation: installationId }, 'OAuth tokens refreshed');
      return next;
    } catch (err) {
      if (!(err instanceof RefreshRejectedError)) throw err;
      // Another process might have rotated the pair between our read and the call.
      const again = await this.store.tokens(installationId);
      if (again && again.refreshToken !== current.refreshToken) return again;
      await this.store.markRevoked(installationId, err.message);
      this.log.error({ installation: installationId, reason: err.message }, 'Refresh token rejected: installation marked revoked; reinstall the app');
      throw new InstallationRevokedError(installationId, err.message);
    }
  }

  private async currentTokens(installationId: string): Promise<TokenSet> {
    const tokens = await this.store.tokens(installationId);
    if (!tokens) throw new InstallationRevokedError(installationId, 'no tokens stored');
    return tokens;
  }
}
