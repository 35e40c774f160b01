/**
 * CRM activities (stage timers): `crm.activity.list` over to-dos (`crm.activity.todo.add`,
 * PROVIDER_ID `CRM_TODO`, TYPE_ID 6) and the calls, e-mails and open-line chats recorded on a
 * deal or lead (restdocs `crm/timeline/activities/activity-base/crm-activity-list.md`: filter
 * with the documented prefixes, `order` default START_TIME asc, 50 rows a page; field values
 * come back as strings, COMPLETED "Y"/"N").
 */
import { type FieldResolver, applySelect, matchFilter, paginate, sortRows } from './filter';
import { type MethodHandler, type PortalInternals, param } from './rest-context';
import type { ActivityRecord } from './types';
import { RestError } from './util';

export interface NewActivity {
  kind: 'call' | 'email' | 'sms' | 'openline';
  direction: 'incoming' | 'outgoing';
  userId: number;
  subject?: string;
  /** Epoch ms; default now. */
  at?: number;
  durationSeconds?: number;
}

const ACTIVITY_FIELDS = [
  'ID', 'OWNER_ID', 'OWNER_TYPE_ID', 'TYPE_ID', 'PROVIDER_ID', 'PROVIDER_TYPE_ID', 'SUBJECT', 'CREATED', 'LAST_UPDATED',
  'START_TIME', 'END_TIME', 'DEADLINE', 'COMPLETED', 'STATUS', 'RESPONSIBLE_ID', 'PRIORITY', 'DESCRIPTION', 'DIRECTION',
  'AUTHOR_ID', 'EDITOR_ID',
];
const resolve: FieldResolver = (name) => (ACTIVITY_FIELDS.includes(name.toUpperCase()) ? name.toUpperCase() : null);

export function addActivity(internals: PortalInternals, ownerTypeId: number, ownerId: number, a: NewActivity): number {
  if (!internals.store.get(ownerTypeId as 1 | 2 | 3, ownerId)) throw new Error(`no owner ${ownerTypeId}/${ownerId}`);
  const at = a.at ?? internals.now();
  const kind = {
    call: { typeId: 2, providerId: 'VOXIMPLANT_CALL', providerTypeId: 'CALL' },
    email: { typeId: 4, providerId: 'CRM_EMAIL', providerTypeId: 'EMAIL' },
    sms: { typeId: 6, providerId: 'CRM_SMS', providerTypeId: 'SMS' },
    openline: { typeId: 6, providerId: 'IMOPENLINES_SESSION', providerTypeId: 'whatsapp' },
  }[a.kind];
  const record: ActivityRecord = {
    id: internals.nextId('activity'),
    ownerTypeId,
    ownerId,
    ...kind,
    direction: a.direction === 'incoming' ? 1 : 2,
    subject: a.subject ?? (a.kind === 'call' ? (a.direction === 'incoming' ? 'Входящий звонок' : 'Исходящий звонок') : 'Сообщение'),
    completed: true,
    responsibleId: a.userId,
    authorId: a.userId,
    created: internals.stamp(at),
    startTime: internals.stamp(at),
    endTime: internals.stamp(at + (a.durationSeconds ?? 0) * 1000),
  };
  internals.activities.push(record);
  return record.id;
}

function rows(internals: PortalInternals): Array<Record<string, unknown>> {
  const todos = internals.todos.map((t) => ({
    ID: String(t.id), OWNER_ID: String(t.ownerId), OWNER_TYPE_ID: String(t.ownerTypeId), TYPE_ID: '6', PROVIDER_ID: 'CRM_TODO',
    PROVIDER_TYPE_ID: 'TODO', SUBJECT: t.title, CREATED: t.created, LAST_UPDATED: t.created, START_TIME: t.deadline, END_TIME: t.deadline,
    DEADLINE: t.deadline, COMPLETED: t.completed ? 'Y' : 'N', STATUS: t.completed ? '2' : '1', RESPONSIBLE_ID: String(t.responsibleId),
    PRIORITY: '2', DESCRIPTION: t.description, DIRECTION: '0', AUTHOR_ID: String(t.createdBy), EDITOR_ID: String(t.createdBy),
  }));
  const others = internals.activities.map((a) => ({
    ID: String(a.id), OWNER_ID: String(a.ownerId), OWNER_TYPE_ID: String(a.ownerTypeId), TYPE_ID: String(a.typeId), PROVIDER_ID: a.providerId,
    PROVIDER_TYPE_ID: a.providerTypeId, SUBJECT: a.subject, CREATED: a.created, LAST_UPDATED: a.created, START_TIME: a.startTime,
    END_TIME: a.endTime, DEADLINE: a.startTime, COMPLETED: a.completed ? 'Y' : 'N', STATUS: a.completed ? '2' : '1',
    RESPONSIBLE_ID: String(a.responsibleId), PRIORITY: '2', DESCRIPTION: '', DIRECTION: String(a.direction), AUTHOR_ID: String(a.authorId),
    EDITOR_ID: String(a.authorId),
  }));
  return [...todos, ...others];
}

export function activityMethods(internals: PortalInternals): Record<string, MethodHandler> {
  return {
    'crm.activity.list': (params) => {
      const filter = param(params, 'filter');
      if (filter !== undefined && filter !== null && typeof filter !== 'object') throw new RestError(400, 'ERROR_CORE', 'Invalid filter');
      const matched = rows(internals).filter((row) => matchFilter(row, filter, resolve, 'ignore'));
      const { page, total, next } = paginate(sortRows(matched, param(params, 'order') ?? { START_TIME: 'ASC' }, resolve, 'ID'), param(params, 'start'));
      return { result: page.map((row) => applySelect(row, param(params, 'select'), resolve, [])), total, next };
    },
  };
}
