import { z } from 'zod';
import robotDefaults from '../../config/robots.default.json';
import { crmUserIdSchema } from '../team/crm-user-id';
import type { Robot } from '../app';
import { DEFAULT_SCHEDULE, scheduleSchema } from './schedule';

/**
 * One path for every per-installation setting: the settings command, the (later) settings page
 * and the robots all read and validate through this module.
 *
 * Layout of `installation.settings` (only what the installation overrides is stored):
 *   { locale, schedule, rateLimit, <robotName>: { …that robot's settings… } }
 * Defaults come from `config/robots.default.json`; objects merge deeply, arrays are replaced.
 */
export const globalSettingsSchema = z.object({
  /** The language of what managers read in the CRM. */
  locale: z.enum(['ru', 'en']).default('ru'),
  /** Working hours of the sales office (timers count working time in it). */
  schedule: scheduleSchema.prefault(DEFAULT_SCHEDULE),
  /**
   * Heads of sales (CRM user ids) who receive alerts, reassignments and the rating. Empty: the
   * regulation's `headOfSalesUserIds`, else the CRM's administrators (`src/team/heads-of-sales.ts`).
   */
  headsOfSales: z.array(crmUserIdSchema).default([]),
  /** The Bitrix24 plan's REST limit, if not the default 50 / 2 (Enterprise: 250 / 5). */
  rateLimit: z.object({ burst: z.number().int().positive(), perSecond: z.number().positive() }).partial().optional(),
});
export type GlobalSettings = z.infer<typeof globalSettingsSchema>;
export const GLOBAL_KEYS = Object.keys(globalSettingsSchema.shape) as Array<keyof GlobalSettings>;

type Json = Record<string, unknown>;
const defaults = robotDefaults as { locale?: string; schedule?: string; robots: Json };

