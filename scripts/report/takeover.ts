import { RedisInstallationState } from '../../src/installations/installation-state';
import { INSTALLATION_ID } from '../../src/rating/installation-rating';
import { loadTakeover } from '../../src/robots/takeover/takeover-state';
import { fail, INSTALLATION_ID_FORMS, withServices } from '../cli-services';
import type { ReportCommand } from '../report';
import { parseOptions } from './options';

const USAGE = 'takeover <installationId> <deal|lead>:<id> [--json]';

/** One lead's takeover: who held it, hops, status, and why the distribution chose each manager. */
export const takeoverReport: ReportCommand = {
  usage: USAGE,
  run: (args) => takeoverReportRun(args),
};

/** "Why did Б get this lead": the takeover state the robot keeps, with the distribution's explanations. */
async function takeoverReportRun(args: string[]): Promise<void> {
  const { positional, flags } = parseOptions(args, [], ['json'], USAGE);
  const [installationId, target] = positional;
  if (!installationId || !target || positional.length !== 2) fail(`usage: npm run report -- ${USAGE}`, 2);
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

