import { installationKey } from '../../src/infra/keys';
/**
 * Seed 001: the head of sales hears when the process fails — at most once an hour, with a digest
 * of what happened meanwhile (real Redis, a recording CRM port, a recording timer port).
 */
import type { TimerPort } from '../../src/app';
import { noteRobotFailure, failureReason } from '../../src/alerts/failure-alerts';
import { ALERT_DIGEST_TIMER, DIGEST_WINDOW_MS, flushAlertDigest, groupedProcessAlerts, type AlertDeps } from '../../src/alerts/process-alerts';
import type { CrmPort } from '../../src/crm/crm-port';
import { TransientError } from '../../src/errors';
import { RedisInstallationState } from '../../src/installations/installation-state';
import { documentedBitrix24Installation } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

describe('process alerts for the heads of sales', () => {
  let services: TestServices;
  let sent: Array<{ userId: string; text: string }>;
  let scheduled: Array<{ robot: string; key: string; delayMs: number }>;
  let deps: AlertDeps;
  let now: Date;

  beforeEach(async () => {
    services = await createTestServices();
    sent = [];
    scheduled = [];
    now = new Date('2026-11-30T08:00:00Z');
    const crm = {
      crm: 'bitrix24',
      notifyUser: async (userId: string, text: string) => void sent.push({ userId, text }),
      listUsers: async () => [],
    } as unknown as CrmPort;
    const timers: TimerPort = { schedule: async (robot, key, delayMs) => void scheduled.push({ robot, key, delayMs }), cancel: async () => undefined };
    const installation = { ...documentedBitrix24Installation(), settings: { headsOfSales: ['4', '5'] } };
    deps = { redis: services.redis, prefix: services.prefix, installation, crm, timers, now: () => now, log: services.log };
  });
  afterEach(() => services.cleanup());

  const alert = (n: number) => ({ kind: 'stage.overdue', text: `Сделка #${n} застряла`, target: { entity: 'deal' as const, id: String(n) } });

  it('the first alert of the hour goes out at once to every head of sales', async () => {
    await groupedProcessAlerts(deps).raise(alert(1));
    expect(sent).toEqual([{ userId: '4', text: 'Сделка #1 застряла' }, { userId: '5', text: 'Сделка #1 застряла' }]);
    expect(scheduled).toEqual([]);
  });

  it('the rest of the hour waits and goes out as one digest when the hour is over', async () => {
    const alerts = groupedProcessAlerts(deps);
    await alerts.raise(alert(1));
    now = new Date(now.getTime() + 10 * 60_000);
    await alerts.raise(alert(2));
    await alerts.raise(alert(3));
    await alerts.raise(alert(2));
    expect(sent.filter((s) => s.userId === '4')).toHaveLength(1);
    // One flush timer per head, due when the head's hour ends.
    expect(scheduled.filter((t) => t.key === 'digest|4').every((t) => t.robot === ALERT_DIGEST_TIMER && t.delayMs > 0 && t.delayMs <= DIGEST_WINDOW_MS)).toBe(true);
    await services.redis.del(installationKey(services.prefix, deps.installation.id, 'alerts', 4, 'window')); // the hour is over
    expect(await flushAlertDigest(deps, '4')).toBe(3);
    expect(sent.filter((s) => s.userId === '4').map((s) => s.text)).toEqual([
      'Сделка #1 застряла',
      'Reglament: сбои процесса за последний час (3):\n• Сделка #2 застряла (×2)\n• Сделка #3 застряла',
    ]);
    // The digest opened a new hour: the next alert waits again.
    await alerts.raise(alert(4));
    expect(sent.filter((s) => s.userId === '4')).toHaveLength(2);
    expect(await flushAlertDigest(deps, '4')).toBe(1);
  });

  it('a flush with nothing waiting sends nothing', async () => {
    expect(await flushAlertDigest(deps, '4')).toBe(0);
    expect(sent).toEqual([]);
  });

  it('a digest the CRM refused is kept for the next flush', async () => {
    const alerts = groupedProcessAlerts(deps);
    await alerts.raise(alert(1));
    await alerts.raise(alert(2));
    const failing = { ...deps, crm: { ...deps.crm, notifyUser: async () => { throw new TransientError('CRM is down'); } } as unknown as CrmPort };
    await expect(flushAlertDigest(failing, '4')).rejects.toThrow('CRM is down');
    expect(await flushAlertDigest(deps, '4')).toBe(1);
  });

  it('an alert the CRM refused at once waits for the digest', async () => {
    const failing = { ...deps, crm: { ...deps.crm, notifyUser: async () => { throw new TransientError('CRM is down'); } } as unknown as CrmPort };
    await groupedProcessAlerts(failing).raise(alert(1));
    expect(scheduled.map((t) => t.key)).toEqual(['digest|4', 'digest|5']);
    expect(await flushAlertDigest(deps, '4')).toBe(1);
    expect(sent.map((s) => s.text)).toEqual(['Reglament: сбои процесса за последний час (1):\n• Сделка #1 застряла']);
  });

  it('a robot that failed on the same deal 3 times is reported with the reason, in Russian', async () => {
    const state = new RedisInstallationState(services.redis, services.prefix, deps.installation.id);
    const raised: string[] = [];
    const alertsDeps = { state, alerts: { raise: async (a: { text: string }) => void raised.push(a.text) }, locale: 'ru' as const };
    const err = new TransientError('Bitrix24 crm.item.update: REQUEST_TIMEOUT');
    for (let i = 0; i < 4; i++) await noteRobotFailure(alertsDeps, 'stageGuard', { entity: 'deal', id: '759' }, err);
    await noteRobotFailure(alertsDeps, 'stageGuard', { entity: 'deal', id: '760' }, err);
    expect(raised).toEqual([
      'Робот «Контроль этапов» 3 раза не смог обработать сделку #759: CRM не отвечает или перегружена (Bitrix24 crm.item.update: REQUEST_TIMEOUT). Проверьте сделку и при необходимости распределите клиента вручную.',
    ]);
  });

  it.each([
    [new Error('Bitrix24 crm.item.update failed: ACCESS_DENIED'), 'у приложения нет прав на это действие в CRM'],
    [new Error('amoCRM PATCH /api/v4/leads/5 → 404'), 'сделка, этап или поле не найдены в CRM'],
    [new Error('Bitrix24 batch: QUERY_LIMIT_EXCEEDED'), 'превышен лимит запросов к CRM'],
    [new Error('boom'), 'внутренняя ошибка приложения'],
  ])('reason of %p', (err, reason) => {
    expect(failureReason(err, 'ru').startsWith(reason)).toBe(true);
  });
});
