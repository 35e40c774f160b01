/**
 * `npm run report -- <report> …`: reports for the sales office, read from what the robots recorded.
 *   leads <installationId> --month 2026-11 [--budget source=rubles …] [--json]
 *       per source: leads, repeats by class, genuine new leads, cost per lead and per genuine lead
 * Each report is one module in scripts/report/ (later: rating, inventory); add it to REPORTS.
 */
import { fail, runCli } from './cli-services';
import { leadsReport } from './report/leads';

export interface ReportCommand {
  usage: string;
  run(args: string[]): Promise<void>;
}

const REPORTS: Record<string, ReportCommand> = {
  leads: leadsReport,
};

const USAGE = `usage: npm run report -- <report> …\n${Object.values(REPORTS).map((r) => `  ${r.usage}`).join('\n')}`;

runCli(async () => {
  const [name, ...args] = process.argv.slice(2);
  const report = name ? REPORTS[name] : undefined;
  if (!report) fail(USAGE, 2);
  await report.run(args);
});
