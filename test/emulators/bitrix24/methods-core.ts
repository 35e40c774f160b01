/** Non-CRM REST methods: app/user info, event bindings, notifications. */
import { KNOWN_EVENTS } from './events';
import { matchFilter, paginate, sortRows } from './filter';
import { type MethodHandler, type Params, type PortalInternals, objectParam, param } from './rest-context';
import type { PortalUser } from './types';
import { RestError, toBool, toInt, toList } from './util';

/** `user.get` / `user.current` row (restdocs `api-reference/user/user-get.md`). */
function userRow(user: PortalUser, internals: PortalInternals): Record<string, unknown> {
  return {
    ID: String(user.id),
    ACTIVE: user.active !== false,
    NAME: user.name,
    LAST_NAME: user.lastName,
    SECOND_NAME: '',
    EMAIL: user.email ?? `user${user.id}@example.com`,
    LAST_LOGIN: internals.stamp(),
    DATE_REGISTER: internals.stamp(Date.UTC(2024, 0, 15)),
    IS_ONLINE: 'N',
    TIME_ZONE: '',
    PERSONAL_GENDER: '',
    WORK_POSITION: user.isAdmin ? 'Администратор' : '',
    UF_DEPARTMENT: user.departments ?? [1],
    USER_TYPE: 'employee',
  };
}

const currentUser = (internals: PortalInternals, userId: number): PortalUser => {
  const user = internals.users.find((candidate) => candidate.id === userId);
  if (!user) throw new RestError(401, 'NO_AUTH_FOUND', 'Wrong authorization data');
  return user;
};

const USER_GET_RESERVED = new Set(['sort', 'order', 'filter', 'start', 'admin_mode', 'select', 'auth']);

function addNotification(internals: PortalInternals, params: Params, fromUserId: number | null): number | false {
  const userId = toInt(param(params, 'USER_ID'));
  if (!userId || userId <= 0) throw new RestError(400, 'USER_ID_EMPTY', "User ID can't be empty");
  const message = param(params, 'MESSAGE');
  if (message === undefined || message === null || String(message).trim() === '') {
    throw new RestError(400, 'MESSAGE_EMPTY', "Message can't be empty");
  }
  if (!internals.users.some((user) => user.id === userId)) return false;
  const tagValue = param(params, 'TAG');
  const tag = tagValue === undefined || tagValue === '' ? null : String(tagValue);
  if (tag !== null) {
    // "The same TAG replaces older notifications" (restdocs im-notify-system-add.md).
    for (let index = internals.notifications.length - 1; index >= 0; index--) {
      const existing = internals.notifications[index];
      if (existing && existing.userId === userId && existing.tag === tag) internals.notifications.splice(index, 1);
    }
  }
  const id = internals.nextId('notification');
  internals.notifications.push({
    id,
    kind: fromUserId === null ? 'system' : 'personal',
    userId,
    fromUserId,
    message: String(message),
    tag,
    at: internals.stamp(),
  });
  return id;
}

