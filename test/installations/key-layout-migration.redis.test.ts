import { installationKey } from '../../src/infra/keys';
import { migrateLegacyKeyLayout } from '../../src/installations/key-layout-migration';
import { createLogger } from '../../src/log';
import { documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

describe('moving data of earlier versions to the hash-tagged key layout', () => {
  let services: TestServices;
  const installation = documentedBitrix24Installation();
  const id = installation.id;

  beforeEach(async () => {
    services = await createTestServices();
  });
  afterEach(() => services.cleanup());

  /** What a version before the hash tags wrote: `inst:<id>`, `i:<id>:…`, a shared action list. */
  async function writeLegacyLayout(prefix: string) {
    // Save through the store, then move the record to where the old version kept it.
    await services.store.save(installation, someTokens());
    await services.redis.rename(installationKey(prefix, id, 'installation'), `${prefix}:inst:${id}`);
    await services.redis.set(`${prefix}:i:${id}:stage:deal:5`, 'NEW');
    await services.redis.set(`${prefix}:i:${id}:own:deal:5:title`, '5 / Иванов', 'EX', 900);
    const row = JSON.stringify({ installationId: id, robot: 'dealRenamer', target: { entity: 'deal', id: '5' }, summary: 'renamed', at: new Date().toISOString() });
    await services.redis.lpush(`${prefix}:i:${id}:actions`, row);
    await services.redis.lpush(`${prefix}:actions`, row);
    await services.redis.sadd(`${prefix}:inst-index`, 'b24:*');
  }

  it('moves every key under the hash tag, drops the shared action list, and leaves a crafted id alone', async () => {
    const prefix = services.prefix;
    await writeLegacyLayout(prefix);
    expect(await services.store.find(id)).toBeNull();

    const result = await migrateLegacyKeyLayout(services.redis, prefix, createLogger('silent'));

    expect(result.refused).toEqual(['b24:*']);
    expect(await services.store.find(id)).toMatchObject({ id, status: 'active' });
    expect(await services.store.tokens(id)).toMatchObject({ accessToken: 'access-1' });
    expect(await services.tracker.get(id, { entity: 'deal', id: '5' })).toBe('NEW');
    expect(await services.ownWrites.isOwn(id, { entity: 'deal', id: '5' }, 'title', '5 / Иванов')).toBe(true);
    expect(await services.redis.ttl(installationKey(prefix, id, 'own', 'deal', '5', 'title'))).toBeGreaterThan(0);
    expect(await services.actions.latest(id, 10)).toEqual([expect.objectContaining({ robot: 'dealRenamer', summary: 'renamed' })]);
    expect(await services.redis.exists(`${prefix}:actions`)).toBe(0);
    expect(await services.redis.exists(`${prefix}:i:${id}:stage:deal:5`)).toBe(0);

    // Nothing left to move the second time.
    expect((await migrateLegacyKeyLayout(services.redis, prefix, createLogger('silent'))).moved).toBe(0);
  });
});
