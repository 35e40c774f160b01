import type { Installation } from '../../src/installations/installation';
import { robots } from '../../src/robots';
import { applyChanges, robotStatuses, settingsView } from '../../src/settings-page/settings-view';

const installation = (settings: Record<string, unknown>) =>
  ({ id: 'amo:42', crm: 'amocrm', status: 'active', installedAt: '2026-11-01T00:00:00Z', settings, accountId: '42', subdomain: 'x', baseUrl: 'https://x.amocrm.ru', webhookSecretHash: '0'.repeat(64) }) as Installation;

const stateOf = (settings: Record<string, unknown>, robot: string) => robotStatuses(installation(settings), robots).find((r) => r.name === robot);
const BOUND = { stageGuard: { regulations: [{ preset: 'amocrm-primary-market' }] } };

describe('what the app page says is on and off', () => {
  it.each([
    ['the renamer needs nothing but itself', {}, 'dealRenamer', { enabled: true, waitingFor: null }],
    ['a robot switched off is off', { dealRenamer: { enabled: false } }, 'dealRenamer', { enabled: false, waitingFor: null }],
    ['the stage guard waits for a bound regulation', {}, 'stageGuard', { enabled: true, waitingFor: 'regulation' }],
    ['… and runs once one is bound', BOUND, 'stageGuard', { enabled: true, waitingFor: null }],
    ['the takeover timer needs the regulation’s stage roles', {}, 'takeoverTimer', { enabled: true, waitingFor: 'regulation' }],
    ['the unit sync waits for an inventory connection', BOUND, 'unitStatusSync', { enabled: true, waitingFor: 'inventory' }],
    ['invalid stored settings stop a robot', { takeoverTimer: { timeout: 'soon' } }, 'takeoverTimer', { enabled: false, waitingFor: 'valid_settings' }],
  ])('%s', (_name, settings, robot, expected) => {
    expect(stateOf(settings, robot)).toEqual({ name: robot, ...expected });
  });
});

describe('a save from the page', () => {
  it('lands whole or not at all, each refusal at its own path', () => {
    const outcome = applyChanges({}, [{ path: 'dealRenamer.template', value: '{id}' }, { path: 'bookingReleaser.warnBefore', value: 'a day' }, { path: 'nope.field', value: 1 }], robots, 'en');
    expect(outcome).toEqual({ ok: false, issues: [
      { path: 'bookingReleaser.warnBefore', message: expect.stringContaining('"a day" is not a duration') },
      { path: 'nope.field', message: expect.stringContaining('unknown setting "nope"') },
    ] });
  });

  it('speaks Russian by default, our own messages included', () => {
    const outcome = applyChanges({}, [{ path: 'schedule', value: '9-18' }, { path: 'headsOfSales', value: ['Ольга'] }], robots, 'ru');
    expect(outcome.ok).toBe(false);
    const messages = outcome.ok ? [] : outcome.issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual([expect.stringMatching(/^schedule: «9-18» — не окно рабочего времени/), 'headsOfSales.0: Id пользователя CRM (цифры)']);
  });

  it('treats a secret sent back as its mask as unchanged, and null as back to the default', () => {
    const stored = { unitStatusSync: { inventory: { system: 'http', baseUrl: 'https://1c.example.ru/v1', apiKey: 'secret-key-9876', project: 'ЖК' } }, dealRenamer: { template: '{id}' } };
    const outcome = applyChanges(stored, [{ path: 'unitStatusSync.inventory.apiKey', value: '••••9876' }, { path: 'dealRenamer.template', value: null }], robots, 'ru');
    expect(outcome).toEqual({ ok: true, changed: ['dealRenamer.template'], settings: { unitStatusSync: stored.unitStatusSync, dealRenamer: {} } });
    expect(JSON.stringify(settingsView(installation(stored), robots, 'ru').settings)).not.toContain('secret-key-9876');
  });
});
