import { encryptionKeyBytes } from '../../src/config';
import { installationRating, INSTALLATION_ID } from '../../src/rating/installation-rating';
import { MONTH, previousMonth } from '../../src/rating/monthly-rating';
import { monthOf } from '../../src/rating/rating-facts';
import { ratingLink } from '../../src/rating/rating-link';
import { fail, INSTALLATION_ID_FORMS, withServices } from '../cli-services';
import type { ReportCommand } from '../report';
import { parseOptions } from './options';

const USAGE = 'rating <installationId> [--month YYYY-MM] [--json] [--link]';

/**
 * The monthly manager rating: leads, meetings held, conversion, takeover misses, violations
 * (default month: the previous one); --link prints a signed link to the page with the chart.
 */
export const ratingReport: ReportCommand = {
  usage: USAGE,
  run: (args) => ratingReportRun(args),
};

async function ratingReportRun(args: string[]): Promise<void> {
  const { positional, flags } = parseOptions(args, ['month'], ['json', 'link'], USAGE);
  const [installationId] = positional;
  if (!installationId || positional.length !== 1) fail(`usage: npm run report -- ${USAGE}`, 2);
  if (!INSTALLATION_ID.test(installationId)) fail(`"${installationId}" is not an installation id: ${INSTALLATION_ID_FORMS}`, 2);
  const month = flags.month ?? previousMonth(monthOf(new Date()));
  if (!MONTH.test(month)) fail(`--month takes YYYY-MM, e.g. 2026-11; got "${month}"`, 2);
  await withServices(async (services) => {
    const installation = (await services.store.find(installationId)) ?? fail(`No installation "${installationId}". Ids are ${INSTALLATION_ID_FORMS}.`);
    const { rating, worst } = await installationRating(services, installation, month);
    const link = flags.link ? ratingLink(services.config.PUBLIC_URL, encryptionKeyBytes(services.config), installationId, month, Date.now() + 7 * 86_400_000) : undefined;
    if (flags.json) {
      console.log(JSON.stringify({ installationId, month, rows: rating.rows.map((r) => ({ ...r, fewerLeadsNextMonth: worst.has(r.managerId) })), link }));
      return;
    }
    console.log(`Manager rating ${installationId} ${month}`);
    const table = rating.rows.map((r, i) => ({
      '#': i + 1,
      manager: r.name,
      leads: r.leads,
      meetings: r.meetings,
      conversion: r.conversion === null ? '—' : `${Math.round(r.conversion * 100)}%`,
      misses: r.misses,
      violations: r.violations,
      'next month': worst.has(r.managerId) ? 'fewer leads' : '',
    }));
    if (table.length) console.table(table);
    else console.log('no data for the month');
    if (link) console.log(`chart: ${link}`);
  });
}