export function coreMethods(internals: PortalInternals): Record<string, MethodHandler> {
  return {
    'app.info': () => ({ result: internals.appInfo() }),

    profile: (_params, ctx) => {
      const user = currentUser(internals, ctx.userId);
      return {
        result: { ID: String(user.id), ADMIN: user.isAdmin === true, NAME: user.name, LAST_NAME: user.lastName, PERSONAL_GENDER: '', TIME_ZONE: '' },
      };
    },

    'user.admin': (_params, ctx) => ({ result: currentUser(internals, ctx.userId).isAdmin === true }),

    'user.current': (_params, ctx) => ({ result: userRow(currentUser(internals, ctx.userId), internals) }),

    'user.get': (params) => {
      const filter: Params = { ...objectParam(param(params, 'FILTER')) };
      for (const [key, value] of Object.entries(params)) {
        if (!USER_GET_RESERVED.has(key.toLowerCase()) && !key.startsWith('bx24_')) filter[key] = value;
      }
      if ('ACTIVE' in filter) filter.ACTIVE = toBool(filter.ACTIVE);
      const rows = internals.users.map((user) => userRow(user, internals));
      const resolve = (name: string): string | null => name.toUpperCase();
      const matched = rows.filter((row) => matchFilter(row, filter, resolve, 'ignore'));
      const sortField = param(params, 'sort');
      const order = sortField ? { [String(sortField)]: String(param(params, 'order') ?? 'ASC') } : {};
      const sorted = sortRows(matched, order, resolve, 'ID');
      const { page, total, next } = paginate(sorted, param(params, 'start'));
      return { result: page, total, next };
    },

    'event.bind': (params) => {
      const eventType = String(param(params, 'event_type') ?? 'online').toLowerCase();
      if (eventType === 'offline') {
        throw new RestError(400, 'ERROR_NOT_EMULATED', 'Offline events are not emulated by the Bitrix24 portal emulator');
      }
      const binding = internals.bus.bind(String(param(params, 'event') ?? ''), String(param(params, 'handler') ?? ''), toInt(param(params, 'auth_type')) ?? 0);
      return { result: binding.id > 0 };
    },

    'event.unbind': (params) => {
      const authType = param(params, 'auth_type');
      const count = internals.bus.unbind(
        String(param(params, 'event') ?? ''),
        String(param(params, 'handler') ?? ''),
        authType === undefined || authType === '' ? undefined : (toInt(authType) ?? 0),
      );
      return { result: { count } };
    },

    'event.get': () => ({
      result: internals.bus.bindings.map((binding) => ({ event: binding.event, handler: binding.handler, auth_type: String(binding.authType), offline: 0 })),
    }),

    events: () => ({ result: [...KNOWN_EVENTS] }),

    // Scope `department` (restdocs api-reference/departments/department-get.md); the emulator has one flat company.
    'department.get': () => {
      const ids = [...new Set(internals.users.flatMap((u) => u.departments ?? [1]))].sort((a, b) => a - b);
      return { result: ids.map((id) => ({ ID: String(id), NAME: id === 1 ? 'Компания' : `Отдел ${id}`, SORT: 500, PARENT: id === 1 ? undefined : '1' })) };
    },

    // Scope `calendar` (restdocs calendar-accessibility-get.md): each user's entries overlapping [from, to].
    'calendar.accessibility.get': (params) => {
      if (!internals.scope.split(',').includes('calendar')) {
        throw new RestError(401, 'insufficient_scope', 'The request requires higher privileges than provided by the access token');
      }
      for (const name of ['users', 'from', 'to']) {
        if (param(params, name) === undefined) throw new RestError(400, '', `The required parameter "${name}" for the method "calendar.accessibility.get" is not set`);
      }
      const from = Date.parse(`${String(param(params, 'from'))}T00:00:00Z`);
      const to = Date.parse(`${String(param(params, 'to'))}T23:59:59Z`);
      const users = toList(param(params, 'users')).map((u) => Number(u));
      const result: Record<string, unknown[]> = {};
      for (const userId of users) {
        result[String(userId)] = internals.calendar
          .filter((e) => e.userId === userId && e.fromMs <= to && e.toMs >= from)
          .map((e) => ({
            ID: String(e.id),
            NAME: e.name,
            DATE_FROM: internals.stamp(e.fromMs),
            DATE_TO: internals.stamp(e.toMs),
            DATE_FROM_TS_UTC: String(Math.floor(e.fromMs / 1000)),
            DATE_TO_TS_UTC: String(Math.floor(e.toMs / 1000)),
            DT_SKIP_TIME: 'N',
            ACCESSIBILITY: e.accessibility,
            IMPORTANCE: 'normal',
          }));
      }
      return { result };
    },

    'im.notify.system.add': (params) => ({ result: addNotification(internals, params, null) }),

    'im.notify.personal.add': (params, ctx) => ({ result: addNotification(internals, params, ctx.userId) }),
  };
}
