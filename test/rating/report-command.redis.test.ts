import { operatorCommand } from '../helpers/operator-command';
import { RedisInstallationState } from '../../src/installations/installation-state';
import { saveTakeover, type TakeoverState } from '../../src/robots/takeover/takeover-state';
import { documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

describe('npm run report -- takeover: why did Б get this lead', () => {
  let services: Awaited<ReturnType<typeof createTestServices>>;
  const installation = documentedBitrix24Installation();

  beforeAll(async () => {
    services = await createTestServices();
    await services.store.save(installation, someTokens());
    const state: TakeoverState = {
      status: 'pending',
      stageId: 'NEW',
      responsibleId: '3',
      holders: ['2', '3'],
      names: { '2': 'Мария Менеджерова', '3': 'Иван Продажин' },
      hops: 1,
      seq: 2,
      assignedAt: '2026-11-30T08:15:00.000Z',
      dueAt: '2026-11-30T08:30:00.000Z',
      decisions: ['chosen Мария Менеджерова (#2)\n  candidate Мария Менеджерова (#2): weight 1, score 1, leads today 0', 'chosen Иван Продажин (#3)\n  candidate Иван Продажин (#3): weight 0.5, score 0.5, leads today 0\n  skipped Мария Менеджерова (#2): already held'],
    };
    await saveTakeover(new RedisInstallationState(services.redis, services.prefix, installation.id), { entity: 'lead', id: '42' }, null, state);
  });
  afterAll(() => services.cleanup());

  const report = (...args: string[]) => operatorCommand(services.prefix, 'report.ts', ...args);

  test('prints who held the lead and every distribution decision', async () => {
    const out = await report('takeover', installation.id, 'lead:42');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('lead:42: pending; responsible Иван Продажин');
    expect(out.stdout).toContain('held by: Мария Менеджерова → Иван Продажин');
    expect(out.stdout).toContain('skipped Мария Менеджерова (#2): already held');
  }, 30_000);

  test.each([
    [['takeover', installation.id, 'lead:42*'], 2, 'is not a lead'],
    [['takeover', installation.id, 'deal:42'], 1, 'No takeover recorded'],
    [['nonsense'], 2, 'usage: npm run report'],
  ])('refuses %j with exit %d', async (args, code, message) => {
    const out = await report(...args);
    expect(out.code).toBe(code);
    expect(out.stderr).toContain(message);
  }, 30_000);
});
