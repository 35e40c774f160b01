/**
 * OAuth 2.0 server of the emulated amoCRM account (research amocrm.md §1).
 *
 * - authorization codes: single use, 20 min;
 * - `POST /oauth2/access_token` with `authorization_code` / `refresh_token` grants (JSON or form);
 * - access tokens are JWT-looking strings (`eyJ…`) with amoCRM-like claims, 24 h by default;
 * - refresh tokens are **globally single use**: every refresh returns a new pair and revokes the
 *   previous pair (old access token included, as league/oauth2-server which amoCRM uses does);
 *   reusing one answers 401 `{"hint":"Token has been revoked",…}`.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export const OAUTH_PROBLEM_TYPE = 'https://developers.amocrm.ru/v3/errors/OAuthProblemJson';

export interface OAuthResult {
  status: number;
  body: Record<string, unknown>;
}

interface CodeRecord {
  userId: number;
  expiresAt: number;
  used: boolean;
}

interface AccessRecord {
  userId: number;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshRecord {
  userId: number;
  expiresAt: number;
  used: boolean;
  revoked: boolean;
  accessToken: string;
}

export interface OAuthConfig {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  accountId: number;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  authCodeTtlSec: number;
  now: () => number;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

function problem(status: number, hint: string): OAuthResult {
  return {
    status,
    body: {
      hint,
      title: 'Некорректный запрос',
      type: OAUTH_PROBLEM_TYPE,
      status,
      detail: 'В запросе отсутствует ряд параметров или параметры невалидны',
    },
  };
}

export class OAuthServer {
  private codes = new Map<string, CodeRecord>();
  private access = new Map<string, AccessRecord>();
  private refresh = new Map<string, RefreshRecord>();
  private signingKey = randomBytes(32);
  readonly stats = { refreshCalls: 0, tokenExchanges: 0, refreshFailures: 0 };

  constructor(private readonly cfg: OAuthConfig) {}

  issueCode(userId: number): string {
    const code = `def50200${randomBytes(160).toString('hex')}`;
    this.codes.set(code, { userId, expiresAt: this.cfg.now() + this.cfg.authCodeTtlSec * 1000, used: false });
    return code;
  }

  private jwt(userId: number, iat: number, exp: number): string {
    const jti = randomBytes(20).toString('hex');
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', jti }));
    const payload = b64url(
      JSON.stringify({
        aud: this.cfg.clientId,
        jti,
        iat,
        nbf: iat,
        exp,
        sub: String(userId),
        grant_type: '',
        account_id: this.cfg.accountId,
        base_domain: 'amocrm.ru',
        version: 2,
        scopes: ['crm', 'files', 'files_delete', 'notifications', 'push_notifications'],
        hash_uuid: randomUUID(),
        api_domain: 'api-b.amocrm.ru',
      }),
    );
    // Opaque signature with the length of an RS256 one (256 bytes); clients must not verify it.
    const mac = createHmac('sha256', this.signingKey).update(`${header}.${payload}`).digest();
    const sig = Buffer.concat(Array.from({ length: 8 }, () => mac)).toString('base64url');
    return `${header}.${payload}.${sig}`;
  }

  private issuePair(userId: number): Record<string, unknown> {
    const nowMs = this.cfg.now();
    const iat = Math.floor(nowMs / 1000);
    const accessToken = this.jwt(userId, iat, iat + this.cfg.accessTokenTtlSec);
    const refreshToken = `def50200${randomBytes(300).toString('hex')}`;
    this.access.set(accessToken, { userId, expiresAt: nowMs + this.cfg.accessTokenTtlSec * 1000, revoked: false });
    this.refresh.set(refreshToken, {
      userId,
      expiresAt: nowMs + this.cfg.refreshTokenTtlSec * 1000,
      used: false,
      revoked: false,
      accessToken,
    });
    return {
      token_type: 'Bearer',
      expires_in: this.cfg.accessTokenTtlSec,
      access_token: accessToken,
      refresh_token: refreshToken,
    };
  }

  /** Handles `POST /oauth2/access_token` (already-parsed body). */
  token(body: Record<string, unknown>): OAuthResult {
    const grant = body.grant_type;
    if (grant === 'refresh_token') this.stats.refreshCalls++;
    else if (grant === 'authorization_code') this.stats.tokenExchanges++;
    if (typeof body.client_id !== 'string' || body.client_id === '') return problem(400, 'Check the `client_id` parameter');
    if (body.client_id !== this.cfg.clientId || body.client_secret !== this.cfg.clientSecret) {
      return problem(400, 'Client authentication failed');
    }
    if (grant !== 'authorization_code' && grant !== 'refresh_token') {
      return problem(400, 'The authorization grant type is not supported by the authorization server.');
    }
    if (typeof body.redirect_uri !== 'string' || body.redirect_uri === '') return problem(400, 'Check the `redirect_uri` parameter');
    if (body.redirect_uri !== this.cfg.redirectUri) return problem(400, 'Invalid redirect uri');

    if (grant === 'authorization_code') {
      if (typeof body.code !== 'string' || body.code === '') return problem(400, 'Check the `code` parameter');
      const rec = this.codes.get(body.code);
      if (!rec) return problem(400, 'Cannot decrypt the authorization code');
      if (rec.used) return problem(400, 'Authorization code has been revoked');
      if (rec.expiresAt <= this.cfg.now()) return problem(400, 'Authorization code has expired');
      rec.used = true;
      return { status: 200, body: this.issuePair(rec.userId) };
    }

    if (typeof body.refresh_token !== 'string' || body.refresh_token === '') return problem(400, 'Check the `refresh_token` parameter');
    const rec = this.refresh.get(body.refresh_token);
    if (!rec) {
      this.stats.refreshFailures++;
      return problem(401, 'Cannot decrypt the refresh token');
    }
    if (rec.used || rec.revoked) {
      this.stats.refreshFailures++;
      return problem(401, 'Token has been revoked');
    }
    if (rec.expiresAt <= this.cfg.now()) {
      this.stats.refreshFailures++;
      return problem(401, 'Token has expired');
    }
    rec.used = true;
    const oldAccess = this.access.get(rec.accessToken);
    if (oldAccess) oldAccess.revoked = true;
    return { status: 200, body: this.issuePair(rec.userId) };
  }

  /** Returns the user the token belongs to, or undefined when it is unknown/expired/revoked. */
  verify(token: string): number | undefined {
    const rec = this.access.get(token);
    if (!rec || rec.revoked || rec.expiresAt <= this.cfg.now()) return undefined;
    return rec.userId;
  }

  expireAccessTokens(): void {
    const past = this.cfg.now() - 1;
    for (const rec of this.access.values()) rec.expiresAt = Math.min(rec.expiresAt, past);
  }

  expireRefreshTokens(): void {
    const past = this.cfg.now() - 1;
    for (const rec of this.refresh.values()) rec.expiresAt = Math.min(rec.expiresAt, past);
  }

  revokeAll(): void {
    for (const rec of this.access.values()) rec.revoked = true;
    for (const rec of this.refresh.values()) rec.revoked = true;
    for (const rec of this.codes.values()) rec.used = true;
  }
}
