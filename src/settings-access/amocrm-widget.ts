import type { AppConfig } from '../config';
import { verifyWidgetToken } from '../installations/amocrm-widget-token';
import { amocrmAccountIdSchema, amocrmInstallationId, type AmocrmInstallation } from '../installations/installation';
import type { InstallationStore } from '../installations/installation-store';

/**
 * What a verified amoCRM widget token says. amoCRM signs a JWT for the widget (HS256 with the
 * integration's secret key; claims include the account and the user); `verifyWidgetToken` checks it.
 */
export interface AmocrmWidgetIdentity {
  accountId: string;
  userId: string;
  /** The token's `jti` and `exp` (unix seconds): a token opens one session, once. */
  tokenId?: string;
  expiresAt?: number;
}

export interface AmocrmWidgetTokenVerifier {
  /** The identity inside a valid, unexpired token of our integration; null for anything else. */
  verify(token: string): Promise<AmocrmWidgetIdentity | null>;
}

export type WidgetVerdict =
  | { ok: true; installation: AmocrmInstallation; userId: string; tokenId?: string; expiresAt?: number }
  | { ok: false; status: 401 | 403 | 503; reason: string };

/** The token → the installation of its account (validated id, active), or a refusal. */
export async function verifyAmocrmWidget(token: unknown, verifier: AmocrmWidgetTokenVerifier | undefined, store: Pick<InstallationStore, 'find'>): Promise<WidgetVerdict> {
  if (!verifier) return { ok: false, status: 503, reason: 'widget_verification_not_configured' };
  if (typeof token !== 'string' || !token || token.length > 4096) return { ok: false, status: 401, reason: 'missing_widget_token' };
  const identity = await verifier.verify(token).catch(() => null);
  if (!identity) return { ok: false, status: 401, reason: 'invalid_widget_token' };
  const accountId = amocrmAccountIdSchema.safeParse(identity.accountId);
  if (!accountId.success || !/^\d{1,20}$/.test(identity.userId)) return { ok: false, status: 401, reason: 'invalid_widget_token' };
  const installation = await store.find(amocrmInstallationId(accountId.data));
  if (!installation || installation.crm !== 'amocrm') return { ok: false, status: 401, reason: 'unknown_installation' };
  if (installation.status !== 'active') return { ok: false, status: 403, reason: 'installation_revoked' };
  return { ok: true, installation, userId: identity.userId, tokenId: identity.tokenId, expiresAt: identity.expiresAt };
}

/**
 * The verifier the app uses: amoCRM's disposable token checked against this integration's id and
 * secret, with the redirect URI's origin (else the public address) as the audience. None when the
 * integration is not configured: then no widget gets a session (503), never an unchecked one.
 */
export function configuredWidgetVerifier(
  config: Pick<AppConfig, 'AMOCRM_CLIENT_ID' | 'AMOCRM_CLIENT_SECRET' | 'AMOCRM_REDIRECT_URI' | 'PUBLIC_URL'>,
  now: () => number = Date.now,
): AmocrmWidgetTokenVerifier | undefined {
  if (!config.AMOCRM_CLIENT_ID || !config.AMOCRM_CLIENT_SECRET) return undefined;
  const audience = new URL(config.AMOCRM_REDIRECT_URI ?? config.PUBLIC_URL).origin;
  return {
    verify: async (token) => {
      const check = verifyWidgetToken(token, { clientSecret: config.AMOCRM_CLIENT_SECRET, clientId: config.AMOCRM_CLIENT_ID, audience, now: Math.floor(now() / 1000) });
      return check.ok ? { accountId: check.user.accountId, userId: check.user.userId, tokenId: check.user.tokenId, expiresAt: check.user.expiresAt } : null;
    },
  };
}
