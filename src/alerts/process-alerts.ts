import type { CrmPort, DealRef } from '../crm/crm-port';
import type { Installation } from '../installations/installation';
import { headsOfSales } from '../team/heads-of-sales';

/**
 * Seed 001: the head of sales must hear when the process fails (a lead not taken, not
 * distributed, a robot failing…), so that leads can be redistributed by hand. Robots raise such
 * alerts here and never decide themselves who hears them or how often.
 */
export interface ProcessAlert {
  /** A stable kind, e.g. `takeover.escalated`, `lead.unassigned`, `robot.failing`. */
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

/** Delivers each alert at once to every head of sales (a CRM notification / amoCRM task). */
export function immediateProcessAlerts(installation: Installation, crm: CrmPort): ProcessAlerts {
  return {
    async raise(alert) {
      for (const head of await headsOfSales(installation, crm, alert.regulationHeads)) await crm.notifyUser(head, alert.text, alert.target);
    },
  };
}
