import { operatorCommand } from '../helpers/operator-command';
/**
 * The operator's inventory commands as processes: the connection set with `npm run settings`
 * (secrets masked on screen), `npm run inventory -- test` saying plainly what is wrong, and
 * `npm run report -- inventory`.
 */
import { freePort } from '../../src/infra/free-port';
import { InventoryHttpEmulator } from '../emulators/inventory-http-service';
import { ProfitbaseEmulator } from '../emulators/profitbase-account';
import { documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { testInventoryConnection } from '../../src/inventory/test-connection';
import { setSetting } from '../helpers/inventory';
import { createTestServices } from '../helpers/test-services';

const KEY = 'app-66445500837ba';

describe('npm run inventory -- test, npm run report -- inventory', () => {
  let services: Awaited<ReturnType<typeof createTestServices>>;
  let pb: ProfitbaseEmulator;
  let onec: InventoryHttpEmulator;
  const installation = documentedBitrix24Installation();

  beforeAll(async () => {
    services = await createTestServices();
    await services.store.save(installation, someTokens());
    pb = await ProfitbaseEmulator.start({ apiKey: KEY });
    onec = await InventoryHttpEmulator.start({ apiKey: 'onec-key' });
  });
  afterAll(async () => {
    await pb.stop();
    await onec.stop();
    await services.cleanup();
  });

  const command = (script: string, ...args: string[]) => operatorCommand(services.prefix, script, ...args);
  const connect = (value: unknown) => command('settings.ts', 'set', installation.id, 'unitStatusSync.inventory', JSON.stringify(value));
  // The same validated path without a process (the command itself is tested above).
  const connectQuickly = (value: unknown) => setSetting(services, installation.id, 'unitStatusSync.inventory', value);

  test('the Profitbase key is never printed back; a bad key, a wrong URL and an unknown unit are said plainly', async () => {
    const set = await connect({ system: 'profitbase', baseUrl: pb.url, apiKey: 'app-wrong-key-0000', houseId: 99001 });
    expect(set.code).toBe(0);
    expect(set.stdout).not.toContain('app-wrong-key');
    expect(set.stdout).toContain('"apiKey":"••••0000"');
    const get = await command('settings.ts', 'get', installation.id, 'unitStatusSync.inventory.apiKey');
    expect(get.stdout.trim()).toBe('"••••0000"');

    const badKey = await command('inventory.ts', 'test', installation.id);
    expect(badKey.code).toBe(1);
    expect(badKey.stdout).toContain('Profitbase refused the API key');

    // The rest in-process: the same function the command prints.
    const check = async (unit?: string) => {
      const found = (await services.store.find(installation.id))!;
      return testInventoryConnection(services.inventories, found, unit);
    };
    await connectQuickly({ system: 'profitbase', baseUrl: `${pb.origin}/api/v3`, apiKey: KEY });
    expect((await check()).lines.join('\n')).toContain('does not look like an API v4 base URL');
    const closed = `http://127.0.0.1:${await freePort()}/api/v4/json`;
    await connectQuickly({ system: 'profitbase', baseUrl: closed, apiKey: KEY });
    expect((await check()).lines.join('\n')).toContain(`Profitbase is not reachable at ${closed} (ECONNREFUSED)`);

    await connectQuickly({ system: 'profitbase', baseUrl: pb.url, apiKey: KEY, houseId: 99001 });
    const ok = await check('кв. 3');
    expect(ok.ok).toBe(true);
    expect(ok.lines.join('\n')).toContain('✓ reachable, the API key is accepted');
    expect(ok.lines.join('\n')).toContain('✓ unit «кв. 3» is 10301003 (ЖК Демо, ЖК Демо, корпус 1), status available');
    const missing = await check('999');
    expect(missing.ok).toBe(false);
    expect(missing.lines.join('\n')).toContain('✗ unit «999» not found in house 99001');
  }, 120_000);

  test('a 1C service: health, then the unit; a wrong key is named', async () => {
    await connectQuickly({ system: 'http', baseUrl: onec.url, apiKey: 'nope', project: 'ЖК Северный' });
    expect((await testInventoryConnection(services.inventories, (await services.store.find(installation.id))!)).lines.join('\n')).toContain('refused the API key');
    await connectQuickly({ system: 'http', baseUrl: onec.url, apiKey: 'onec-key', project: 'ЖК Северный' });
    const ok = await command('inventory.ts', 'test', installation.id, '5-101');
    expect(ok.stdout).toContain('✓ reachable, the key is accepted (status ok, version 1.0.0)');
    expect(ok.stdout).toContain('✓ unit «5-101» is u1001 (ЖК Северный, Корпус 1), status available');
  }, 120_000);

  test('a connection the schema refuses changes nothing; the report says what it checked', async () => {
    const bad = await connect({ system: 'profitbase', baseUrl: 'not a url', apiKey: KEY });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unitStatusSync.inventory.baseUrl');
    const report = await command('report.ts', 'inventory', installation.id, '--json');
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout.trim().split('\n').at(-1)!)).toEqual({ checked: 0, fixed: [], listed: [] });
    expect((await command('report.ts', 'nonsense')).code).toBe(2);
  }, 120_000);
});
