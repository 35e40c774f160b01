/** The pipeline's side of seed 001: a robot that keeps failing on one deal is reported to the heads of sales. */
import { z } from 'zod';
import { defineRobot, ReglamentApp, type RobotServices } from '../../src/app';
import type { ProcessAlert } from '../../src/alerts/process-alerts';
import type { CrmPort, Deal } from '../../src/crm/crm-port';
import { PermanentCrmError } from '../../src/errors';
import { RedisInstallationState } from '../../src/installations/installation-state';
import { documentedAmocrmInstallation } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

const failing = defineRobot({
  name: 'stageGuard',
  settings: z.object({ enabled: z.boolean().default(true) }).passthrough(),
  register(app) {
    app.on('deal.updated', async () => {
      throw new PermanentCrmError('amoCRM PATCH /api/v4/leads/7 → 403 insufficient rights', 'FORBIDDEN');
    });
    app.onTimer(async () => {
      throw new PermanentCrmError('amoCRM PATCH /api/v4/leads/7 → 403 insufficient rights', 'FORBIDDEN');
    });
  },
});

describe('a robot failing on the same deal', () => {
  let services: Awaited<ReturnType<typeof createTestServices>>;
  beforeEach(async () => {
    services = await createTestServices();
  });
  afterEach(() => services.cleanup());

  it('the third failure on one deal alerts the heads of sales, with the reason in Russian; events and timers both count', async () => {
    const installation = documentedAmocrmInstallation();
    const raised: ProcessAlert[] = [];
    const robotServices: RobotServices = {
      crm: { crm: 'amocrm' } as CrmPort,
      log: services.log,
      state: new RedisInstallationState(services.redis, services.prefix, installation.id),
      timers: { schedule: async () => undefined, cancel: async () => undefined },
      actions: services.actions,
      alerts: { raise: async (a) => void raised.push(a) },
    };
    const app = new ReglamentApp([failing]);
    const deal = { entity: 'deal', id: '7', title: 'x', stageId: '1', funnelId: '1', responsibleId: '2', contactIds: [], fields: {}, modifiedBy: null, updatedAt: null } as Deal;
    const payload = { deal, contacts: [], causedByApp: false };
    await expect(app.dispatch('deal.updated', payload, installation, robotServices)).rejects.toThrow('403');
    await expect(app.fireTimer('stageGuard', 'limit|deal|7', { entity: 'deal', id: '7' }, installation, robotServices)).rejects.toThrow('403');
    expect(raised).toEqual([]);
    await expect(app.dispatch('deal.updated', payload, installation, robotServices)).rejects.toThrow('403');
    expect(raised).toEqual([
      {
        kind: 'robot.failing',
        target: { entity: 'deal', id: '7' },
        text: 'Робот «Контроль этапов» 3 раза не смог обработать сделку #7: у приложения нет прав на это действие в CRM (amoCRM PATCH /api/v4/leads/7 → 403 insufficient rights). Проверьте сделку и при необходимости распределите клиента вручную.',
      },
    ]);
    await expect(app.dispatch('deal.updated', payload, installation, robotServices)).rejects.toThrow('403');
    expect(raised).toHaveLength(1); // once a day per robot and deal
  });
});
