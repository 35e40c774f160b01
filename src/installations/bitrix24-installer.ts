import { matchesSecretHash, secretHash } from '../infra/crypto';
import type { Services } from '../services';
import { bitrix24InstallationId, type Bitrix24Installation, type TokenSet } from './installation';
import { TransientError } from '../errors';
import { assertBitrix24OAuthServer, assertCallableUrl, assertPortalDomain, UntrustedInstallTargetError, type TargetPolicy } from './install-targets';
import { bitrix24Refresh, type OAuthCredentials } from './oauth-grants';
import { RefreshRejectedError } from './token-refresher';
import { registerBitrix24Robots } from '../automation/register-bitrix24-robots';
import { bindCardPlacements } from './bitrix24-placements';

/** Where Bitrix24 posts robot calls (webhooks/bitrix24/robot-call.ts serves it). */
export const BITRIX24_ROBOTS_HANDLER_PATH = '/bitrix24/robots';

/**
 * Events the app listens to; all go to one handler (`POST /bitrix24/events`). The user field and
 * ONUSERADD events only invalidate cached catalogs (fields, users); Bitrix24 documents no event for
 * funnel/stage changes or user deactivation, so those rely on the cache TTL.
 */
export const BITRIX24_EVENTS = [
  'ONCRMDEALADD',
  'ONCRMDEALUPDATE',
  'ONCRMLEADADD',
  'ONCRMLEADUPDATE',
  'ONCRMCONTACTADD',
  'ONAPPUNINSTALL',
  'ONCRMDEALUSERFIELDADD',
  'ONCRMDEALUSERFIELDUPDATE',
  'ONCRMDEALUSERFIELDDELETE',
  'ONCRMDEALUSERFIELDSETENUMVALUES',
  'ONCRMLEADUSERFIELDADD',
  'ONCRMLEADUSERFIELDUPDATE',
  'ONCRMLEADUSERFIELDDELETE',
  'ONCRMLEADUSERFIELDSETENUMVALUES',
  'ONUSERADD',
] as const;

export interface Bitrix24InstallRequest {
  /** Validated by the edge schema: 32 lower-case hex. */
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  applicationToken: string;
  tokens: TokenSet;
  userId?: string;
}

/** A non-administrator presents a different application_token for a portal that is installed and active. */
export class InstallConflictError extends Error {}

/** The portal did not confirm the install (token refused, another application). Nothing is stored. */
export class InstallNotConfirmedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstallNotConfirmedError';
  }
}

/** The portal could not be asked (network, 5xx). Nothing is stored; the install may be retried. */
export class PortalUnreachableError extends Error {}

const CONFIRM_TIMEOUT_MS = 10_000;

/**
 * Installs a portal, in this order, so that a refused install leaves nothing behind:
 * 1. the hosts it names are ones the app may call (install-targets.ts);
 * 2. an active installation's application_token is replaced only by a portal administrator
 *    (a reinstall whose ONAPPUNINSTALL was lost), after the confirmations below;
 * 3. Bitrix24's OAuth server confirms whose tokens these are: the given refresh token is redeemed
 *    with the app's client secret, and the answer must name this `member_id` and `client_endpoint`
 *    (nobody can install in another portal's name; the new pair is the one kept);
 * 4. the portal itself confirms: `app.info` with the token names this application, and `profile`
 *    says who installs;
 * 5. the installation is saved, then the event handlers are bound.
 * Running it twice is harmless: existing bindings are kept and settings survive.
 */
