/** Shared shapes of REST method handlers and the portal internals they may touch. */
import type { CrmStore } from './crm-store';
import type { EventBus } from './events';
import type { ActivityRecord, CalendarEntryRecord, CommentRecord, NotificationRecord, PortalUser, TodoRecord } from './types';
import { RestError, isPlainObject } from './util';

export type Params = Record<string, unknown>;

export interface CallContext {
  /** The user the access token belongs to. */
  userId: number;
  viaBatch: boolean;
}

export interface MethodOutput {
  result: unknown;
  total?: number;
  next?: number;
}

export type MethodHandler = (params: Params, ctx: CallContext) => MethodOutput;

export interface PortalInternals {
  readonly store: CrmStore;
  readonly bus: EventBus;
  readonly users: PortalUser[];
  readonly notifications: NotificationRecord[];
  readonly comments: CommentRecord[];
  readonly todos: TodoRecord[];
  /** Calls, e-mails, chats (stage timers). */
  readonly activities: ActivityRecord[];
  readonly calendar: CalendarEntryRecord[];
  /** Scopes granted to the app (comma-separated). */
  readonly scope: string;
  now(): number;
  /** Formats a timestamp (default: now) in the portal's timezone. */
  stamp(ms?: number): string;
  nextId(kind: 'notification' | 'comment' | 'activity'): number;
  appInfo(): Record<string, unknown>;
}

/** Case-insensitive parameter lookup (`id` / `ID`), as legacy methods accept both. */
export function param(params: Params, name: string): unknown {
  if (name in params) return params[name];
  const lower = name.toLowerCase();
  const key = Object.keys(params).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : params[key];
}

/** Bitrix engine controllers report a missing required argument like this. */
export function requireParam(params: Params, name: string): unknown {
  const value = params[name];
  if (value === undefined || value === null || value === '') {
    throw new RestError(400, '100', `Could not find value for parameter {${name}}`);
  }
  return value;
}

export function objectParam(value: unknown): Params {
  return isPlainObject(value) ? value : {};
}
