/**
 * `npm run inventory -- test <installationId> [unit]`: checks the installation's inventory
 * connection (unitStatusSync.inventory) and, given a unit as a manager would type it («5-101»),
 * finds it. Each failure says what is wrong: bad key, wrong URL, unit not found.
 */
import { testInventoryConnection } from '../src/inventory/test-connection';
import { fail, INSTALLATION_ID_FORMS, runCli, withServices } from './cli-services';

const USAGE = 'usage: npm run inventory -- test <installationId> [unit]';

runCli(async () => {
  const [command, installationId, unit, ...extra] = process.argv.slice(2);
  if (command !== 'test' || !installationId || extra.length) fail(USAGE, 2);
  await withServices(async (services) => {
    const installation = (await services.store.find(installationId)) ?? fail(`No installation "${installationId}". Ids are ${INSTALLATION_ID_FORMS}.`);
    const check = await testInventoryConnection(services.inventories, installation, unit);
    console.log(check.lines.join('\n'));
    if (!check.ok) process.exitCode = 1;
  });
});
