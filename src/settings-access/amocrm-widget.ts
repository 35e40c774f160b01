import { amocrmAccountIdSchema, amocrmInstallationId, type AmocrmInstallation } from '../installations/installation';
import type { InstallationStore } from '../installations/installation-store';

/**
 * What a verified amoCRM widget token says. amoCRM signs a JWT for the widget (HS256 with the
 * integration's secret key; claims include the account and the user). Checking that signature is
 * the widget helper's module; this side only consumes its verdict through this interface.
 */
export interface AmocrmWidgetIdentity {
  accountId: string;
  userId: string;
}

export interface AmocrmWidgetTokenVerifier {
  /** The identity inside a valid, unexpired token of our integration; null for anything else. */
  verify(token: string): Promise<AmocrmWidgetIdentity | null>;
}

export type WidgetVerdict =
  | { ok: true; installation: AmocrmInstallation; userId: string }
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
  return { ok: true, installation, userId: identity.userId };
}
