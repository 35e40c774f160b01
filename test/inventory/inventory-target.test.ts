import { inventoryTargetRefusal } from '../../src/inventory/inventory-target';

/** A resolver that knows a few names: the public Profitbase host, a name pointing into the office network. */
const lookup = async (host: string) => {
  const table: Record<string, string> = { 'pb14886.profitbase.ru': '185.12.11.10', '1c.office.local': '10.0.0.12', 'metadata.evil.example': '169.254.169.254' };
  if (!table[host]) throw new Error('ENOTFOUND');
  return [{ address: table[host]!, family: 4 }];
};
const policy = (production: boolean, privateHosts: string[] = []) => ({ production, lookup, privateHosts });

describe('the inventory test connection never lets an admin point the app into its own network in production', () => {
  test.each([
    ['a public Profitbase account', 'https://pb14886.profitbase.ru/api/v4/json', policy(true), null],
    ['loopback', 'https://127.0.0.1:8080/api', policy(true), /127\.0\.0\.1, a loopback address/],
    ['a name resolving to cloud metadata', 'https://metadata.evil.example/api', policy(true), /link-local/],
    ['an office 1C not listed', 'https://1c.office.local/base/hs/reglament/v1', policy(true), /private \(10\/8\).*INVENTORY_PRIVATE_HOSTS/],
    ['an office 1C listed in INVENTORY_PRIVATE_HOSTS', 'https://1c.office.local/base/hs/reglament/v1', policy(true, ['1c.office.local']), null],
    ['a listed host over plain http', 'http://1c.office.local/base', policy(true, ['1c.office.local']), /must be https/],
    ['plain http to a public host', 'http://pb14886.profitbase.ru/api/v4/json', policy(true), /must be https/],
    ['the emulator on loopback outside production', 'http://127.0.0.1:4010/api/v4/json', policy(false), null],
    ['credentials in the URL, even in development', 'https://user:pw@pb14886.profitbase.ru/api', policy(false), /must not carry credentials/],
  ])('%s', async (_what, url, p, expected) => {
    const refusal = await inventoryTargetRefusal(url, p);
    if (expected === null) expect(refusal).toBeNull();
    else expect(refusal).toMatch(expected);
  });
});
