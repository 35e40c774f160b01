import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyAddress } from '../infra/public-address';

/**
 * Which hosts an install request may make the app call. Install requests are anonymous POSTs
 * (Bitrix24) or redirects (amoCRM) that name the CRM's host; the app then calls that host with
 * tokens, now and from the worker later. In production a host is reached only over https and
 * only when every address it resolves to is public (src/infra/public-address.ts). Outside
 * production anything goes, so the emulators on 127.0.0.1 over http work.
 *
 * Residual risk (DNS rebinding): the name is resolved and checked once, at install; the HTTP
 * client resolves it again when it connects, and later calls from the worker resolve it afresh.
 * A host whose owner switches its DNS to an internal address after the check could still be
 * reached. Bitrix24 portals are `*.bitrix24.*` names or customers' own boxes, amoCRM accounts
 * are `*.amocrm.ru|com`/`*.kommo.com` only; pinning the checked address into the connection
 * (a custom undici dispatcher) is the next step if self-hosted portals become common.
 */
export type HostLookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** All addresses of a name, as the OS resolver (the one `fetch` uses) gives them. */
export const systemLookup: HostLookup = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** The install names a host the app will not call; answered 400, nothing stored. */
export class UntrustedInstallTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UntrustedInstallTargetError';
  }
}

export interface TargetPolicy {
  production: boolean;
  lookup: HostLookup;
}

/**
 * Bitrix24's OAuth servers (restdocs: `server_endpoint` is `https://oauth.bitrix.info/rest/`;
 * Russian portals get `https://oauth.bitrix24.tech/rest/`). Refresh tokens and the client
 * secret go there, so in production no other server is accepted.
 */
export const BITRIX24_OAUTH_SERVERS = ['oauth.bitrix.info', 'oauth.bitrix24.tech'] as const;

/** A portal host as Bitrix24 writes `DOMAIN` / `auth[domain]`: a name or IPv4, optional port, nothing else. */
const HOST_WITH_PORT = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i;

export function assertPortalDomain(domain: string): void {
  if (!HOST_WITH_PORT.test(domain)) throw new UntrustedInstallTargetError(`DOMAIN "${domain.slice(0, 100)}" is not a host name`);
}

/** Throws unless the app may call this URL (see the policy above). Returns the parsed URL. */
export async function assertCallableUrl(raw: string, policy: TargetPolicy, what: string): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UntrustedInstallTargetError(`${what} "${raw.slice(0, 100)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UntrustedInstallTargetError(`${what} must be an http(s) URL`);
  if (url.username || url.password) throw new UntrustedInstallTargetError(`${what} must not carry credentials`);
  if (!policy.production) return url;
  if (url.protocol !== 'https:') throw new UntrustedInstallTargetError(`${what} must be https in production (PROTOCOL=0 and plain http are for development only)`);
  await assertPublicHost(url.hostname, policy.lookup, what);
  return url;
}

/** Every address the host resolves to must be public; a literal IP is judged as written. */
export async function assertPublicHost(hostname: string, resolve: HostLookup, what: string): Promise<void> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else {
    try {
      addresses = (await resolve(bare)).map((a) => a.address);
    } catch (err) {
      throw new UntrustedInstallTargetError(`${what} host ${bare} does not resolve: ${(err as Error).message}`);
    }
  }
  if (addresses.length === 0) throw new UntrustedInstallTargetError(`${what} host ${bare} has no address`);
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.public) throw new UntrustedInstallTargetError(`${what} host ${bare} resolves to ${address}, a ${verdict.range} address`);
  }
}

/** The OAuth server of a Bitrix24 install: in production one of Bitrix24's own, over https. */
export async function assertBitrix24OAuthServer(serverEndpoint: string, policy: TargetPolicy): Promise<void> {
  const url = await assertCallableUrl(serverEndpoint, { ...policy, production: false }, 'server_endpoint');
  if (!policy.production) return;
  if (url.protocol !== 'https:' || !(BITRIX24_OAUTH_SERVERS as readonly string[]).includes(url.hostname) || url.port !== '') {
    throw new UntrustedInstallTargetError(`server_endpoint must be Bitrix24's OAuth server (${BITRIX24_OAUTH_SERVERS.map((h) => `https://${h}/rest/`).join(' or ')})`);
  }
}
