/**
 * `npm run report -- inventory <installationId> [--dry-run] [--json]`: the drift report now (the
 * worker runs it every night at 03:00 Moscow time). Units the app holds for deals are compared with
 * the deals in the CRM and the units in the inventory; safe cases are fixed (unless --dry-run),
 * the rest is listed. The heads of sales get the report in the CRM only from the nightly run.
 */
import { formatDrift } from '../src/robots/booking/drift-report';
import { runDriftReport } from '../src/inventory/inventory-jobs';
import { localeOf } from '../src/app';
import { fail, INSTALLATION_ID_FORMS, withServices } from './cli-services';

export const INVENTORY_USAGE = 'npm run report -- inventory <installationId> [--dry-run] [--json]';

export async function reportInventory(args: string[]): Promise<void> {
  const flags = args.filter((a) => a.startsWith('--'));
  const [installationId, ...extra] = args.filter((a) => !a.startsWith('--'));
  if (!installationId || extra.length || flags.some((f) => f !== '--dry-run' && f !== '--json')) fail(`usage: ${INVENTORY_USAGE}`, 2);
  await withServices(async (services) => {
    const installation = (await services.store.find(installationId)) ?? fail(`No installation "${installationId}". Ids are ${INSTALLATION_ID_FORMS}.`);
    const report = await runDriftReport(services, installation, { fix: !flags.includes('--dry-run'), notify: false });
    if (!report) fail(`${installationId} has no inventory configured (unitStatusSync.inventory); nothing to compare.`);
    console.log(flags.includes('--json') ? JSON.stringify(report) : formatDrift(report, localeOf(installation)));
  });
}
