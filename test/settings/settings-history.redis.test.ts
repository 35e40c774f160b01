import { installationKey } from '../../src/infra/keys';
import { RedisSettingsHistory, SETTINGS_HISTORY_KEEP_DAYS, SETTINGS_HISTORY_KEEP_ENTRIES, type SettingsAuthor } from '../../src/settings/settings-history';
import { writeSettings } from '../../src/settings/write-settings';
import { documentedAmocrmInstallation, documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

const DAY = 24 * 3600 * 1000;
const ADMIN_ON_PAGE: SettingsAuthor = { by: { kind: 'user', userId: '1', role: 'admin' }, via: 'settings_page' };

/**
 * Every settings write leaves a line in the installation's history — who, when, where, what —
 * only when something changed; the history keeps the newest 200 lines of the last 180 days and
 * goes with the installation.
 */
describe('settings history', () => {
  let services: Awaited<ReturnType<typeof createTestServices>>;
  let history: RedisSettingsHistory;
  const portal = documentedBitrix24Installation();
  const account = documentedAmocrmInstallation();

  beforeEach(async () => {
    services = await createTestServices();
    history = new RedisSettingsHistory(services.redis, services.prefix);
    await services.store.save(portal, someTokens());
    await services.store.save(account, someTokens());
  });
  afterEach(() => services.cleanup());

  it('a save that changes a setting is recorded with who, where and before → after; the settings are saved too', async () => {
    const outcome = await writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, takeoverTimer: { timeout: '20m' } }));
    expect(outcome.installation!.settings).toMatchObject({ takeoverTimer: { timeout: '20m' } });
    const [entry, ...rest] = await history.latest(portal.id);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ by: ADMIN_ON_PAGE.by, via: 'settings_page', changes: [{ path: 'takeoverTimer.timeout', after: '20m' }] });
    expect(Math.abs(Date.parse(entry!.at) - Date.now())).toBeLessThan(5000);
    // The other installation's history is untouched.
    expect(await history.latest(account.id)).toEqual([]);
  });

  it('a save that changes nothing, or is refused, records nothing', async () => {
    await writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, locale: 'en' }));
    await writeSettings(services, portal.id, { by: { kind: 'operator' }, via: 'cli' }, (current) => ({ ...current.settings, locale: 'en' }));
    await writeSettings(services, portal.id, { by: { kind: 'operator' }, via: 'cli' }, () => null);
    const entries = await history.latest(portal.id);
    expect(entries.map((e) => e.changes)).toEqual([[{ path: 'locale', after: 'en' }]]);
    // No installation: nothing is written anywhere.
    const missing = await writeSettings(services, 'amo:999', ADMIN_ON_PAGE, () => ({ locale: 'en' }));
    expect(missing).toEqual({ installation: null, changes: [], entry: null });
    expect(await services.redis.exists(installationKey(services.prefix, 'amo:999', 'settings-history'))).toBe(0);
  });

  it('a save that meets a concurrent change is recorded once, against the record it actually replaced', async () => {
    const recordKey = installationKey(services.prefix, portal.id, 'installation');
    let attempts = 0;
    await writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => {
      attempts++;
      // Someone else's write lands between our read and our compare-and-set (sent first on the same connection).
      if (attempts === 1) void services.redis.hset(recordKey, 'data', JSON.stringify({ ...current, settings: { ...current.settings, locale: 'en' } }));
      return { ...current.settings, takeoverTimer: { timeout: '5m' } };
    });
    expect(attempts).toBe(2);
    expect((await services.store.find(portal.id))!.settings).toMatchObject({ locale: 'en', takeoverTimer: { timeout: '5m' } });
    expect((await history.latest(portal.id)).map((e) => e.changes)).toEqual([[{ path: 'takeoverTimer.timeout', after: '5m' }]]);
  });

  it('settings and their history line land together or not at all: a history that cannot be written keeps the settings as they were', async () => {
    const key = installationKey(services.prefix, portal.id, 'settings-history');
    await services.redis.set(key, 'not a sorted set');
    await expect(writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, locale: 'en' }))).rejects.toThrow(/WRONGTYPE/);
    expect((await services.store.find(portal.id))!.settings).toEqual({});
    await services.redis.del(key);
    await writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, locale: 'en' }));
    expect((await services.store.find(portal.id))!.settings).toEqual({ locale: 'en' });
    expect(await history.latest(portal.id)).toHaveLength(1);
  });

  it('the row written with the settings must be a key of that installation', async () => {
    const foreign = { key: installationKey(services.prefix, account.id, 'settings-history'), score: Date.now(), member: 'x', keepFromScore: 0, keepEntries: 10, ttlMs: 60_000 };
    await expect(services.store.modify(portal.id, (current) => ({ ...current, settings: { locale: 'en' } }), () => foreign)).rejects.toThrow(/not a key of installation/);
    expect((await services.store.find(portal.id))!.settings).toEqual({});
    expect(await services.redis.exists(foreign.key)).toBe(0);
  });

  it('a secret is stored masked: the history never holds an API key', async () => {
    await writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, unitStatusSync: { inventory: { system: 'profitbase', baseUrl: 'https://pb.example', apiKey: 'pb-very-secret-4321', houseId: 1 } } }));
    const raw = await services.redis.zrange(installationKey(services.prefix, portal.id, 'settings-history'), 0, -1);
    expect(raw.join('')).not.toContain('pb-very-secret');
    expect((await history.latest(portal.id))[0]!.changes).toContainEqual({ path: 'unitStatusSync.inventory.apiKey', after: '••••4321' });
  });

  it('newest first, at most 200 entries: the oldest go on the write that passes the bound', async () => {
    const start = Date.now() - 1000 * 60_000;
    for (let i = 0; i < SETTINGS_HISTORY_KEEP_ENTRIES + 5; i++) {
      await history.record(portal.id, { at: new Date(start + i * 60_000).toISOString(), by: { kind: 'operator' }, via: 'cli', changes: [{ path: 'headsOfSales', after: [String(i)] }] });
    }
    expect(await services.redis.zcard(installationKey(services.prefix, portal.id, 'settings-history'))).toBe(SETTINGS_HISTORY_KEEP_ENTRIES);
    const all = await history.latest(portal.id, 1000);
    expect(all).toHaveLength(SETTINGS_HISTORY_KEEP_ENTRIES);
    expect(all[0]!.changes[0]!.after).toEqual([String(SETTINGS_HISTORY_KEEP_ENTRIES + 4)]);
    expect(all.at(-1)!.changes[0]!.after).toEqual(['5']);
    expect((await history.latest(portal.id, 3)).map((e) => e.changes[0]!.after)).toEqual([['204'], ['203'], ['202']]);
  });

  it('an entry older than 180 days is not shown and is removed by the next write; the key expires with the retention', async () => {
    const key = installationKey(services.prefix, portal.id, 'settings-history');
    await history.record(portal.id, { at: new Date(Date.now() - (SETTINGS_HISTORY_KEEP_DAYS + 1) * DAY).toISOString(), by: { kind: 'operator' }, via: 'cli', changes: [{ path: 'locale', after: 'en' }] }, Date.now() - 2 * DAY * SETTINGS_HISTORY_KEEP_DAYS);
    expect(await services.redis.zcard(key)).toBe(1);
    expect(await history.latest(portal.id)).toEqual([]);
    await writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, locale: 'en' }));
    expect(await services.redis.zcard(key)).toBe(1);
    expect((await history.latest(portal.id)).map((e) => e.via)).toEqual(['settings_page']);
    const ttl = await services.redis.pttl(key);
    expect(ttl).toBeGreaterThan((SETTINGS_HISTORY_KEEP_DAYS - 1) * DAY);
    expect(ttl).toBeLessThanOrEqual(SETTINGS_HISTORY_KEEP_DAYS * DAY);
  });

  it('an entry that does not fit the schema is refused before it is written, and a damaged stored one is skipped', async () => {
    const key = installationKey(services.prefix, portal.id, 'settings-history');
    await expect(history.record(portal.id, { at: new Date().toISOString(), by: { kind: 'user', userId: '1', role: 'manager' as 'admin' }, via: 'cli', changes: [{ path: 'locale' }] })).rejects.toThrow(/role/);
    await expect(history.record(portal.id, { at: new Date().toISOString(), by: { kind: 'operator' }, via: 'api' as 'cli', changes: [{ path: 'locale' }] })).rejects.toThrow(/via/);
    await expect(history.record(portal.id, { at: new Date().toISOString(), by: { kind: 'operator' }, via: 'cli', changes: [] })).rejects.toThrow(/changes/);
    expect(await services.redis.exists(key)).toBe(0);
    await services.redis.zadd(key, Date.now(), '{"not":"an entry"}');
    await services.redis.zadd(key, Date.now(), 'not json');
    await history.record(portal.id, { at: new Date().toISOString(), by: { kind: 'operator' }, via: 'cli', changes: [{ path: 'locale', before: 'en', after: 'ru' }] });
    expect((await history.latest(portal.id)).map((e) => e.changes)).toEqual([[{ path: 'locale', before: 'en', after: 'ru' }]]);
  });

  it('the history goes with the installation at uninstall, and the neighbour keeps its own', async () => {
    await writeSettings(services, portal.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, locale: 'en' }));
    await writeSettings(services, account.id, ADMIN_ON_PAGE, (current) => ({ ...current.settings, locale: 'en' }));
    await services.store.delete(portal.id);
    expect(await services.redis.exists(installationKey(services.prefix, portal.id, 'settings-history'))).toBe(0);
    expect(await history.latest(account.id)).toHaveLength(1);
  });

  it('a history key is built only from a valid installation id', async () => {
    await expect(history.latest('b24:*')).rejects.toThrow();
    await expect(history.record('amo:1*', { at: new Date().toISOString(), by: { kind: 'operator' }, via: 'cli', changes: [{ path: 'locale' }] })).rejects.toThrow();
  });
});
