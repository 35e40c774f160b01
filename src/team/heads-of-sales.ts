import type { CrmPort } from '../crm/crm-port';
import type { Installation } from '../installations/installation';
import { globalSettingsOf } from '../settings/installation-settings';

/**
 * Who hears about process failures, reassignments and the monthly rating: the installation's
 * `headsOfSales` setting; else the regulation's `headOfSalesUserIds`; else the CRM's administrators
 * (someone must hear of a failure, and an administrator can delegate).
 */
export async function headsOfSales(installation: Installation, crm: CrmPort, regulationHeads: readonly string[] = []): Promise<string[]> {
  const configured = globalSettingsOf(installation.settings).headsOfSales;
  if (configured.length) return configured;
  if (regulationHeads.length) return [...regulationHeads];
  return (await crm.listUsers()).filter((u) => u.isAdmin && u.isActive !== false).map((u) => u.id);
}