export const isPlainObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; anything else (arrays included) in `over` replaces `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/** The shipped defaults in the stored layout: `{ locale, schedule, dealRenamer: {…}, … }`. */
export function defaultSettings(): Json {
  const { robots, $comment: _comment, ...global } = defaults as Json & { robots: Json };
  return { ...global, ...robots };
}

/** Defaults with the installation's overrides on top, not yet parsed (durations still "15m"). */
export function effectiveSettings(overrides: Json): Json {
  return deepMerge(defaultSettings(), overrides) as Json;
}

/** The installation's global settings, parsed. Invalid stored values fall back to defaults (and are reported by `validateSettings`). */
export function globalSettingsOf(overrides: Json): GlobalSettings {
  const merged = effectiveSettings(overrides);
  const parsed = globalSettingsSchema.safeParse(pick(merged, GLOBAL_KEYS));
  return parsed.success ? parsed.data : globalSettingsSchema.parse(pick(defaultSettings(), GLOBAL_KEYS));
}

/** A robot's settings for an installation, parsed by the robot's own schema. */
export function robotSettingsOf<S>(robot: Pick<Robot<any>, 'name' | 'settings'>, overrides: Json): z.ZodSafeParseResult<S> {
  return robot.settings.safeParse(effectiveSettings(overrides)[robot.name] ?? {}) as z.ZodSafeParseResult<S>;
}

export interface SettingIssue {
  path: string;
  message: string;
}

/** The whole settings schema of an installation: the global keys plus one block per robot. */
export function settingsSchemaFor(robots: ReadonlyArray<Pick<Robot<any>, 'name' | 'settings'>>) {
  return globalSettingsSchema.extend(Object.fromEntries(robots.map((r) => [r.name, r.settings])));
}

/**
 * How messages are worded: zod's built-in messages follow `error` (e.g. `z.locales.ru().localeError`,
 * the settings page answers in the user's language); messages our schemas wrote themselves do not.
 */
export interface SettingMessages {
  error?: z.core.$ZodErrorMap;
}

/** Every problem of the effective settings, each with its dotted path. */
export function validateSettings(overrides: Json, robots: ReadonlyArray<Pick<Robot<any>, 'name' | 'settings'>>, messages: SettingMessages = {}): SettingIssue[] {
  const parsed = settingsSchemaFor(robots).safeParse(effectiveSettings(overrides), messages.error ? { error: messages.error } : undefined);
  return parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

export type SettingChange = { ok: true; settings: Json } | { ok: false; issues: SettingIssue[] };

/**
 * Sets one value at a dotted path ("dealRenamer.template", "stageGuard.regulations.0.preset")
 * and validates the result with the same schemas the robots use. Nothing changes on error.
 * `value === undefined` removes the override (back to the default).
 */
export function changeSetting(overrides: Json, path: string, value: unknown, robots: ReadonlyArray<Pick<Robot<any>, 'name' | 'settings'>>, messages: SettingMessages = {}): SettingChange {
  return changeSettings(overrides, [{ path, value }], robots, messages);
}

/**
 * Sets several values at once and validates the result once: a save lands whole or not at all,
 * and values that only make sense together (a new inventory connection typed field by field) are
 * judged together, never half-way.
 */
export function changeSettings(overrides: Json, changes: ReadonlyArray<{ path: string; value: unknown }>, robots: ReadonlyArray<Pick<Robot<any>, 'name' | 'settings'>>, messages: SettingMessages = {}): SettingChange {
  const schema = settingsSchemaFor(robots);
  const refused: SettingIssue[] = [];
  let next = structuredClone(overrides);
  for (const { path, value } of changes) {
    const segments = splitPath(path);
    if (!segments.ok) {
      refused.push({ path, message: segments.error });
      continue;
    }
    const unknown = unknownSegment(schema, segments.parts);
    if (unknown) {
      refused.push({ path, message: unknown });
      continue;
    }
    next = setAt(next, segments.parts, value, (depth) => isListAt(schema, segments.parts.slice(0, depth)));
  }
  // Only the problems these changes cause refuse them; an older invalid value elsewhere is reported by `get`.
  const before = new Set(validateSettings(overrides, robots, messages).map((i) => `${i.path}|${i.message}`));
  const caused = validateSettings(next, robots, messages).filter((i) => !before.has(`${i.path}|${i.message}`));
  const issues = [...caused, ...refused];
  return issues.length ? { ok: false, issues } : { ok: true, settings: next };
}

/** The effective value at a dotted path (defaults included), or the whole settings without a path. */
export function readSetting(overrides: Json, path: string | undefined): { ok: true; value: unknown } | { ok: false; error: string } {
  const merged = effectiveSettings(overrides);
  if (!path) return { ok: true, value: merged };
  const segments = splitPath(path);
  if (!segments.ok) return { ok: false, error: segments.error };
  let node: unknown = merged;
  for (const part of segments.parts) {
    if (Array.isArray(node) && /^\d+$/.test(part)) node = node[Number(part)];
    else if (isPlainObject(node) && part in node) node = node[part];
    else return { ok: false, error: `no setting at "${path}"` };
  }
  return { ok: true, value: node };
}

/** Settings that hold secrets (inventory API keys, callback secrets): printed masked, never in full. */
export const SECRET_SETTING_KEYS: ReadonlySet<string> = new Set(['apiKey', 'callbackSecret']);

/** A copy with every secret replaced by «••••» and its last 4 characters. */
export function maskSecrets(value: unknown, key?: string): unknown {
  if (key && SECRET_SETTING_KEYS.has(key) && typeof value === 'string') return `••••${value.length > 8 ? value.slice(-4) : ''}`;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]));
  return value;
}

function splitPath(path: string): { ok: true; parts: string[] } | { ok: false; error: string } {
  const parts = path.split('.');
  if (!path || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, error: `"${path}" is not a settings path: names separated by dots, e.g. dealRenamer.template` };
  if (parts.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) return { ok: false, error: `"${path}" is not a settings path` };
  return { ok: true, parts };
}

/** Whether the schema has a list at this path (a numeric segment then indexes it; under a record it is a key, e.g. a user id). */
function isListAt(schema: z.ZodType, parts: string[]): boolean {
  let node: z.ZodType | null = schema;
  for (const part of parts) {
    node = node ? unwrap(node) : null;
    const def: { type: string; valueType?: z.ZodType } | undefined = (node as unknown as { def?: { type: string; valueType?: z.ZodType } } | null)?.def;
    if (!node || !def) return false;
    if (def.type === 'object') node = ((node as z.ZodObject).shape as Record<string, z.ZodType>)[part] ?? null;
    else if (def.type === 'array') node = (node as z.ZodArray<z.ZodType>).element;
    else if (def.type === 'record') node = def.valueType ?? null;
    else return false;
  }
  const last = node ? unwrap(node) : null;
  return (last as unknown as { def?: { type: string } } | null)?.def?.type === 'array';
}

function setAt(root: Json, parts: string[], value: unknown, isList: (depth: number) => boolean = () => false): Json {
  let node: Json | unknown[] = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const key = Array.isArray(node) ? Number(part) : part;
    let child = (node as Record<string | number, unknown>)[key];
    if (!isPlainObject(child) && !Array.isArray(child)) {
      child = /^\d+$/.test(parts[i + 1]!) && isList(i + 1) ? [] : {};
      (node as Record<string | number, unknown>)[key] = child;
    }
    node = child as Json | unknown[];
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined && !Array.isArray(node)) delete (node as Json)[last];
  else (node as Record<string | number, unknown>)[Array.isArray(node) ? Number(last) : last] = value;
  return root;
}

/** Walks the zod schema along the path: a misspelt key is refused with the keys that exist. */
function unknownSegment(schema: z.ZodType, parts: string[]): string | null {
  let node: z.ZodType | null = schema;
  const walked: string[] = [];
  for (const part of parts) {
    node = node ? unwrap(node) : null;
    if (!node) return null; // free-form below here (records of unknown shape): the schema validates the value
    const def = (node as unknown as { def: { type: string } }).def;
    if (def.type === 'object') {
      const shape = (node as z.ZodObject).shape as Record<string, z.ZodType>;
      if (!(part in shape)) {
        const where = walked.length ? `"${walked.join('.')}"` : 'the top level';
        return `unknown setting "${[...walked, part].join('.')}"; ${where} has: ${Object.keys(shape).join(', ')}`;
      }
      node = shape[part]!;
    } else if (def.type === 'array') {
      if (!/^\d+$/.test(part)) return `"${[...walked, part].join('.')}": "${walked.join('.')}" is a list, address its items by number`;
      node = (node as z.ZodArray<z.ZodType>).element;
    } else if (def.type === 'record') {
      node = (node as unknown as { def: { valueType: z.ZodType } }).def.valueType;
    } else {
      return null;
    }
    walked.push(part);
  }
  return null;
}

function unwrap(schema: z.ZodType): z.ZodType | null {
  let node: z.ZodType = schema;
  for (let i = 0; i < 10; i++) {
    const def = (node as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if ((def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault' || def.type === 'readonly') && def.innerType) node = def.innerType;
    else if (def.type === 'pipe' && def.in) node = def.in;
    else return node;
  }
  return node;
}

function pick(obj: Json, keys: readonly string[]): Json {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}
