import { matchesSecretHash, secretHash } from '../infra/crypto';
import type { Services } from '../services';
import { bitrix24InstallationId, type Bitrix24Installation, type TokenSet } from './installation';

/** Events the app listens to; all go to one handler (`POST /bitrix24/events`). */
export const BITRIX24_EVENTS = ['ONCRMDEALADD', 'ONCRMDEALUPDATE', 'ONCRMLEADADD', 'ONCRMLEADUPDATE', 'ONCRMCONTACTADD', 'ONAPPUNINSTALL'] as const;

export interface Bitrix24InstallRequest {
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  applicationToken: string;
  tokens: TokenSet;
  userId?: string;
}

/** Someone presents a different application_token for a portal that is installed and active. */
export class InstallConflictError extends Error {}

/**
 * Saves the installation and binds the event handlers. Running it twice is harmless:
 * existing bindings are kept, settings survive, and only the holder of the portal's
 * application_token may replace an active installation.
 */
export async function installBitrix24(req: Bitrix24InstallRequest, services: Services): Promise<Bitrix24Installation> {
  const id = bitrix24InstallationId(req.memberId);
  const existing = await services.store.find(id);
  if (existing && existing.crm === 'bitrix24' && existing.status === 'active' && !matchesSecretHash(req.applicationToken, existing.applicationTokenHash)) {
    throw new InstallConflictError(`Portal ${req.memberId} is installed with another application token`);
  }
  const installation: Bitrix24Installation = {
    id,
    crm: 'bitrix24',
    status: 'active',
    installedAt: existing?.installedAt ?? new Date().toISOString(),
    settings: existing?.settings ?? {},
    memberId: req.memberId,
    domain: req.domain,
    clientEndpoint: req.clientEndpoint,
    serverEndpoint: req.serverEndpoint,
    applicationTokenHash: secretHash(req.applicationToken),
    userId: req.userId,
    adminUserIds: existing?.crm === 'bitrix24' ? existing.adminUserIds : [],
  };
  await services.store.save(installation, req.tokens);
  services.clients.invalidate(id);
  const installer = await bindEvents(installation, services);
  if (installer.isAdmin && !installation.adminUserIds.includes(installer.id)) {
    const withInstaller = { ...installation, userId: installer.id, adminUserIds: [...installation.adminUserIds, installer.id] };
    await services.store.save(withInstaller, (await services.store.tokens(id)) ?? req.tokens);
    return withInstaller;
  }
  services.log.info({ installation: id, domain: req.domain }, 'Bitrix24 portal installed');
  return installation;
}

/** Binds the missing handlers; returns who installed the app (one batch reads bindings and profile). */
async function bindEvents(installation: Bitrix24Installation, services: Services): Promise<{ id: string; isAdmin: boolean }> {
  const rest = await services.clients.bitrix24Rest(installation);
  const handler = `${services.config.PUBLIC_URL.replace(/\/$/, '')}/bitrix24/events`;
  const read = await rest.batch({ bound: { method: 'event.get' }, profile: { method: 'profile' } });
  const bound = (read.result.bound ?? []) as Array<{ event: string; handler: string }>;
  const profile = (read.result.profile ?? {}) as { ID?: string | number; ADMIN?: boolean };
  const installer = { id: String(profile.ID ?? ''), isAdmin: profile.ADMIN === true };
  const have = new Set(bound.filter((b) => b.handler === handler).map((b) => b.event.toUpperCase()));
  const missing = BITRIX24_EVENTS.filter((e) => !have.has(e));
  if (!missing.length) return installer;
  const { errors } = await rest.batch(Object.fromEntries(missing.map((event) => [event, { method: 'event.bind', params: { event, handler } }])));
  const failed = Object.entries(errors).filter(([, e]) => e.error !== 'ERROR_HANDLER_ALREADY_EXIST');
  if (failed.length) throw new Error(`event.bind failed: ${failed.map(([event, e]) => `${event}: ${e.error}`).join(', ')}`);
  return installer;
}
