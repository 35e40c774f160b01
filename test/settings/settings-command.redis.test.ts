import { operatorCommand } from '../helpers/operator-command';
import { documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

describe('operator commands: npm run settings and npm run installations', () => {
  let services: Awaited<ReturnType<typeof createTestServices>>;
  const installation = documentedBitrix24Installation();

  beforeAll(async () => {
    services = await createTestServices();
    await services.store.save(installation, someTokens());
  });
  afterAll(() => services.cleanup());

  const command = (script: string, ...args: string[]) => operatorCommand(services.prefix, script, ...args);

  test('set changes a robot setting, validated, and get reads it back with the defaults around it', async () => {
    const set = await command('settings.ts', 'set', installation.id, 'dealRenamer.template', '"{id} / {contact}"');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('dealRenamer.template = "{id} / {contact}"');
    expect((await services.store.find(installation.id))!.settings).toMatchObject({ dealRenamer: { template: '{id} / {contact}' } });
    const get = await command('settings.ts', 'get', installation.id, 'dealRenamer');
    expect(JSON.parse(get.stdout)).toMatchObject({ template: '{id} / {contact}', enabled: true });
  }, 30_000);

  test('a bad value exits non-zero, names the path and what is allowed, and changes nothing', async () => {
    const before = (await services.store.find(installation.id))!.settings;
    const bad = await command('settings.ts', 'set', installation.id, 'schedule', '"from nine to nine"');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('schedule:');
    expect(bad.stderr).toContain('"24/7"');
    const typo = await command('settings.ts', 'set', installation.id, 'dealRenamer.templat', '"x"');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('"dealRenamer" has: enabled, template, unitField, entities');
    const notJson = await command('settings.ts', 'set', installation.id, 'locale', 'en');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('must be JSON');
    expect((await services.store.find(installation.id))!.settings).toEqual(before);
  }, 30_000);

  test('an unknown installation is named with the id forms', async () => {
    const missing = await command('settings.ts', 'get', 'b24:00000000000000000000000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('b24:<member_id>');
    const crafted = await command('settings.ts', 'set', 'b24:*', 'locale', '"en"');
    expect(crafted.code).toBe(2);
    expect(crafted.stderr).toContain('is not an installation id');
  }, 30_000);

  test('installations lists id, CRM, portal, status and install date', async () => {
    const list = await command('installations.ts');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^id\s+crm\s+portal\s+status\s+installed at/m);
    expect(list.stdout).toContain(`${installation.id}  bitrix24  ${installation.domain}`);
    const json = JSON.parse((await command('installations.ts', '--json')).stdout);
    expect(json).toEqual([{ id: installation.id, crm: 'bitrix24', portal: installation.domain, status: 'active', installedAt: installation.installedAt }]);
  }, 30_000);
});