export async function installBitrix24(req: Bitrix24InstallRequest, services: Services): Promise<Bitrix24Installation> {
  await assertInstallTargets(req, { production: services.config.NODE_ENV === 'production', lookup: services.lookup });
  const id = bitrix24InstallationId(req.memberId);
  const existing = await services.store.find(id);
  const replacesToken = existing?.crm === 'bitrix24' && existing.status === 'active' && !matchesSecretHash(req.applicationToken, existing.applicationTokenHash);
  const tokens = await confirmWithOAuthServer(req, services.oauth.bitrix24);
  const installer = await confirmWithPortal({ ...req, tokens }, services.config.BITRIX24_APP_CODE ?? services.config.BITRIX24_CLIENT_ID);
  if (replacesToken) {
    // A reinstall whose ONAPPUNINSTALL never reached us (Bitrix24 does not resend) brings a new
    // application_token for a portal we think is active. Bitrix24 itself has just confirmed the
    // tokens and the app; only a portal administrator installs apps, so anyone else is refused.
    if (!installer.isAdmin) throw new InstallConflictError(`Portal ${req.memberId} is installed with another application token, and user ${installer.id} is not its administrator`);
    services.log.warn({ installation: id, domain: req.domain, userId: installer.id }, 'Bitrix24 reinstall with a new application token: the missed uninstall is assumed');
  }
  const known = existing?.crm === 'bitrix24' ? existing.adminUserIds : [];
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
    userId: installer.id || req.userId,
    adminUserIds: installer.isAdmin && !known.includes(installer.id) ? [...known, installer.id] : known,
  };
  await services.store.save(installation, tokens);
  services.clients.invalidate(id);
  await bindEvents(installation, tokens, services);
  await registerRobots(installation, tokens, services);
  await bindCardTabs(installation, tokens, services);
  services.log.info({ installation: id, domain: req.domain }, 'Bitrix24 portal installed');
  return installation;
}

async function assertInstallTargets(req: Bitrix24InstallRequest, policy: TargetPolicy): Promise<void> {
  assertPortalDomain(req.domain);
  // The REST base is the portal's own: https://<domain>/rest/ (restdocs on-app-install.md).
  const client = URL.canParse(req.clientEndpoint) ? new URL(req.clientEndpoint) : null;
  if (!client || client.host.toLowerCase() !== req.domain.toLowerCase() || client.pathname !== '/rest/') {
    throw new UntrustedInstallTargetError(`client_endpoint must be <scheme>://${req.domain}/rest/`);
  }
  await assertCallableUrl(req.clientEndpoint, policy, 'client_endpoint');
  await assertBitrix24OAuthServer(req.serverEndpoint, policy);
}

/**
 * Redeems the install's refresh token at the (already vetted) OAuth server. Only Bitrix24 can
 * answer for our client_id/secret, and its answer names the portal the token was issued for.
 */
async function confirmWithOAuthServer(req: Bitrix24InstallRequest, credentials: OAuthCredentials['bitrix24']): Promise<TokenSet> {
  let answer: Awaited<ReturnType<typeof bitrix24Refresh>>;
  try {
    answer = await bitrix24Refresh(req.serverEndpoint, credentials, req.tokens.refreshToken);
  } catch (err) {
    if (err instanceof RefreshRejectedError) throw new InstallNotConfirmedError(`the OAuth server refused the install token: ${err.message}`);
    if (err instanceof TransientError) throw new PortalUnreachableError(`the OAuth server did not answer: ${err.message}`);
    throw err;
  }
  if (answer.memberId.toLowerCase() !== req.memberId) {
    throw new InstallNotConfirmedError(`the OAuth server says the token belongs to portal ${answer.memberId || '(none)'}, not ${req.memberId}`);
  }
  const endpoint = URL.canParse(answer.clientEndpoint) ? new URL(answer.clientEndpoint) : null;
  if (!endpoint || endpoint.host.toLowerCase() !== new URL(req.clientEndpoint).host.toLowerCase()) {
    throw new InstallNotConfirmedError(`the OAuth server says the portal is at ${answer.clientEndpoint || '(none)'}, not ${req.clientEndpoint}`);
  }
  return answer.tokens;
}

interface ConfirmBatch {
  result?: {
    result?: { app?: { CODE?: unknown; ID?: unknown }; profile?: { ID?: unknown; ADMIN?: unknown } };
    result_error?: Record<string, { error?: string; error_description?: string }> | unknown[];
  };
  error?: string;
  error_description?: string;
}

/**
 * Asks the portal, with the token the install request carries, which application the token is
 * for (`app.info` → CODE) and who the user is (`profile`), in one `batch`. Plain HTTP on purpose:
 * no refresh (an unconfirmed install has no stored tokens to fall back to) and no redirects
 * (a redirect could lead anywhere).
 */
