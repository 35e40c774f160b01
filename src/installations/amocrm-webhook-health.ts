import { installationAlertTexts } from '../alerts/failure-alerts';
import { localeOfInstallation, raiseInstallationAlert } from '../alerts/installation-alerts';
import { matchesSecretHash, randomSecret, secretHash } from '../infra/crypto';
import { InstallationRevokedError } from '../errors';
import type { Services } from '../services';
import { AMOCRM_WEBHOOK_SETTINGS, subscribeWebhook } from './amocrm-installer';
import type { AmocrmInstallation } from './installation';
import { withWebhookLock } from './webhook-lock';

export type WebhookHealth = 'ok' | 'resubscribed' | 'busy';

interface AmoWebhookRow {
  destination: string;
  disabled?: boolean;
  settings?: string[];
}

/**
 * amoCRM retries a failed webhook a few times, and after more than 100 invalid answers in two
 * hours it disables the webhook (`disabled: true` in `GET /api/v4/webhooks`) and sends nothing
 * more, ever. The catch-up checks ours on every run. A disabled or missing webhook is replaced by
 * one with a new secret: the URL secret is stored only as a hash, so the old URL cannot be
 * re-registered. The new hash is saved first, so the edge accepts the new URL the moment amoCRM
 * starts using it. Changes made while it was disabled are found by the scan that follows.
 */
export async function ensureAmocrmWebhook(installation: AmocrmInstallation, services: Services): Promise<WebhookHealth> {
  // An install or another check holds the lock: it is setting the webhook right now.
  const result = await withWebhookLock(services.redis, services.prefix, installation.id, false, async () => {
    // Read again under the lock: an install may have just replaced the secret.
    const current = await services.store.find(installation.id);
    if (!current || current.crm !== 'amocrm' || current.status !== 'active') throw new InstallationRevokedError(installation.id, 'removed during catch-up');
    return checkAndRepair(current, services);
  });
  return result ?? 'busy';
}

async function checkAndRepair(installation: AmocrmInstallation, services: Services): Promise<WebhookHealth> {
  const tokens = await services.store.tokens(installation.id);
  if (!tokens) throw new InstallationRevokedError(installation.id, 'no tokens');
  const log = services.log.child({ installation: installation.id });
  const rest = services.clients.amocrmRest(installation, tokens, log);
  const ours = `${services.config.PUBLIC_URL.replace(/\/$/, '')}/amocrm/webhook/`;
  const listed = await rest.get<{ _embedded?: { webhooks?: AmoWebhookRow[] } }>('/api/v4/webhooks');
  const mine = (listed?._embedded?.webhooks ?? []).filter((hook) => hook.destination.startsWith(ours));
  const current = mine.find((hook) => matchesSecretHash(hook.destination.slice(ours.length), installation.webhookSecretHash));
  // Subscribed before the app needed an event (e.g. `update_contact` for the identity index): subscribe again.
  const lacking = current?.settings ? AMOCRM_WEBHOOK_SETTINGS.filter((event) => !current.settings!.includes(event)) : [];
  if (current && !current.disabled && !lacking.length) return 'ok';

  const reason = current?.disabled ? 'disabled by amoCRM after failed deliveries' : current ? `not subscribed to ${lacking.join(', ')}` : 'missing';
  // Only a lost webhook is an operator's alert; one lacking a newer event is routine after an upgrade.
  if (current && !current.disabled) log.warn({ account: installation.accountId, reason }, `amoCRM webhook ${reason}: re-subscribing with a new secret`);
  else log.error(
    { account: installation.accountId, reason, webhooks: mine.length, alert: 'amocrm_webhook_resubscribed' },
    `amoCRM webhook ${reason}: re-subscribing with a new secret; changes made meanwhile are caught up from /api/v4/leads`,
  );
  const secret = randomSecret();
  const rotated = await services.store.modify(installation.id, (current) => ({ ...current, webhookSecretHash: secretHash(secret) }) as AmocrmInstallation);
  if (!rotated || rotated.crm !== 'amocrm') throw new InstallationRevokedError(installation.id, 'removed during catch-up');
  await subscribeWebhook(rotated, secret, services);
  // Seed 001: a disabled webhook is a process failure the head of sales hears about (in the hourly digest).
  if (current?.disabled) await raiseInstallationAlert(services, installation.id, 'installation.webhookDisabled', installationAlertTexts.webhookDisabled(localeOfInstallation(rotated)));
  return 'resubscribed';
}
