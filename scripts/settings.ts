/**
 * `npm run settings -- <command>`: read and change an installation's settings.
 *   get   <installationId> [path]               the effective value (defaults included)
 *   set   <installationId> <path> <json-value>  validate with the robots' own schemas, then save
 *   unset <installationId> <path>               back to the default
 * Examples:
 *   npm run settings -- set b24:<member_id> dealRenamer.template '"{id} / {contact}"'
 *   npm run settings -- set amo:<account_id> schedule '"09:00-18:00 Europe/Moscow, Mon-Fri"'
 * A change takes effect on the next event; nothing is cached. Every change is recorded in the
 * installation's settings history as the operator's, made at the command line (the page shows it).
 */
import { robots } from '../src/robots';
import { changeSetting, maskSecrets, readSetting, validateSettings, type SettingIssue } from '../src/settings/installation-settings';
import { OPERATOR_AT_CLI } from '../src/settings/settings-history';
import { writeSettings } from '../src/settings/write-settings';
import { fail, INSTALLATION_ID_FORMS, installationIdArg, runCli, withServices } from './cli-services';

const USAGE = 'usage: npm run settings -- get <installationId> [path] | set <installationId> <path> <json-value> | unset <installationId> <path>';

runCli(async () => {
  const [command, rawId, path, rawValue, ...extra] = process.argv.slice(2);
  if (!rawId || extra.length) fail(USAGE, 2);
  const installationId = installationIdArg(rawId);
  if (command === 'get') return withServices(async (services) => get(services, installationId, path));
  if (command === 'set' && path && rawValue !== undefined) return withServices(async (services) => set(services, installationId, path, parseValue(rawValue)));
  if (command === 'unset' && path && rawValue === undefined) return withServices(async (services) => set(services, installationId, path, undefined));
  fail(USAGE, 2);
});

type Services = Parameters<Parameters<typeof withServices>[0]>[0];

async function get(services: Services, installationId: string, path: string | undefined) {
  const installation = (await services.store.find(installationId)) ?? fail(`No installation "${installationId}". Ids are ${INSTALLATION_ID_FORMS}.`);
  const read = readSetting(installation.settings, path);
  if (!read.ok) fail(read.error);
  // Secrets (inventory API keys) are shown masked: a terminal, a screen share or a log keeps no copy.
  const last = path?.split('.').at(-1);
  console.log(JSON.stringify(maskSecrets(read.value, last), null, 2));
  const issues = validateSettings(installation.settings, robots).filter((i) => !path || i.path === path || i.path.startsWith(`${path}.`));
  if (issues.length) console.error(`warning: stored settings are invalid:\n${describe(issues)}`);
}

async function set(services: Services, installationId: string, path: string, value: unknown) {
  let refused: SettingIssue[] = [];
  let before: unknown;
  const { installation: saved } = await writeSettings(services, installationId, OPERATOR_AT_CLI, (current) => {
    before = readSetting(current.settings, path);
    const change = changeSetting(current.settings, path, value, robots);
    if (!change.ok) {
      refused = change.issues;
      return null;
    }
    return change.settings;
  });
  if (!saved) fail(`No installation "${installationId}". Ids are ${INSTALLATION_ID_FORMS}.`);
  if (refused.length) fail(`refused, nothing changed:\n${describe(refused)}`);
  const after = readSetting(saved.settings, path);
  const last = path.split('.').at(-1);
  const was = (before as { ok: boolean; value?: unknown }).ok ? JSON.stringify(maskSecrets((before as { value: unknown }).value, last)) : '(unset)';
  console.log(`${installationId} ${path} = ${after.ok ? JSON.stringify(maskSecrets(after.value, last)) : '(default)'}   (was ${was}); takes effect on the next event`);
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    fail(`the value must be JSON: a text in double quotes ('"15m"'), a number, true/false, a list or an object; got ${raw}`, 2);
  }
}

function describe(issues: SettingIssue[]): string {
  return issues.map((i) => `  ${i.path || '(top level)'}: ${i.message}`).join('\n');
}
