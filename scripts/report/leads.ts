import { RedisInstallationState } from '../../src/installations/installation-state';
import { countLeads, readLeadFacts, type SourceCount } from '../../src/dedup/lead-facts';
import { REPEAT_CLASSES } from '../../src/dedup/classify';
import { fail, INSTALLATION_ID_FORMS, withServices } from '../cli-services';
import type { ReportCommand } from '../report';

const USAGE = 'leads <installationId> --month YYYY-MM [--budget source=rubles …] [--json]';

/** Honest lead counts (seed 004): a repeat of a known client is not a new lead, and costs are per genuine lead. */
export const leadsReport: ReportCommand = {
  usage: USAGE,
  async run(args) {
    const options = parseArgs(args);
    await withServices(async (services) => {
      const installation = (await services.store.find(options.installationId)) ?? fail(`No installation "${options.installationId}". Ids are ${INSTALLATION_ID_FORMS}.`);
      const facts = await readLeadFacts(new RedisInstallationState(services.redis, services.prefix, installation.id), options.month);
      const counts = countLeads(facts, options.budgets);
      if (options.json) console.log(JSON.stringify({ installationId: installation.id, month: options.month, ...counts }));
      else console.log(renderTable(installation.id, options.month, counts));
    });
  },
};

export interface LeadsOptions {
  installationId: string;
  month: string;
  budgets: Record<string, number>;
  json: boolean;
}

export function parseArgs(args: string[]): LeadsOptions {
  const [installationId, ...rest] = args;
  if (!installationId || installationId.startsWith('--')) fail(`usage: npm run report -- ${USAGE}`, 2);
  const budgets: Record<string, number> = {};
  let month: string | null = null;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--month') month = rest[++i] ?? null;
    else if (arg === '--budget') {
      const spec = rest[++i] ?? '';
      const m = /^(.+)=(\d+(?:\.\d+)?)$/.exec(spec);
      if (!m) fail(`--budget takes source=rubles (e.g. WEB=150000), got "${spec}"`, 2);
      budgets[m[1]!] = (budgets[m[1]!] ?? 0) + Number(m[2]);
    } else fail(`unknown option "${arg}"\nusage: npm run report -- ${USAGE}`, 2);
  }
  if (!month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) fail(`--month takes a month like 2026-11, got "${month ?? ''}"`, 2);
  return { installationId, month, budgets, json };
}

const CLASS_TITLES: Record<(typeof REPEAT_CLASSES)[number], string> = {
  agent: 'агент',
  new_contact_of_active_client: 'акт. клиент',
  existing_buyer: 'дольщик',
  double_submission: 'дубль',
};

function renderTable(installationId: string, month: string, counts: { sources: SourceCount[]; total: SourceCount }): string {
  const money = (n: number | null) => (n === null ? '—' : `${n.toLocaleString('ru-RU')} ₽`);
  const header = ['source', 'leads', ...REPEAT_CLASSES.map((c) => CLASS_TITLES[c]), 'genuine', 'budget', 'per lead', 'per genuine lead'];
  const row = (s: SourceCount) => [s.source, s.leads, ...REPEAT_CLASSES.map((c) => s.repeats[c]), s.genuine, money(s.budget), money(s.costPerLead), money(s.costPerGenuineLead)].map(String);
  const rows = [header, ...counts.sources.map(row), row(counts.total)];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  return [`Leads of ${installationId}, ${month} (repeats are not new leads)`, ...lines.slice(0, -1), '-'.repeat(lines[0]!.length), lines[lines.length - 1]!].join('\n');
}
