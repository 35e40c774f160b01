import type { Redis } from 'ioredis';
import type { TimerPort } from '../app';
import type { CrmPort, DealRef } from '../crm/crm-port';
import { installationKey } from '../infra/keys';
import type { Installation } from '../installations/installation';
import type { Logger } from '../log';
import { globalSettingsOf } from '../settings/installation-settings';
import { headsOfSales } from '../team/heads-of-sales';

/**
 * Seed 001: the head of sales must hear when the process fails (a lead not taken, not
 * distributed, a robot failing…), so that leads can be redistributed by hand. Robots raise such
 * alerts here and never decide themselves who hears them or how often.
 *
 * Delivery is grouped: at most one notification per hour per head of sales. The first alert of
 * a quiet hour goes out at once; the ones after it wait in Redis (under the installation's keys)
 * and go out together as one digest when the hour is over (a timer of the app's timer queue).
 */
export interface ProcessAlert {
  /**
   * A stable kind: `stage.overdue`, `lead.unassigned`, `inWork.overloaded`, `robot.failing`,
   * `takeover.escalated`, `installation.webhookDisabled`, `installation.revoked`.
   */
  kind: string;
  /** What the head of sales reads, in the installation's language. */
  text: string;
  target?: DealRef;
  /** The regulation's heads of sales, when the alert concerns a regulated funnel. */
  regulationHeads?: readonly string[];
}

export interface ProcessAlerts {
  raise(alert: ProcessAlert): Promise<void>;
}

/** The timer "robot" name of digest flushes (run-workers delivers it here, not to a robot). */
export const ALERT_DIGEST_TIMER = 'processAlerts';
export const DIGEST_WINDOW_MS = 3_600_000;
const MAX_DIGEST_LINES = 20;
const KEEP_PENDING_S = 7 * 86_400;

/** Delivers each alert at once to every head of sales (unit tests and places without Redis). */
export function immediateProcessAlerts(installation: Installation, crm: CrmPort): ProcessAlerts {
  return {
    async raise(alert) {
      for (const head of await headsOfSales(installation, crm, alert.regulationHeads)) await crm.notifyUser(head, alert.text, alert.target);
    },
  };
}

export interface AlertDeps {
  redis: Redis;
  prefix: string;
  installation: Installation;
  crm: CrmPort;
  timers: TimerPort;
  now: () => Date;
  log: Logger;
}

interface PendingAlert {
  kind: string;
  text: string;
  target?: DealRef;
  at: string;
}

const keysOf = (deps: AlertDeps, head: string) => ({
  /** Exists while the head's hour is "used": set when a notification goes out, expires an hour later. */
  window: installationKey(deps.prefix, deps.installation.id, 'alerts', head, 'window'),
  pending: installationKey(deps.prefix, deps.installation.id, 'alerts', head, 'pending'),
});

/** At most one notification per hour per head: the first at once, the rest as a digest at the end of the hour. */
export function groupedProcessAlerts(deps: AlertDeps): ProcessAlerts {
  return {
    async raise(alert) {
      for (const head of await headsOfSales(deps.installation, deps.crm, alert.regulationHeads)) {
        const keys = keysOf(deps, head);
        const opened = await deps.redis.set(keys.window, deps.now().toISOString(), 'PX', DIGEST_WINDOW_MS, 'NX');
        if (opened === 'OK') {
          try {
            await deps.crm.notifyUser(head, alert.text, alert.target);
            continue;
          } catch (err) {
            // Not lost: it waits for the digest like the alerts after it.
            deps.log.warn({ err, head, kind: alert.kind }, 'alert not delivered; it goes in the next digest');
          }
        }
        const pending: PendingAlert = { kind: alert.kind, text: alert.text, target: alert.target, at: deps.now().toISOString() };
        const [, , [, ttl]] = (await deps.redis.multi().rpush(keys.pending, JSON.stringify(pending)).expire(keys.pending, KEEP_PENDING_S).pttl(keys.window).exec()) as [unknown, unknown, [null, number]];
        // The flush runs when the hour is over; scheduling again keeps one timer per head.
        await deps.timers.schedule(ALERT_DIGEST_TIMER, `digest|${head}`, Math.max(0, ttl), { head });
      }
    },
  };
}

/** The hour is over: everything that waited goes out as one notification, and a new hour starts. */
export async function flushAlertDigest(deps: AlertDeps, head: string): Promise<number> {
  const keys = keysOf(deps, head);
  const [[, raw]] = (await deps.redis.multi().lrange(keys.pending, 0, -1).del(keys.pending).exec()) as [[null, string[]]];
  const alerts = raw.map((r) => JSON.parse(r) as PendingAlert);
  if (!alerts.length) return 0;
  await deps.redis.set(keys.window, deps.now().toISOString(), 'PX', DIGEST_WINDOW_MS);
  try {
    await deps.crm.notifyUser(head, digestText(alerts, globalSettingsOf(deps.installation.settings).locale));
  } catch (err) {
    // Not lost: back in the list for the next flush (the timer job retries too).
    await deps.redis.multi().lpush(keys.pending, ...raw.reverse()).expire(keys.pending, KEEP_PENDING_S).del(keys.window).exec();
    throw err;
  }
  return alerts.length;
}

/** One line per distinct alert, repeats counted, newest last; long digests are cut with a count. */
export function digestText(alerts: readonly PendingAlert[], locale: 'ru' | 'en'): string {
  const lines = new Map<string, number>();
  for (const a of alerts) lines.set(a.text, (lines.get(a.text) ?? 0) + 1);
  const entries = [...lines.entries()];
  const shown = entries.slice(0, MAX_DIGEST_LINES).map(([text, n]) => `• ${text}${n > 1 ? ` (×${n})` : ''}`);
  const more = entries.length - shown.length;
  const head =
    locale === 'ru'
      ? `Reglament: сбои процесса за последний час (${alerts.length}):`
      : `Reglament: process failures in the last hour (${alerts.length}):`;
  const tail = more > 0 ? [locale === 'ru' ? `…и ещё ${more}` : `…and ${more} more`] : [];
  return [head, ...shown, ...tail].join('\n');
}
