import { forgetReconcileLag } from '../observability/metrics';
import type { RobotServices } from '../app';
import { RedisInstallationState } from '../installations/installation-state';
import type { CrmPort, DealRef } from '../crm/crm-port';
import { recordOwnWrites } from './own-write-recorder';
import { isEchoOfOwnWrite } from './own-echo';
import { groupedProcessAlerts } from '../alerts/process-alerts';
import { alertDepsFor } from '../alerts/installation-alerts';
import { InstallationRevokedError } from '../errors';
import { eventNameFor, type InboundEvent, type StageChangedPayload } from '../events';
import type { Installation } from '../installations/installation';
import type { Services } from '../services';
import { pathSince, previousStage } from './stage-tracker';
import { CatchUpState, epochSeconds } from './catch-up/catch-up-state';

export type Outcome = 'done' | 'gone' | 'own-echo' | 'unknown-installation' | 'revoked' | 'removed';

/**
 * The worker's job: turn a verified notification into CRM-neutral events and run the robots.
 * It reads the CRM's current state first; the notification only says what to look at. The one
 * exception is the echo of the app's own write, recognised from the event and the ledger (own-echo.ts).
 */
export async function processInboundEvent(event: InboundEvent, services: Services, jobId?: string): Promise<Outcome> {
  const installation = await services.store.find(event.installationId);
  if (event.entity === 'installation') return removeInstallation(event, installation, services);
  if (!installation) {
    services.log.warn({ installation: event.installationId }, 'event for an installation that no longer exists; dropped');
    return 'unknown-installation';
  }
  if (installation.status !== 'active') {
    // Its tokens are gone: nothing can be done until the app is installed again; no retrying.
    services.log.info({ installation: installation.id }, 'event for a revoked installation dropped');
    return 'revoked';
  }
  // So that uninstalling removes this job too, finished or failed (see InstallationJobIndex).
  if (jobId) await services.events.track(installation.id, jobId);
  const moved = new Map<string, string>();
  const connect = async () => recordOwnWrites(await services.clients.forInstallation(installation), installation.id, services.ownWrites, services.tracker, moved);
  if (event.entity === 'contact') {
    if (event.kind === 'updated') {
      // No robot acts on a contact edit; reading it is what keeps amoCRM's identity index current (the adapter
      // indexes what it reads). Only amoCRM's edge makes these events: Bitrix24 binds no contact update.
      return (await (await connect()).getContact(event.entityId)) ? 'done' : 'gone';
    }
    if (event.kind !== 'created') return 'done';
    const crm = await connect();
    const contact = await crm.getContact(event.entityId);
    if (!contact) return 'gone';
    await services.app.dispatch('contact.created', { contact, causedByApp: false }, installation, servicesFor(installation, crm, services));
    return 'done';
  }
  const ref: DealRef = { entity: event.entity, id: event.entityId };
  const lastSeen = await services.tracker.get(installation.id, ref);
  // The echo of the app's own write, known from the event and the ledger: nothing to read, nothing to judge (own-echo.ts).
  if (await isEchoOfOwnWrite(services.ownWrites, event, ref, lastSeen, services.config.OWN_WRITE_ECHO_WINDOW_S * 1000)) {
    services.log.debug({ installation: installation.id, deal: ref }, 'echo of the app\'s own write dropped unread');
    return 'own-echo';
  }
  const crm = await connect();
  return processDealEvent(event, ref, lastSeen, installation, crm, servicesFor(installation, crm, services), moved, services);
}

