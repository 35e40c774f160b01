/**
 * Application robots (restdocs api-reference/bizproc/bizproc-robot/*.md): `bizproc.robot.add`,
 * `.update`, `.list`, `.delete` (administrator, application context, scope `bizproc`) and
 * `bizproc.event.send` (any user, a valid and current EVENT_TOKEN). The registry also issues the
 * event tokens the emulated automation hands to a robot's handler, and keeps the answers.
 */
import { type MethodHandler, type Params, type PortalInternals, objectParam, param } from './rest-context';
import { RestError, isPlainObject, randomHex } from './util';

export interface RobotRecord {
  code: string;
  handler: string;
  authUserId: number | null;
  useSubscription: 'Y' | 'N' | '';
  name: unknown;
  description: unknown;
  properties: Record<string, Params>;
  returnProperties: Record<string, Params>;
  documentType: string[] | null;
  filter: Params | null;
  usePlacement: 'Y' | 'N';
  placementHandler: string | null;
}

export interface RobotRun {
  eventToken: string;
  workflowId: string;
  code: string;
  documentId: [string, string, string];
  answered: boolean;
}

export interface RobotAnswer {
  eventToken: string;
  code: string;
  documentId: [string, string, string];
  returnValues: Params;
  logMessage: string;
  byUserId: number;
}

const CODE = /^[a-zA-Z0-9._-]+$/;
const PROPERTY_KEY = /^[a-zA-Z][a-zA-Z0-9_]*$/;
const PROPERTY_TYPES = new Set(['bool', 'date', 'datetime', 'double', 'file', 'int', 'select', 'string', 'text', 'user']);

const validation = (description: string) => new RestError(400, 'ERROR_ACTIVITY_VALIDATION_FAILURE', description);

export class RobotRegistry {
  readonly robots = new Map<string, RobotRecord>();
  readonly runs = new Map<string, RobotRun>();
  readonly answers: RobotAnswer[] = [];

