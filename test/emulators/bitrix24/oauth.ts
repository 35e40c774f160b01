/**
 * Token issuing/validation and the OAuth server's `/oauth/token/` refresh endpoint
 * (restdocs `settings/oauth/index.md`, `auto-renewal.md`, `error-codes.md`).
 * Refresh tokens are single-use: every refresh returns a new pair and burns the old refresh token.
 */
import { randomHex } from './util';

interface AccessTokenState {
  userId: number;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshTokenState {
  userId: number;
  used: boolean;
  revoked: boolean;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string | null;
  userId: number;
  /** Unix seconds. */
  expires: number;
  expiresIn: number;
}

export type AccessCheck = { ok: true; userId: number } | { ok: false; status: number; error: string; description: string };

export class TokenStore {
  private readonly access = new Map<string, AccessTokenState>();
  private readonly refresh = new Map<string, RefreshTokenState>();

  constructor(
    private readonly now: () => number,
    private readonly ttlSec: number,
  ) {}

  issue(userId: number, withRefresh: boolean): IssuedTokens {
    const accessToken = randomHex();
    const expiresAt = this.now() + this.ttlSec * 1000;
    this.access.set(accessToken, { userId, expiresAt, revoked: false });
    let refreshToken: string | null = null;
    if (withRefresh) {
      refreshToken = randomHex();
      this.refresh.set(refreshToken, { userId, used: false, revoked: false });
    }
    return { accessToken, refreshToken, userId, expires: Math.floor(expiresAt / 1000), expiresIn: this.ttlSec };
  }

  /** REST-side check (restdocs `error-codes.md`): unknown/revoked → NO_AUTH_FOUND, expired → expired_token. */
  check(token: unknown): AccessCheck {
    const state = typeof token === 'string' ? this.access.get(token) : undefined;
    if (!state || state.revoked) {
      return { ok: false, status: 401, error: 'NO_AUTH_FOUND', description: 'Wrong authorization data' };
    }
    if (state.expiresAt <= this.now()) {
      return { ok: false, status: 401, error: 'expired_token', description: 'The access token provided has expired' };
    }
    return { ok: true, userId: state.userId };
  }

  /** Exchanges a refresh token (single use) for a new pair, or returns `null` if it is unknown/used/revoked. */
  redeem(refreshToken: string): IssuedTokens | null {
    const state = this.refresh.get(refreshToken);
    if (!state || state.used || state.revoked) return null;
    state.used = true;
    return this.issue(state.userId, true);
  }

  revokeAll(): void {
    for (const state of this.access.values()) state.revoked = true;
    for (const state of this.refresh.values()) state.revoked = true;
  }

  expireAll(): void {
    const past = this.now() - 1;
    for (const state of this.access.values()) state.expiresAt = Math.min(state.expiresAt, past);
  }
}

export interface OAuthContext {
  clientId: string;
  clientSecret: string;
  tokens: TokenStore;
  /** Builds the documented 200 body for a freshly issued pair. */
  describe: (issued: IssuedTokens) => Record<string, unknown>;
}

/** Handles `grant_type=refresh_token` (GET query or POST form/JSON). Returns HTTP status and JSON body. */
export function handleTokenRequest(params: Record<string, unknown>, ctx: OAuthContext): { status: number; body: Record<string, unknown> } {
  const fail = (status: number, error: string, description: string) => ({ status, body: { error, error_description: description } });
  const grantType = String(params.grant_type ?? '');
  if (grantType !== 'refresh_token') {
    return fail(400, 'invalid_request', grantType ? `Unsupported grant_type "${grantType}"` : 'grant_type is required');
  }
  if (params.client_id !== ctx.clientId || params.client_secret !== ctx.clientSecret) {
    return fail(401, 'invalid_client', 'Invalid client');
  }
  const refreshToken = typeof params.refresh_token === 'string' ? params.refresh_token : '';
  if (!refreshToken) return fail(400, 'invalid_request', 'refresh_token is required');
  const issued = ctx.tokens.redeem(refreshToken);
  if (!issued) return fail(400, 'invalid_grant', 'Invalid refresh token');
  return { status: 200, body: ctx.describe(issued) };
}

/** Leaky bucket (restdocs `limits.md`): each request adds 1, the counter drains by `drainPerSecond`. */
export class LeakyBucket {
  private level = 0;
  private updatedAt: number;

  constructor(
    private readonly burst: number,
    private readonly drainPerSecond: number,
    private readonly now: () => number,
  ) {
    this.updatedAt = now();
  }

  /** Returns `false` (request must be rejected with QUERY_LIMIT_EXCEEDED) when the bucket is full. */
  take(): boolean {
    const now = this.now();
    this.level = Math.max(0, this.level - ((now - this.updatedAt) / 1000) * this.drainPerSecond);
    this.updatedAt = now;
    if (this.level + 1 > this.burst) return false;
    this.level += 1;
    return true;
  }

  reset(): void {
    this.level = 0;
    this.updatedAt = this.now();
  }

  /** Full to the brim now: the next request before a drain step is refused. */
  fill(): void {
    this.level = this.burst;
    this.updatedAt = this.now();
  }
}
