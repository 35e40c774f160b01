import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Absence, CrmKind, CrmUser } from '../crm/crm-port';
import { scheduleSchema, type Schedule } from '../settings/schedule';
import { crmDepartmentIdSchema, crmUserIdSchema } from './crm-user-id';
import { isWorkingTime, nextWorkingStart } from '../time/working-time';

/**
 * The managers who receive new leads: by default the CRM's active users who are not
 * administrators (nor heads of sales, nor technical users); settings narrow it to Bitrix24
 * departments, amoCRM groups, or explicit user ids. Each manager has working hours (the
 * installation's schedule unless overridden) and may be away (CRM absences, app-level vacations).
 */
const userId = crmUserIdSchema;
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date "YYYY-MM-DD"');

export const rosterSettingsSchema = z.object({
  /** Only these Bitrix24 departments (`UF_DEPARTMENT` ids). */
  departments: z.array(crmDepartmentIdSchema).default([]),
  /** Only these amoCRM groups (`rights.group_id`; 0 is «Отдел продаж»). */
  groups: z.array(z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String)).default([]),
  /** Only these users (overrides departments and groups). */
  userIds: z.array(userId).default([]),
  /** Never these users. */
  excludeUserIds: z.array(userId).default([]),
});

export const managerSettingsSchema = z.object({
  /** Base weight in the distribution (1 = an ordinary share; 0 = no new leads). */
  weight: z.number().min(0).max(100).default(1),
  /** This manager's working hours, when not the installation's `schedule`. */
  schedule: scheduleSchema.optional(),
});

/** App-level vacation: whole local days, `from` and `to` included. */
export const vacationSchema = z.object({ userId, from: day, to: day }).refine((v) => v.from <= v.to, { message: '"from" must not be after "to"' });
export type Vacation = z.infer<typeof vacationSchema>;

export interface RosterManager {
  id: string;
  name: string;
  baseWeight: number;
  schedule: Schedule;
}

export interface RosterOptions {
  crm: CrmKind;
  roster: z.infer<typeof rosterSettingsSchema>;
  managers: Record<string, z.infer<typeof managerSettingsSchema>>;
  defaultSchedule: Schedule;
  /** Heads of sales and technical users never receive leads. */
  notManagers: readonly string[];
}

export function buildRoster(users: readonly CrmUser[], options: RosterOptions): RosterManager[] {
  const { roster } = options;
  const teams = options.crm === 'bitrix24' ? roster.departments : roster.groups;
  return users
    .filter((u) => u.isActive !== false && !u.isAdmin)
    .filter((u) => !options.notManagers.includes(u.id) && !roster.excludeUserIds.includes(u.id))
    .filter((u) => (roster.userIds.length ? roster.userIds.includes(u.id) : !teams.length || (u.teamIds ?? []).some((t) => teams.includes(t))))
    .map((u) => ({
      id: u.id,
      name: u.name || `#${u.id}`,
      baseWeight: options.managers[u.id]?.weight ?? 1,
      schedule: options.managers[u.id]?.schedule ?? options.defaultSchedule,
    }));
}

/** Whether a manager is away at `at`: an app-level vacation day (in their schedule's zone) or a CRM absence. */
export function isAbsent(manager: RosterManager, at: Date, vacations: readonly Vacation[], absences: readonly Absence[]): boolean {
  const zone = manager.schedule.kind === 'weekly' ? manager.schedule.timeZone : 'UTC';
  const today = DateTime.fromJSDate(at, { zone }).toISODate()!;
  if (vacations.some((v) => v.userId === manager.id && v.from <= today && today <= v.to)) return true;
  return absences.some((a) => a.userId === manager.id && Date.parse(a.from) <= at.getTime() && at.getTime() < Date.parse(a.to));
}

export interface Availability {
  unavailable: 'absent' | 'off_hours' | null;
  nextShiftAt?: number;
}

export function availabilityOf(manager: RosterManager, at: Date, vacations: readonly Vacation[], absences: readonly Absence[]): Availability {
  if (isAbsent(manager, at, vacations, absences)) return { unavailable: 'absent' };
  if (!isWorkingTime(manager.schedule, at)) {
    // At night, whoever is away when the next shift starts is away for this lead too.
    const next = nextWorkingStart(manager.schedule, at);
    if (isAbsent(manager, next, vacations, absences)) return { unavailable: 'absent' };
    return { unavailable: 'off_hours', nextShiftAt: next.getTime() };
  }
  return { unavailable: null };
}

/** The local date of `at` in a schedule's zone ("YYYY-MM-DD"): daily caps count per local day. */
export function localDay(schedule: Schedule, at: Date): string {
  return DateTime.fromJSDate(at, { zone: schedule.kind === 'weekly' ? schedule.timeZone : 'UTC' }).toISODate()!;
}