  /** A token shaped like the documented ones: `<workflow id>|<activity name>|<random>.<hash>`. */
  issueRun(code: string, documentId: [string, string, string]): RobotRun {
    const workflowId = `${randomHex().slice(0, 14)}.${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const activity = `A${Array.from({ length: 4 }, () => String(Math.floor(Math.random() * 1e5)).padStart(5, '0')).join('_')}`;
    const run: RobotRun = { eventToken: `${workflowId}|${activity}|${randomHex()}.${randomHex()}${randomHex()}`, workflowId, code, documentId, answered: false };
    this.runs.set(run.eventToken, run);
    return run;
  }

  /** Bitrix24 deletes an application's robots when the application is uninstalled. */
  clear(): void {
    this.robots.clear();
    this.runs.clear();
  }
}

function requireAdmin(internals: PortalInternals, userId: number): void {
  if (!internals.scope.split(',').includes('bizproc')) {
    throw new RestError(401, 'insufficient_scope', 'The request requires higher privileges than provided by the access token');
  }
  if (!internals.users.some((u) => u.id === userId && u.isAdmin)) throw new RestError(403, 'ACCESS_DENIED', 'Access denied!');
}

function localizedOrString(value: unknown): boolean {
  if (typeof value === 'string') return value.trim() !== '';
  return isPlainObject(value) && Object.values(value).some((v) => typeof v === 'string' && v.trim() !== '');
}

function checkProperties(value: unknown): Record<string, Params> {
  if (value === undefined || value === '' || value === null) return {};
  if (!isPlainObject(value)) throw validation('Wrong properties array!');
  for (const [key, property] of Object.entries(value)) {
    if (!PROPERTY_KEY.test(key)) throw validation(`Wrong property key ${key}!`);
    if (!isPlainObject(property)) throw validation('Wrong properties array!');
    if (!localizedOrString(param(property, 'Name'))) throw validation(`Empty property NAME ${key}!`);
    const type = param(property, 'Type');
    if (type !== undefined && !PROPERTY_TYPES.has(String(type)) && !String(type).startsWith('UF:')) throw validation('Wrong properties array!');
  }
  return value as Record<string, Params>;
}

function checkHandler(value: unknown, appHost: string | null, name = 'HANDLER'): string {
  const text = String(value ?? '');
  if (!URL.canParse(text)) throw new RestError(400, 'ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RestError(400, 'ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported handler protocol');
  // "The link must have the same domain as the one where the application is installed."
  if (appHost && url.host !== appHost) throw new RestError(400, 'ERROR_WRONG_HANDLER_URL', `Wrong handler URL (${name} must be on ${appHost})`);
  return text;
}

/** The fields add and update share; `partial` (update) checks only those given. */
function robotFields(fields: Params, appHost: string | null, partial: boolean): Partial<RobotRecord> {
  const out: Partial<RobotRecord> = {};
  const has = (name: string) => param(fields, name) !== undefined;
  if (!partial || has('HANDLER')) out.handler = checkHandler(param(fields, 'HANDLER'), appHost);
  if (has('AUTH_USER_ID')) out.authUserId = Number(param(fields, 'AUTH_USER_ID')) || null;
  if (has('USE_SUBSCRIPTION')) out.useSubscription = String(param(fields, 'USE_SUBSCRIPTION')) === 'N' ? 'N' : String(param(fields, 'USE_SUBSCRIPTION')) === 'Y' ? 'Y' : '';
  if (!partial || has('NAME')) {
    if (!localizedOrString(param(fields, 'NAME'))) throw validation('Empty activity NAME!');
    out.name = param(fields, 'NAME');
  }
  if (has('DESCRIPTION')) out.description = param(fields, 'DESCRIPTION');
  if (has('PROPERTIES')) out.properties = checkProperties(param(fields, 'PROPERTIES'));
  if (has('RETURN_PROPERTIES')) out.returnProperties = checkProperties(param(fields, 'RETURN_PROPERTIES'));
  if (has('DOCUMENT_TYPE')) {
    const type = param(fields, 'DOCUMENT_TYPE');
    const list = Array.isArray(type) ? type : isPlainObject(type) ? Object.values(type) : null;
    if (!list || list.length !== 3 || list.some((v) => typeof v !== 'string' || v === '')) throw validation('Wrong activity DOCUMENT_TYPE!');
    out.documentType = list as string[];
  }
  if (has('FILTER')) {
    const filter = param(fields, 'FILTER');
    if (!isPlainObject(filter)) throw validation('Wrong activity FILTER!');
    out.filter = filter;
  }
  if (has('USE_PLACEMENT')) out.usePlacement = String(param(fields, 'USE_PLACEMENT')) === 'Y' ? 'Y' : 'N';
  if (out.usePlacement === 'Y' || has('PLACEMENT_HANDLER')) out.placementHandler = checkHandler(param(fields, 'PLACEMENT_HANDLER'), appHost, 'PLACEMENT_HANDLER');
  return out;
}

function codeOf(params: Params): string {
  const code = param(params, 'CODE');
  if (code === undefined || code === null || String(code) === '') throw validation('Empty activity code!');
  if (!CODE.test(String(code))) throw validation('Wrong activity code!');
  return String(code);
}

/** Rules of FILTER.INCLUDE / EXCLUDE: a document type in full or in part (`['crm', 'CCrmDocumentDeal']`), or `b24` / `box`. */
export function filterAllows(filter: Params | null, documentType: readonly string[]): boolean {
  if (!filter) return true;
  const matches = (rule: unknown) => {
    if (rule === 'b24') return true; // the emulator is a cloud portal
    if (typeof rule === 'string') return false;
    const parts = Array.isArray(rule) ? rule : isPlainObject(rule) ? Object.values(rule) : [];
    return parts.every((part, i) => String(part) === documentType[i]);
  };
  const include = param(filter, 'INCLUDE');
  const exclude = param(filter, 'EXCLUDE');
  const list = (v: unknown) => (Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : []);
  if (list(exclude).some(matches)) return false;
  return include === undefined || list(include).some(matches);
}

export function bizprocMethods(internals: PortalInternals, registry: RobotRegistry, appHost: () => string | null): Record<string, MethodHandler> {
  return {
    'bizproc.robot.add': (params, ctx) => {
      requireAdmin(internals, ctx.userId);
      if (Object.keys(params).length === 0) throw validation('Empty data!');
      const code = codeOf(params);
      const fields = robotFields(params, appHost(), false);
      if (registry.robots.has(code)) throw new RestError(400, 'ERROR_ACTIVITY_ALREADY_INSTALLED', 'Activity or Robot already installed!');
      registry.robots.set(code, {
        code,
        handler: fields.handler!,
        authUserId: fields.authUserId ?? null,
        useSubscription: fields.useSubscription ?? '',
        name: fields.name,
        description: fields.description ?? null,
        properties: fields.properties ?? {},
        returnProperties: fields.returnProperties ?? {},
        documentType: fields.documentType ?? null,
        filter: fields.filter ?? null,
        usePlacement: fields.usePlacement ?? 'N',
        placementHandler: fields.placementHandler ?? null,
      });
      return { result: true };
    },

    'bizproc.robot.update': (params, ctx) => {
      requireAdmin(internals, ctx.userId);
      const code = codeOf(params);
      const existing = registry.robots.get(code);
      if (!existing) throw new RestError(400, 'ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!');
      const given = objectParam(param(params, 'FIELDS'));
      if (Object.keys(given).length === 0) throw validation('No fields to update');
      registry.robots.set(code, { ...existing, ...robotFields(given, appHost(), true) });
      return { result: true };
    },

    'bizproc.robot.list': (_params, ctx) => {
      requireAdmin(internals, ctx.userId);
      return { result: [...registry.robots.keys()] };
    },

    'bizproc.robot.delete': (params, ctx) => {
      requireAdmin(internals, ctx.userId);
      const code = codeOf(params);
      if (!registry.robots.delete(code)) throw new RestError(400, 'ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!');
      return { result: true };
    },

    'bizproc.event.send': (params, ctx) => {
      const token = String(param(params, 'EVENT_TOKEN') ?? '');
      const run = registry.runs.get(token);
      // A token that is unknown, already answered or whose robot does not wait for an answer is refused.
      const robot = run ? registry.robots.get(run.code) : undefined;
      if (!run || run.answered || !robot || robot.useSubscription === 'N') throw new RestError(403, 'ACCESS_DENIED', 'Access denied!');
      const values = objectParam(param(params, 'RETURN_VALUES'));
      run.answered = true;
      registry.answers.push({ eventToken: token, code: run.code, documentId: run.documentId, returnValues: values, logMessage: String(param(params, 'LOG_MESSAGE') ?? ''), byUserId: ctx.userId });
      return { result: true };
    },
  };
}
