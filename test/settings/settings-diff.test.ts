import { runInNewContext } from 'node:vm';
import { diffSettings } from '../../src/settings/settings-diff';

/**
 * The settings history shows what a save changed: each changed setting by its path, the value
 * before and after as stored (absent = the default applies), secrets masked as the page shows them.
 */
describe('what a settings save changed', () => {
  const regulation = { preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } };

  it.each([
    ['nothing changed', { locale: 'ru' }, { locale: 'ru' }, []],
    ['both empty', {}, {}, []],
    ['a global setting changed', { locale: 'ru' }, { locale: 'en' }, [{ path: 'locale', before: 'ru', after: 'en' }]],
    ['a robot setting set where the default applied', {}, { takeoverTimer: { timeout: '20m' } }, [{ path: 'takeoverTimer.timeout', after: '20m' }]],
    ['a robot setting back to the default', { takeoverTimer: { timeout: '20m', enabled: true } }, { takeoverTimer: { enabled: true } }, [{ path: 'takeoverTimer.timeout', before: '20m' }]],
    ['a whole robot section removed: one line per setting', { dealRenamer: { enabled: false, template: '{id}' } }, {}, [{ path: 'dealRenamer.enabled', before: false }, { path: 'dealRenamer.template', before: '{id}' }]],
    ['a list is compared whole', { headsOfSales: ['4'] }, { headsOfSales: ['4', '7'] }, [{ path: 'headsOfSales', before: ['4'], after: ['4', '7'] }]],
    ['the same list in the same order is no change', { headsOfSales: ['4', '7'] }, { headsOfSales: ['4', '7'] }, []],
    ['a regulation switched on', { stageGuard: { enabled: true } }, { stageGuard: { enabled: true, regulations: [regulation] } }, [{ path: 'stageGuard.regulations', after: [regulation] }]],
    ['a value turning into an object', { rateLimit: 5 }, { rateLimit: { burst: 250 } }, [{ path: 'rateLimit', before: 5, after: { burst: 250 } }]],
    ['an empty object appearing', {}, { rateLimit: {} }, [{ path: 'rateLimit', after: {} }]],
    ['several changes come sorted by path', { schedule: '24/7', locale: 'ru' }, { schedule: '09:00-18:00 Europe/Moscow, Mon-Fri', locale: 'en' }, [{ path: 'locale', before: 'ru', after: 'en' }, { path: 'schedule', before: '24/7', after: '09:00-18:00 Europe/Moscow, Mon-Fri' }]],
  ])('%s', (_name, before, after, expected) => {
    expect(diffSettings(before, after)).toEqual(expected);
  });

  it('the same values built elsewhere (another realm, keys in another order) are no change', () => {
    const before = { headsOfSales: ['4'], rateLimit: { burst: 250, perSecond: 5 } };
    const after = runInNewContext('({ rateLimit: { perSecond: 5, burst: 250 }, headsOfSales: ["4"] })') as Record<string, unknown>;
    expect(diffSettings(before, after)).toEqual([]);
    expect(diffSettings(before, { ...after, headsOfSales: ['4', '7'] })).toEqual([{ path: 'headsOfSales', before: ['4'], after: ['4', '7'] }]);
  });

  it('a changed API key is recorded by its mask (last four characters), never the key', () => {
    const before = { unitStatusSync: { inventory: { system: 'profitbase', baseUrl: 'https://pb.example', apiKey: 'pb-secret-key-0001' } } };
    const after = { unitStatusSync: { inventory: { system: 'profitbase', baseUrl: 'https://pb.example', apiKey: 'pb-secret-key-0002' } } };
    const changes = diffSettings(before, after);
    expect(changes).toEqual([{ path: 'unitStatusSync.inventory.apiKey', before: '••••0001', after: '••••0002' }]);
    expect(JSON.stringify(changes)).not.toContain('pb-secret-key');
  });

  it('a new inventory connection lists each of its settings, its secrets masked (short ones fully)', () => {
    const changes = diffSettings({}, { unitStatusSync: { inventory: { system: 'http', apiKey: 'onec-api-key-9876', callbackSecret: 'short' } } });
    expect(changes).toEqual([
      { path: 'unitStatusSync.inventory.apiKey', after: '••••9876' },
      { path: 'unitStatusSync.inventory.callbackSecret', after: '••••' },
      { path: 'unitStatusSync.inventory.system', after: 'http' },
    ]);
  });

  it('a connection replaced whole (a list of objects) keeps its secrets masked inside', () => {
    const changes = diffSettings({ x: [{ apiKey: 'first-secret-aaaa' }] }, { x: [{ apiKey: 'other-secret-bbbb' }] });
    expect(changes).toEqual([{ path: 'x', before: [{ apiKey: '••••aaaa' }], after: [{ apiKey: '••••bbbb' }] }]);
  });
});
