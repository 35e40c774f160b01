/**
 * `npm run installations [-- --json]`: every installation with its id, CRM, portal, status and
 * install date. The id is what the other commands take: b24:<member_id> or amo:<account_id>.
 */
import type { Installation } from '../src/installations/installation';
import { runCli, withServices } from './cli-services';

runCli(async () => {
  const json = process.argv.includes('--json');
  const rows = await withServices(async (services) => (await services.store.list()).map(row));
  if (json) return void console.log(JSON.stringify(rows, null, 2));
  if (!rows.length) return void console.log('No installations yet. Install the app on a portal (README: Installing on a real portal).');
  const columns = ['id', 'crm', 'portal', 'status', 'installedAt'] as const;
  const width = Object.fromEntries(columns.map((c) => [c, Math.max(c.length, ...rows.map((r) => r[c].length))]));
  const line = (r: Record<(typeof columns)[number], string>) => columns.map((c) => r[c].padEnd(width[c]!)).join('  ').trimEnd();
  console.log(line({ id: 'id', crm: 'crm', portal: 'portal', status: 'status', installedAt: 'installed at' }));
  for (const r of rows) console.log(line(r));
});

function row(i: Installation) {
  const portal = i.crm === 'bitrix24' ? i.domain : new URL(i.baseUrl).host;
  const status = i.status === 'revoked' ? `revoked (${i.revokedReason ?? 'no reason given'})` : i.status;
  return { id: i.id, crm: i.crm, portal, status, installedAt: i.installedAt };
}
