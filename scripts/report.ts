/**
 * `npm run report -- <report> …`: operator reports, one subcommand each.
 *   inventory <installationId> [--dry-run] [--json]   CRM deals vs inventory unit statuses (scripts/report-inventory.ts)
 */
import { fail, runCli } from './cli-services';
import { INVENTORY_USAGE, reportInventory } from './report-inventory';

const REPORTS: Record<string, { usage: string; run: (args: string[]) => Promise<void> }> = {
  inventory: { usage: INVENTORY_USAGE, run: reportInventory },
};

runCli(async () => {
  const [name, ...args] = process.argv.slice(2);
  const report = name ? REPORTS[name] : undefined;
  if (!report) fail(`usage:\n${Object.values(REPORTS).map((r) => `  ${r.usage}`).join('\n')}`, 2);
  await report.run(args);
});
