import { randomSecret, secretHash } from '../infra/crypto';
import { CatchUpQueue } from '../pipeline/catch-up/catch-up-queue';
import type { Services } from '../services';
import { amocrmAccountIdSchema, amocrmInstallationId, type AmocrmInstallation, type TokenSet } from './installation';
import { assertPublicHost, UntrustedInstallTargetError } from './install-targets';
import { amocrmTokenRequest } from './oauth-grants';
import { withWebhookLock } from './webhook-lock';

/**
 * Webhook events the app subscribes to (amoCRM sends them in the API v2 layout). `add_contact` and
 * `update_contact` keep the duplicate catcher's identity index current (src/crm/amocrm/identity-index.ts).
 */
export const AMOCRM_WEBHOOK_SETTINGS = ['add_lead', 'update_lead', 'status_lead', 'responsible_lead', 'add_contact', 'update_contact'];

/** Hosts an amoCRM account lives on; a `referer` elsewhere is refused (unless listed for development). */
const AMOCRM_HOSTS = /^[a-z0-9-]+\.(amocrm\.ru|amocrm\.com|kommo\.com)$/i;

/** The referer names a host that is not an amoCRM account (answered 400, nothing stored). */
export class UntrustedRefererError extends UntrustedInstallTargetError {}

/** amoCRM did not confirm the account with the exchanged token (nothing stored). */
export class AccountNotConfirmedError extends Error {}

/** https://{referer}, or http for hosts listed in AMOCRM_INSECURE_HOSTS (the local emulator). */
export function amocrmBaseUrl(referer: string, insecureHosts: string[]): string {
  const host = referer.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const hostname = host.replace(/:\d+$/, '');
  if (insecureHosts.includes(hostname) || insecureHosts.includes(host)) return `http://${host}`;
  if (!AMOCRM_HOSTS.test(host)) throw new UntrustedRefererError(`"${referer}" is not an amoCRM account host`);
  return `https://${host}`;
}

/**
 * The OAuth redirect: check the account host, exchange the single-use code, have amoCRM confirm
 * the account (`/api/v4/account` with the new token), and only then save it and subscribe the
 * webhook whose URL carries a fresh per-installation secret. A repeated install replaces the
 * pair and the secret (the old webhook of ours is unsubscribed).
 */
export async function installAmocrm(code: string, referer: string, services: Services): Promise<AmocrmInstallation> {
  const baseUrl = amocrmBaseUrl(referer, services.config.AMOCRM_INSECURE_HOSTS);
  if (services.config.NODE_ENV === 'production') await assertPublicHost(new URL(baseUrl).hostname, services.lookup, 'amoCRM account');
  const tokens = await amocrmTokenRequest(baseUrl, services.oauth.amocrm, { grant_type: 'authorization_code', code });
  const account = await confirmAccount(baseUrl, tokens);
  const id = amocrmInstallationId(account.id);
  const existing = await services.store.find(id);
  const secret = randomSecret();
  const installation: AmocrmInstallation = {
    id,
    crm: 'amocrm',
    status: 'active',
    installedAt: existing?.installedAt ?? new Date().toISOString(),
    settings: existing?.settings ?? {},
    accountId: account.id,
    subdomain: account.subdomain,
    baseUrl,
    webhookSecretHash: secretHash(secret),
  };
  // Under the webhook lock: a catch-up checking the webhook meanwhile must not rotate the secret half-way.
  await withWebhookLock(services.redis, services.prefix, id, true, async () => {
    await services.store.save(installation, tokens);
    services.clients.invalidate(id);
    await subscribeWebhook(installation, secret, services);
  });
  // Webhooks missed while disconnected are unknown: duplicate lookups use amoCRM's search until the
  // catch-up has read every contact again (src/crm/amocrm/identity-backfill.ts).
  await services.clients.amocrmIdentities(installation).startRebuild(Math.floor(Date.now() / 1000));
  await requestCatchUp(id, services);
  services.log.info({ installation: id, subdomain: account.subdomain }, 'amoCRM account installed');
  return installation;
}

/** The backfill starts now rather than at the next sweep; without it, the sweep starts it within RECONCILE_INTERVAL_S. */
async function requestCatchUp(id: string, services: Services): Promise<void> {
  if (services.config.RECONCILE_INTERVAL_S <= 0) return;
  const queue = new CatchUpQueue(services.queueSettings);
  try {
    await queue.catchUp(id);
  } catch (err) {
    services.log.warn({ err, installation: id }, 'catch-up not requested after install: the next sweep builds the identity index');
  } finally {
    await queue.close();
  }
}

/**
 * `GET /api/v4/account` with the freshly exchanged token: which account the token is for. One
 * plain call (no shared limiter: the installation has no id yet), no redirects followed.
 */
async function confirmAccount(baseUrl: string, tokens: TokenSet): Promise<{ id: string; subdomain: string }> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/v4/account', baseUrl), {
      headers: { Authorization: `Bearer ${tokens.accessToken}` },
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new Error(`amoCRM /api/v4/account did not answer: ${(err as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as { id?: unknown; subdomain?: unknown } | null;
  if (!response.ok || !body) throw new AccountNotConfirmedError(`amoCRM /api/v4/account answered ${response.status}`);
  const id = amocrmAccountIdSchema.safeParse(body.id);
  if (!id.success || typeof body.subdomain !== 'string' || !body.subdomain) {
    throw new AccountNotConfirmedError('amoCRM /api/v4/account did not name an account');
  }
  return { id: id.data, subdomain: body.subdomain };
}

/** Replaces every webhook of ours on the account with one whose URL carries `secret`. */
export async function subscribeWebhook(installation: AmocrmInstallation, secret: string, services: Services): Promise<void> {
  const tokens = await services.store.tokens(installation.id);
  if (!tokens) throw new Error('tokens vanished during install');
  const rest = services.clients.amocrmRest(installation, tokens);
  const ours = `${services.config.PUBLIC_URL.replace(/\/$/, '')}/amocrm/webhook/`;
  const existing = await rest.get<{ _embedded: { webhooks: Array<{ destination: string }> } }>('/api/v4/webhooks');
  for (const hook of existing?._embedded.webhooks ?? []) {
    if (hook.destination.startsWith(ours)) await rest.delete('/api/v4/webhooks', { destination: hook.destination });
  }
  await rest.post('/api/v4/webhooks', { destination: `${ours}${secret}`, settings: AMOCRM_WEBHOOK_SETTINGS, sort: 10 });
}
