/**
 * `npm run report -- <report> …`: reports for the sales office, read from what the robots recorded.
 *   leads <installationId> --month 2026-11 [--budget source=rubles …] [--json]
 *       per source: leads, repeats by class, genuine new leads, cost per lead and per genuine lead
 *   rating <installationId> [--month YYYY-MM] [--json] [--link]
 *       the monthly manager rating (default: the previous month); --link: a signed link to the chart
 *   takeover <installationId> <deal|lead>:<id> [--json]
 *       one lead's takeover: who held it, hops, and why the distribution chose each manager
 *   inventory <installationId> [--dry-run] [--json]
 *       CRM deals that hold units vs the inventory's statuses; fixes the safe cases (scripts/report-inventory.ts)
 * Each report is one module in scripts/report/; add it to REPORTS.
 */
import { fail, runCli } from './cli-services';
import { leadsReport } from './report/leads';
import { ratingReport } from './report/rating';
import { takeoverReport } from './report/takeover';
import { INVENTORY_USAGE, reportInventory } from './report-inventory';

export interface ReportCommand {
  usage: string;
  run(args: string[]): Promise<void>;
}

const REPORTS: Record<string, ReportCommand> = {
  leads: leadsReport,
  rating: ratingReport,
  takeover: takeoverReport,
  inventory: { usage: INVENTORY_USAGE, run: reportInventory },
};

const USAGE = `usage: npm run report -- <report> …\n${Object.values(REPORTS).map((r) => `  ${r.usage}`).join('\n')}`;

runCli(async () => {
  const [name, ...args] = process.argv.slice(2);
  const report = name ? REPORTS[name] : undefined;
  if (!report) fail(USAGE, 2);
  await report.run(args);
});
