import { BITRIX24_ROBOTS, robotFields } from '../../src/automation/bitrix24-robot-catalog';
import { planRobotRegistration, registerBitrix24Robots } from '../../src/automation/register-bitrix24-robots';

const codes = (list: Array<{ CODE: string }>) => list.map((r) => r.CODE);
const ALL = codes([...BITRIX24_ROBOTS]);

describe('registering the robots in the Bitrix24 automation designer', () => {
  it.each([
    ['a fresh portal: every robot is added', [], ALL, []],
    ['a reinstall: every robot is updated, none added twice', ALL, [], ALL],
    ['an update that brings a new robot: the new one added, the others updated', ALL.slice(1), ALL.slice(0, 1), ALL.slice(1)],
    ["another app's or an old robot is left alone", ['someone_else', ...ALL], [], ALL],
  ])('%s', (_case, registered, add, update) => {
    const plan = planRobotRegistration(registered);
    expect(codes(plan.add)).toEqual(add);
    expect(codes(plan.update)).toEqual(update);
  });

  it('declares the five robots of the regulation with Russian and English names, codes the portal accepts and property keys starting with a letter', () => {
    expect(BITRIX24_ROBOTS.map((r) => r.NAME.ru)).toEqual([
      'Проверить переход по регламенту',
      'Передать лид по распределению',
      'Забронировать объект',
      'Снять бронь',
      'Переименовать сделку',
    ]);
    for (const robot of BITRIX24_ROBOTS) {
      expect(robot.CODE).toMatch(/^[a-zA-Z0-9._-]+$/);
      expect(robot.NAME.en).toMatch(/\w/);
      expect(robot.DESCRIPTION.ru).toMatch(/[А-Яа-я]/);
      for (const key of [...Object.keys(robot.PROPERTIES), ...Object.keys(robot.RETURN_PROPERTIES)]) expect(key).toMatch(/^[a-zA-Z][a-zA-Z0-9_]*$/);
    }
  });

  it('sends add for new codes and update (CODE + FIELDS) for existing ones, waiting for the answer', async () => {
    const sent: Array<[string, Record<string, unknown> | undefined]> = [];
    const rest = {
      async call<T>(method: string, params?: Record<string, unknown>): Promise<T> {
        sent.push([method, params]);
        return (method === 'bizproc.robot.list' ? ['reglament_rename_deal'] : true) as T;
      },
    };
    const done = await registerBitrix24Robots(rest, 'https://app.example/bitrix24/robots', 7);
    expect(done.updated).toEqual(['reglament_rename_deal']);
    expect(done.added).toHaveLength(4);
    const update = sent.find(([m]) => m === 'bizproc.robot.update')![1]!;
    const renamer = BITRIX24_ROBOTS.find((r) => r.CODE === 'reglament_rename_deal')!;
    expect(update).toEqual({ CODE: 'reglament_rename_deal', FIELDS: robotFields(renamer, 'https://app.example/bitrix24/robots', 7) });
    expect(update.FIELDS).toMatchObject({ USE_SUBSCRIPTION: 'Y', AUTH_USER_ID: 7, FILTER: { INCLUDE: [['crm', 'CCrmDocumentDeal'], ['crm', 'CCrmDocumentLead']] } });
  });
});