async function confirmWithPortal(req: Bitrix24InstallRequest, appCode: string): Promise<{ id: string; isAdmin: boolean }> {
  let response: Response;
  try {
    response = await fetch(new URL('batch', req.clientEndpoint), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ auth: req.tokens.accessToken, halt: 0, cmd: { app: 'app.info', profile: 'profile' } }),
      redirect: 'manual',
      signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS),
    });
  } catch (err) {
    throw new PortalUnreachableError(`the portal did not answer: ${(err as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as ConfirmBatch;
  if (response.status === 401 || body.error === 'invalid_token' || body.error === 'expired_token' || body.error === 'NO_AUTH_FOUND') {
    throw new InstallNotConfirmedError(`the portal refused the install token (${body.error ?? response.status})`);
  }
  if (response.status >= 500 || response.status === 429 || (response.status >= 300 && response.status < 400)) {
    throw new PortalUnreachableError(`the portal answered ${response.status}`);
  }
  if (!response.ok || body.error) throw new InstallNotConfirmedError(`the portal answered ${response.status} ${body.error ?? ''}`.trim());
  const results = body.result?.result ?? {};
  const errors = Array.isArray(body.result?.result_error) ? {} : (body.result?.result_error ?? {});
  if (!results.app) throw new InstallNotConfirmedError(`app.info failed: ${errors.app?.error ?? 'no answer'}`);
  if (String(results.app.CODE ?? '') !== appCode) {
    throw new InstallNotConfirmedError(`app.info names application "${String(results.app.CODE ?? '')}", not this one (${appCode})`);
  }
  const id = String(results.profile?.ID ?? '');
  if (!/^\d+$/.test(id)) throw new InstallNotConfirmedError(`profile failed: ${errors.profile?.error ?? 'no user'}`);
  return { id, isAdmin: results.profile?.ADMIN === true };
}

/**
 * Puts Reglament's robots in the portal's automation designer (list, then add or update: a
 * reinstall or an app update converges). A failure does not undo the install: the events are
 * bound and the robots on the server work without the designer; it is logged, and installing
 * again retries it. Bitrix24 removes an app's robots itself when the app is uninstalled.
 */
async function registerRobots(installation: Bitrix24Installation, tokens: TokenSet, services: Services): Promise<void> {
  const handler = `${services.config.PUBLIC_URL.replace(/\/$/, '')}${BITRIX24_ROBOTS_HANDLER_PATH}`;
  try {
    const rest = await services.clients.bitrix24Rest(installation, tokens);
    const done = await registerBitrix24Robots(rest, handler, Number(installation.userId ?? 1) || 1);
    services.log.info({ installation: installation.id, ...done }, 'Bitrix24 automation robots registered');
  } catch (err) {
    services.log.error({ err, installation: installation.id }, 'Bitrix24 automation robots could not be registered (needs the bizproc scope and an administrator); install again to retry');
  }
}

/** The robot log tabs in deal and lead cards; like the robots, a failure is logged and installing again retries it. */
async function bindCardTabs(installation: Bitrix24Installation, tokens: TokenSet, services: Services): Promise<void> {
  try {
    const done = await bindCardPlacements(await services.clients.bitrix24Rest(installation, tokens), services.config.PUBLIC_URL);
    services.log.info({ installation: installation.id, ...done }, 'Bitrix24 card tabs bound');
  } catch (err) {
    services.log.error({ err, installation: installation.id }, 'Bitrix24 card tabs could not be bound (needs the placement scope and an administrator); install again to retry');
  }
}

/** Binds the missing handlers (one batch reads the bindings, one binds what is missing). */
async function bindEvents(installation: Bitrix24Installation, tokens: TokenSet, services: Services): Promise<void> {
  const rest = await services.clients.bitrix24Rest(installation, tokens);
  const handler = `${services.config.PUBLIC_URL.replace(/\/$/, '')}/bitrix24/events`;
  const bound = (await rest.call<Array<{ event: string; handler: string }>>('event.get')) ?? [];
  const have = new Set(bound.filter((b) => b.handler === handler).map((b) => b.event.toUpperCase()));
  const missing = BITRIX24_EVENTS.filter((e) => !have.has(e));
  if (!missing.length) return;
  const { errors } = await rest.batch(Object.fromEntries(missing.map((event) => [event, { method: 'event.bind', params: { event, handler } }])));
  const failed = Object.entries(errors).filter(([, e]) => e.error !== 'ERROR_HANDLER_ALREADY_EXIST');
  if (failed.length) throw new Error(`event.bind failed: ${failed.map(([event, e]) => `${event}: ${e.error}`).join(', ')}`);
}
