import type { AppConfig } from '../../src/config';
import type { Installation } from '../../src/installations/installation';
import { SessionSigner, type SessionClaims } from '../../src/settings-access/session';

/**
 * One signer per CRM app, keyed by that app's client secret. Without a secret nothing is issued
 * and nothing verifies: the settings API is then closed, never open.
 */
export class SettingsSessions {
  private readonly signers: Record<Installation['crm'], SessionSigner | null>;

  constructor(config: Pick<AppConfig, 'BITRIX24_CLIENT_SECRET' | 'AMOCRM_CLIENT_SECRET'>, private readonly now: () => Date) {
    this.signers = {
      bitrix24: config.BITRIX24_CLIENT_SECRET ? new SessionSigner(config.BITRIX24_CLIENT_SECRET) : null,
      amocrm: config.AMOCRM_CLIENT_SECRET ? new SessionSigner(config.AMOCRM_CLIENT_SECRET) : null,
    };
  }

  issue(installation: Installation, userId: string, role: SessionClaims['role']): { token: string; claims: SessionClaims } | null {
    return this.signers[installation.crm]?.issue({ installationId: installation.id, userId, role }, this.now().getTime()) ?? null;
  }

  /** The claims of a token presented for `crm`'s installation, or why it is refused. */
  verify(crm: Installation['crm'], token: string) {
    const signer = this.signers[crm];
    if (!signer) return { ok: false as const, reason: 'not_configured' as const };
    return signer.verify(token, this.now().getTime());
  }
}

/** `Authorization: Bearer <token>`: the page keeps the session in memory and sends it with each call. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header ?? '');
  return m?.[1] ?? null;
}
