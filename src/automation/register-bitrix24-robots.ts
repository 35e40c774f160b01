import { BITRIX24_ROBOTS, robotFields, type Bitrix24RobotDefinition } from './bitrix24-robot-catalog';

/** The REST calls registration needs (the app's Bitrix24 client in production, a fake in unit tests). */
export interface RobotRegistrationRest {
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
}

export interface RegistrationPlan {
  add: Bitrix24RobotDefinition[];
  update: Bitrix24RobotDefinition[];
}

/**
 * Which robots to add and which to update, from the codes `bizproc.robot.list` returns. Existing
 * ones are updated, never added twice (add would answer ERROR_ACTIVITY_ALREADY_INSTALLED), so a
 * reinstall or an app update converges on the current catalog. Codes that are not ours are left alone.
 */
export function planRobotRegistration(registered: readonly string[], catalog: readonly Bitrix24RobotDefinition[] = BITRIX24_ROBOTS): RegistrationPlan {
  const have = new Set(registered);
  return { add: catalog.filter((r) => !have.has(r.CODE)), update: catalog.filter((r) => have.has(r.CODE)) };
}

/**
 * Registers Reglament's robots in the portal's automation designer (restdocs bizproc-robot-add.md,
 * -update.md, -list.md). Needs the `bizproc` scope and an administrator's token: the installing
 * administrator's, whose token Bitrix24 also passes to the handler (AUTH_USER_ID). Nothing removes
 * them on uninstall: Bitrix24 deletes an application's robots itself, and the app's token is revoked
 * by the time ONAPPUNINSTALL arrives.
 */
export async function registerBitrix24Robots(rest: RobotRegistrationRest, handler: string, authUserId: number): Promise<{ added: string[]; updated: string[] }> {
  const listed = (await rest.call<unknown>('bizproc.robot.list')) ?? [];
  const registered = Array.isArray(listed) ? listed.map(String) : Object.values(listed as Record<string, unknown>).map(String);
  const plan = planRobotRegistration(registered);
  for (const robot of plan.add) await rest.call('bizproc.robot.add', { CODE: robot.CODE, ...robotFields(robot, handler, authUserId) });
  for (const robot of plan.update) await rest.call('bizproc.robot.update', { CODE: robot.CODE, FIELDS: robotFields(robot, handler, authUserId) });
  return { added: plan.add.map((r) => r.CODE), updated: plan.update.map((r) => r.CODE) };
}
