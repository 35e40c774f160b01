import { TransientError } from '../errors';
import type { AmocrmInstallation, Bitrix24Installation, Installation, TokenSet } from './installation';
import { RefreshRejectedError, type RefreshGrant } from './token-refresher';

export interface OAuthCredentials {
  bitrix24: { clientId: string; clientSecret: string };
  amocrm: { clientId: string; clientSecret: string; redirectUri: string };
}

const TIMEOUT_MS = 15_000;

/** Bitrix24 OAuth server token URL: https://oauth.bitrix.info/rest/ → https://oauth.bitrix.info/oauth/token/ */
export function bitrix24TokenUrl(serverEndpoint: string): string {
  return `${serverEndpoint.replace(/\/rest\/?$/, '')}/oauth/token/`;
}

export function bitrix24RefreshGrant(credentials: OAuthCredentials['bitrix24']): RefreshGrant {
  return async (installation: Installation, refreshToken: string): Promise<TokenSet> =>
    (await bitrix24Refresh((installation as Bitrix24Installation).serverEndpoint, credentials, refreshToken)).tokens;
}

/**
 * One refresh at Bitrix24's OAuth server. Its answer also says, on Bitrix24's authority, which
 * portal the token belongs to (`member_id`, `client_endpoint`; restdocs settings/oauth/index.md).
 */
export async function bitrix24Refresh(
  serverEndpoint: string,
  credentials: OAuthCredentials['bitrix24'],
  refreshToken: string,
): Promise<{ tokens: TokenSet; memberId: string; clientEndpoint: string }> {
  const body = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    refresh_token: refreshToken,
  });
  const response = await post(bitrix24TokenUrl(serverEndpoint), body, 'application/x-www-form-urlencoded');
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (typeof json.error === 'string') {
    if (['invalid_grant', 'invalid_client', 'PAYMENT_REQUIRED', 'NO_AUTH_FOUND'].includes(json.error) || response.status === 401) {
      throw new RefreshRejectedError(`Bitrix24 OAuth: ${json.error} ${String(json.error_description ?? '')}`.trim());
    }
    throw new TransientError(`Bitrix24 OAuth: ${json.error}`, 'OAUTH_ERROR');
  }
  if (!response.ok) throw new TransientError(`Bitrix24 OAuth answered ${response.status}`, 'OAUTH_HTTP');
  return { tokens: tokenSet(json), memberId: String(json.member_id ?? ''), clientEndpoint: String(json.client_endpoint ?? '') };
}

/** amoCRM `POST /oauth2/access_token`, used both for the install code and for refreshes. */
export async function amocrmTokenRequest(
  baseUrl: string,
  credentials: OAuthCredentials['amocrm'],
  grant: { grant_type: 'authorization_code'; code: string } | { grant_type: 'refresh_token'; refresh_token: string },
): Promise<TokenSet> {
  const body = JSON.stringify({ client_id: credentials.clientId, client_secret: credentials.clientSecret, redirect_uri: credentials.redirectUri, ...grant });
  const response = await post(new URL('/oauth2/access_token', baseUrl).toString(), body, 'application/json');
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (response.status === 400 || response.status === 401 || response.status === 403) {
    throw new RefreshRejectedError(`amoCRM OAuth ${response.status}: ${String(json.hint ?? json.detail ?? json.title ?? '')}`);
  }
  if (!response.ok) throw new TransientError(`amoCRM OAuth answered ${response.status}`, 'OAUTH_HTTP');
  return tokenSet(json);
}

export function amocrmRefreshGrant(credentials: OAuthCredentials['amocrm']): RefreshGrant {
  return (installation, refreshToken) =>
    amocrmTokenRequest((installation as AmocrmInstallation).baseUrl, credentials, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

async function post(url: string, body: string | URLSearchParams, contentType: string): Promise<Response> {
  try {
    return await fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new TransientError(`OAuth server unreachable: ${(err as Error).message}`, 'NETWORK', { cause: err });
  }
}

function tokenSet(json: Record<string, unknown>): TokenSet {
  const accessToken = json.access_token;
  const refreshToken = json.refresh_token;
  if (typeof accessToken !== 'string' || typeof refreshToken !== 'string') throw new TransientError('OAuth answer without tokens', 'OAUTH_SHAPE');
  const expiresIn = Number(json.expires_in ?? 3600);
  return { accessToken, refreshToken, expiresAt: Date.now() + expiresIn * 1000 };
}
