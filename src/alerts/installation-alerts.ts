import type { CrmPort } from '../crm/crm-port';
import type { Installation } from '../installations/installation';
import type { Services } from '../services';
import { globalSettingsOf } from '../settings/installation-settings';
import { ALERT_DIGEST_TIMER, flushAlertDigest, groupedProcessAlerts, type AlertDeps } from './process-alerts';

/** The alert plumbing of one installation, from the app's services. */
export function alertDepsFor(services: Services, installation: Installation, crm: CrmPort): AlertDeps {
  return {
    redis: services.redis,
    prefix: services.prefix,
    installation,
    crm,
    timers: {
      schedule: (robot, key, delayMs, data) => services.timers.schedule({ installationId: installation.id, robot, key, data }, delayMs),
      cancel: async (robot, key) => void (await services.timers.cancel(installation.id, robot, key)),
    },
    now: () => services.now(),
    log: services.log.child({ installation: installation.id }),
  };
}

export type InstallationAlertOutcome = 'raised' | 'logged' | 'unknown-installation';

/**
 * An alert about the installation itself, for code outside robots (the reconciliation that
 * finds the amoCRM webhook disabled, the worker that finds the tokens revoked).
 *
 * A revoked installation cannot reach its CRM, so nobody can be notified there: the alert is
 * logged at error level and kept in the action log (the app page shows it), and the
 * installation's status says `revoked` with the reason (`npm run installations`). Nothing
 * pretends it was delivered.
 */
export async function raiseInstallationAlert(services: Services, installationId: string, kind: string, text: string): Promise<InstallationAlertOutcome> {
  const installation = await services.store.find(installationId);
  if (!installation) return 'unknown-installation';
  if (installation.status !== 'active') {
    services.log.error({ installation: installationId, kind }, `process alert that cannot reach the CRM: ${text}`);
    await services.actions.record({ installationId, robot: ALERT_DIGEST_TIMER, target: { entity: 'installation', id: installationId }, summary: `${kind}: ${text}`, at: services.now().toISOString() });
    return 'logged';
  }
  const crm = await services.clients.forInstallation(installation);
  await groupedProcessAlerts(alertDepsFor(services, installation, crm)).raise({ kind, text });
  return 'raised';
}

/** The digest timer of one head of sales fired (run-workers routes `processAlerts` timers here). */
export async function runDigestTimer(services: Services, installation: Installation, crm: CrmPort, data: Record<string, unknown>): Promise<void> {
  if (typeof data.head !== 'string') return;
  await flushAlertDigest(alertDepsFor(services, installation, crm), data.head);
}

export const localeOfInstallation = (installation: Installation) => globalSettingsOf(installation.settings).locale;
