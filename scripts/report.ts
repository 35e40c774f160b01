/**
 * `npm run report -- <subcommand> …`: reports read from an installation's data.
 *   rating <installationId> [--month YYYY-MM] [--json] [--link]
 *       the monthly manager rating: leads, meetings held, conversion, takeover misses, violations
 *       (default month: the previous one); --link prints a signed link to the page with the chart.
 *   takeover <installationId> <deal|lead>:<id> [--json]
 *       one lead's takeover: who held it, hops, status, and why the distribution chose each manager
 * Subcommands are a table: another report is one more entry.
 */
import { encryptionKeyBytes } from '../src/config';
import { installationRating, INSTALLATION_ID } from '../src/rating/installation-rating';
import { MONTH, previousMonth } from '../src/rating/monthly-rating';
import { monthOf } from '../src/rating/rating-facts';
import { ratingLink } from '../src/rating/rating-link';
import { RedisInstallationState } from '../src/installations/installation-state';
import { loadTakeover } from '../src/robots/takeover/takeover-state';
import { fail, INSTALLATION_ID_FORMS, runCli, withServices } from './cli-services';

type Subcommand = (args: string[]) => Promise<void>;

const USAGE = 'usage: npm run report -- rating <installationId> [--month YYYY-MM] [--json] [--link]\n       npm run report -- takeover <installationId> <deal|lead>:<id> [--json]';

const subcommands: Record<string, Subcommand> = {
  rating: ratingReport,
  takeover: takeoverReport,
};

runCli(async () => {
  const [name, ...args] = process.argv.slice(2);
  const run = name ? subcommands[name] : undefined;
  if (!run) fail(`${USAGE}\nreports: ${Object.keys(subcommands).join(', ')}`, 2);
  await run(args);
});

async function ratingReport(args: string[]): Promise<void> {
  const { positional, flags } = parseArgs(args, ['month'], ['json', 'link']);
  const [installationId] = positional;
  if (!installationId || positional.length !== 1) fail(USAGE, 2);
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

/** "Why did Б get this lead": the takeover state the robot keeps, with the distribution's explanations. */
async function takeoverReport(args: string[]): Promise<void> {
  const { positional, flags } = parseArgs(args, [], ['json']);
  const [installationId, target] = positional;
  if (!installationId || !target || positional.length !== 2) fail(USAGE, 2);
  if (!INSTALLATION_ID.test(installationId)) fail(`"${installationId}" is not an installation id: ${INSTALLATION_ID_FORMS}`, 2);
  const ref = /^(deal|lead):(\d{1,15})$/.exec(target);
  if (!ref) fail(`"${target}" is not a lead: deal:<id> (amoCRM leads, Bitrix24 deals) or lead:<id> (Bitrix24 leads)`, 2);
  await withServices(async (services) => {
    if (!(await services.store.find(installationId))) fail(`No installation "${installationId}". Ids are ${INSTALLATION_ID_FORMS}.`);
    const loaded = await loadTakeover(new RedisInstallationState(services.redis, services.prefix, installationId), { entity: ref[1] as 'deal' | 'lead', id: ref[2]! });
    if (!loaded) fail(`No takeover recorded for ${target} (it never entered a start stage, or more than 60 days ago).`);
    const t = loaded.state;
    if (flags.json) {
      console.log(JSON.stringify(t));
      return;
    }
    console.log(`${target}: ${t.status}${t.takenBy ? ` (${t.takenBy})` : ''}; responsible ${t.names[t.responsibleId] ?? t.responsibleId}, assigned ${t.assignedAt}, due ${t.dueAt}; hops ${t.hops}`);
    console.log(`held by: ${t.holders.map((id) => t.names[id] ?? id).join(' → ')}`);
    for (const why of t.decisions) console.log(`\n${why}`);
  });
}

function parseArgs(args: string[], valued: string[], booleans: string[]) {
  const positional: string[] = [];
  const flags: Record<string, string | undefined> & Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.replace(/^--/, '');
    if (a.startsWith('--') && valued.includes(name)) flags[name] = args[++i] ?? fail(`${a} needs a value`, 2);
    else if (a.startsWith('--') && booleans.includes(name)) flags[name] = 'true';
    else if (a.startsWith('--')) fail(`unknown option ${a}\n${USAGE}`, 2);
    else positional.push(a);
  }
  return { positional, flags: flags as { month?: string; json?: string; link?: string } };
}