async function processDealEvent(
  event: InboundEvent,
  ref: DealRef,
  lastSeen: string | null,
  installation: Installation,
  crm: CrmPort,
  robotServices: RobotServices,
  moved: Map<string, string>,
  services: Services,
): Promise<Outcome> {
  const { entity } = ref;
  const readAt = Date.now();
  // The deal and its contacts only: the stage history is read when the stage differs from the last seen one (detectStageChange).
  const snapshot = await crm.getDealWithContacts(ref);
  if (!snapshot) return 'gone';
  const { deal, contacts } = snapshot;
  const stageChange = await detectStageChange(event, ref, deal.stageId, lastSeen, crm);
  const ownStage = await services.ownWrites.isOwn(installation.id, ref, 'stage', deal.stageId);
  const ownTitle = await services.ownWrites.isOwn(installation.id, ref, 'title', deal.title);
  const base = { deal, contacts, causedByApp: stageChange ? ownStage : ownTitle };

  let keepLastSeen = false;
  const scoped: RobotServices = { ...robotServices, keepLastSeenStage: () => void (keepLastSeen = true) };
  if (stageChange) {
    const payload: StageChangedPayload = { ...base, ...stageChange, causedByApp: ownStage };
    await services.app.dispatch(eventNameFor(entity, 'stageChanged') as 'deal.stageChanged', payload, installation, scoped);
  }
  await services.app.dispatch(eventNameFor(entity, event.kind === 'created' ? 'created' : 'updated') as 'deal.updated', base, installation, scoped);
  // A stage a robot moved the deal to was recorded by the move itself; otherwise the current one is now "seen".
  if (!moved.has(`${ref.entity}:${ref.id}`) && !keepLastSeen) await services.tracker.set(installation.id, ref, deal.stageId);
  // This version is handled: a catch-up scan that lists it again enqueues nothing.
  const version = epochSeconds(deal.updatedAt);
  if (version !== null) await new CatchUpState(services.redis, services.prefix).markHandled(installation.id, ref, version, readAt);
  return 'done';
}

/**
 * From the app's last-seen stage to the current one; on first sight of an update, from the CRM's stage history.
 * The history is read only here, when it can tell something: never for an unchanged stage or a new deal.
 */
async function detectStageChange(
  event: InboundEvent,
  ref: DealRef,
  current: string,
  lastSeen: string | null,
  crm: CrmPort,
): Promise<Omit<StageChangedPayload, 'deal' | 'contacts' | 'causedByApp'> | null> {
  if (lastSeen === current) return null;
  if (lastSeen === null && event.kind === 'created') return null;
  const history = await crm.getStageHistory(ref);
  const stages = history.map((h) => h.stageId);
  if (lastSeen === null) {
    const from = previousStage(history, current) ?? event.hint?.fromStageId ?? null;
    if (!from || from === current) return null;
    return { from, to: current, path: [current], history: stages };
  }
  return { from: lastSeen, to: current, path: pathSince(history, lastSeen, current), history: stages };
}

async function removeInstallation(event: InboundEvent, installation: Installation | null, services: Services): Promise<Outcome> {
  if (!installation) return 'removed';
  // Robots may clean up their own state; the CRM is no longer reachable (its tokens are revoked).
  const disconnected = new Proxy({} as CrmPort, {
    get: (_t, prop) => (prop === 'crm' ? installation.crm : () => Promise.reject(new InstallationRevokedError(installation.id, 'uninstalled'))),
  });
  await services.app.dispatch('installation.removed', { crm: installation.crm }, installation, servicesFor(installation, disconnected, services));
  await services.timers.cancelAllOf(installation.id);
  await services.events.removeAllOf(installation.id);
  await services.store.delete(installation.id);
  forgetReconcileLag(installation.id);
  services.clients.forget(installation.id);
  services.log.info({ installation: event.installationId }, 'installation removed with its tokens and data');
  return 'removed';
}

/** What robots get for one installation: its CRM, a scoped logger and state, timers, the action log. */
export function servicesFor(installation: Installation, crm: CrmPort, services: Services): RobotServices {
  return {
    crm,
    log: services.log.child({ installation: installation.id }),
    state: new RedisInstallationState(services.redis, services.prefix, installation.id),
    timers: {
      schedule: (robot, key, delayMs, data) => services.timers.schedule({ installationId: installation.id, robot, key, data }, delayMs),
      cancel: async (robot, key) => {
        await services.timers.cancel(installation.id, robot, key);
      },
    },
    actions: services.actions,
    alerts: groupedProcessAlerts(alertDepsFor(services, installation, crm)),
    // Read at call time: a test that replaces `services.now` controls every robot's clock.
    now: () => services.now(),
    inventory: () => services.inventories.forInstallation(installation),
  };
}

