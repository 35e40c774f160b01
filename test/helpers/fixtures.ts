import { readFileSync } from 'node:fs';
import path from 'node:path';
import { secretHash } from '../../src/infra/crypto';
import type { AmocrmInstallation, Bitrix24Installation, TokenSet } from '../../src/installations/installation';

export function fixture(name: string): string {
  return readFileSync(path.join(__dirname, '..', 'fixtures', name), 'utf8');
}

/** The portal of the documented example payloads (member_id a223c6b3…, application_token 51856fef…). */
export const documentedPortal = {
  memberId: 'a223c6b3710f85df22e9377d6c4f7553',
  applicationToken: '51856fefc120afa4b628cc82d3935cce',
};

export function documentedBitrix24Installation(): Bitrix24Installation {
  return bitrix24InstallationRecord({ memberId: documentedPortal.memberId, applicationToken: documentedPortal.applicationToken, domain: 'some-domain.bitrix24.com' });
}

/** An active Bitrix24 installation record as the installer stores it (benches store many of them). */
export function bitrix24InstallationRecord(portal: { memberId: string; applicationToken: string; domain: string; adminUserIds?: string[] }): Bitrix24Installation {
  return {
    id: `b24:${portal.memberId}`,
    crm: 'bitrix24',
    status: 'active',
    installedAt: new Date().toISOString(),
    settings: {},
    memberId: portal.memberId,
    domain: portal.domain,
    clientEndpoint: `https://${portal.domain}/rest/`,
    serverEndpoint: 'https://oauth.bitrix.info/rest/',
    applicationTokenHash: secretHash(portal.applicationToken),
    adminUserIds: portal.adminUserIds ?? [],
  };
}

export const documentedAccount = { accountId: '17769199', subdomain: 'apfitness', webhookSecret: 'k3y-of-this-installation' };

export function documentedAmocrmInstallation(): AmocrmInstallation {
  return {
    id: `amo:${documentedAccount.accountId}`,
    crm: 'amocrm',
    status: 'active',
    installedAt: new Date().toISOString(),
    settings: {},
    accountId: documentedAccount.accountId,
    subdomain: documentedAccount.subdomain,
    baseUrl: 'https://apfitness.amocrm.ru',
    webhookSecretHash: secretHash(documentedAccount.webhookSecret),
  };
}

export const someTokens = (): TokenSet => ({ accessToken: 'access-1', refreshToken: 'refresh-1', expiresAt: Date.now() + 24 * 3600_000 });
