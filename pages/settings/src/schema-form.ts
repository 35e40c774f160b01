/** Turning the settings' JSON Schema (generated from the robots' zod schemas) into form fields. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  additionalProperties?: unknown;
  /** A record's key schema (zod's `z.record(key, value)`). */
  propertyNames?: JsonSchema;
  const?: unknown;
  minimum?: number;
  maximum?: number;
  description?: string;
  /** Set by the server's schemas on CRM user ids: the page offers the CRM's users by name. */
  'x-picker'?: string;
}

export type FieldKind = 'boolean' | 'enum' | 'string' | 'number' | 'enumList' | 'list' | 'group' | 'table' | 'record' | 'variants' | 'choice' | 'json';
/** What one cell of a table or record row edits: a primitive, or a CRM user picked by name. */
export type CellKind = 'user' | 'boolean' | 'enum' | 'string' | 'number';

const isPrimitive = (s: JsonSchema | undefined): boolean =>
  !!s && (s.type === 'string' || s.type === 'number' || s.type === 'integer' || (!!s.anyOf && s.anyOf.every((a) => isPrimitive(a))));

/** Which editor a schema node gets; anything without a simple shape is edited as JSON, still validated by the server. */
export function kindOf(schema: JsonSchema): FieldKind {
  if (schema.type === 'boolean') return 'boolean';
  if (schema.type === 'string' && schema.enum) return 'enum';
  if (schema.type === 'string') return 'string';
  if (schema.type === 'number' || schema.type === 'integer') return 'number';
  if (schema.type === 'array' && schema.items?.enum) return 'enumList';
  if (schema.type === 'array' && isPrimitive(schema.items)) return 'list';
  if (schema.type === 'object' && schema.properties && !schema.additionalProperties) return 'group';
  if (schema.type === 'array' && rowColumns(schema.items)) return 'table';
  if (schema.type === 'object' && !Object.keys(schema.properties ?? {}).length && recordValue(schema)) return 'record';
  if (variantsOf(schema)) return 'variants';
  if (choicesOf(schema)) return 'choice';
  return 'json';
}

/**
 * A union of objects told apart by one property holding a constant (the inventory connection:
 * `system` is "profitbase" or "http"): that property, and each variant's other properties.
 */
export function variantsOf(schema: JsonSchema): { key: string; variants: Array<{ value: string; schema: JsonSchema }> } | null {
  const members = schema.oneOf ?? schema.anyOf;
  if (!members || members.length < 2 || !members.every((m) => m.type === 'object' && m.properties)) return null;
  const key = Object.keys(members[0]!.properties!).find((k) => members.every((m) => typeof m.properties![k]?.const === 'string'));
  if (!key) return null;
  return {
    key,
    variants: members.map((m) => ({
      value: m.properties![key]!.const as string,
      schema: { ...m, properties: Object.fromEntries(Object.entries(m.properties!).filter(([k]) => k !== key)) },
    })),
  };
}

/** A choice among yes, no and named constants (`true | false | "auto"`): the values to offer; else null. */
export function choicesOf(schema: JsonSchema): unknown[] | null {
  const members = schema.anyOf ?? schema.oneOf;
  if (!members || !members.length || !members.every((m) => m.type === 'boolean' || m.const !== undefined)) return null;
  return members.flatMap((m) => (m.type === 'boolean' ? [true, false] : [m.const]));
}

/** The widget of a table cell, or null when the value has no one-cell shape (then the whole setting stays JSON). */
export function cellKindOf(schema: JsonSchema | undefined): CellKind | null {
  if (!schema) return null;
  if (schema['x-picker'] === 'crm-user') return 'user';
  if (schema.type === 'boolean') return 'boolean';
  if (schema.type === 'string' && schema.enum) return 'enum';
  if (schema.type === 'string') return 'string';
  if (schema.type === 'number' || schema.type === 'integer') return 'number';
  if (schema.anyOf && schema.anyOf.every((a) => a.type === 'string' && !a.enum && a.const === undefined)) return 'string';
  return null;
}

/** An object with fixed properties, each editable in one cell: its columns; otherwise null. */
export function rowColumns(schema: JsonSchema | undefined): Array<[string, JsonSchema]> | null {
  if (!schema || schema.type !== 'object' || !schema.properties || (schema.additionalProperties !== undefined && schema.additionalProperties !== false)) return null;
  const columns = Object.entries(schema.properties);
  return columns.length && columns.every(([, c]) => cellKindOf(c)) ? columns : null;
}

/** A record's value schema when a row can edit it (an object of cells, or one cell); otherwise null. */
export function recordValue(schema: JsonSchema): JsonSchema | null {
  const value = schema.additionalProperties;
  if (!value || typeof value !== 'object' || !Object.keys(value).length) return null;
  const v = value as JsonSchema;
  return rowColumns(v) || (v.type !== 'object' && cellKindOf(v)) ? v : null;
}

/** A new row: the properties' schema defaults (a vacation starts empty, a manager with weight 1). */
export function newItem(schema: JsonSchema): unknown {
  if (schema.type !== 'object') return schema.default ?? (schema.type === 'number' || schema.type === 'integer' ? Math.min(Math.max(1, schema.minimum ?? -Infinity), schema.maximum ?? Infinity) : '');
  return Object.fromEntries(Object.entries(schema.properties ?? {}).flatMap(([k, p]) => (p.default === undefined ? [] : [[k, cloneJson(p.default)]])));
}

export function getAt(root: unknown, path: string[]): unknown {
  let node = root;
  for (const part of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

/** Settings are JSON; a JSON copy also sheds Vue's reactive proxies (which structuredClone refuses). */
export const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value ?? null)) as T;

export function setAt<T>(root: T, path: string[], value: unknown): T {
  const copy = cloneJson(root) as Record<string, unknown>;
  let node = copy;
  for (const part of path.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== 'object') node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  return copy as T;
}

/** A list of ids or labels edited one per line; numbers stay numbers when the schema only allows numbers. */
export function listFromText(text: string, items: JsonSchema | undefined): unknown[] {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const numeric = items?.type === 'number' || items?.type === 'integer';
  return numeric ? lines.map((l) => (Number.isFinite(Number(l)) ? Number(l) : l)) : lines;
}

/** A CRM user as the settings page's pickers show it. */
export interface CrmUserChoice { id: string; name: string; isActive: boolean }

/** True for a setting (or a list of them) that holds CRM user ids. */
export const holdsUserIds = (schema: JsonSchema): boolean => schema['x-picker'] === 'crm-user' || schema.items?.['x-picker'] === 'crm-user';

export const listToText = (value: unknown): string => (Array.isArray(value) ? value.map(String).join('\n') : '');

/** Errors belong to the field at their path or below it (a JSON editor shows its inner paths). */
export function errorsFor(errors: Record<string, string>, path: string): string | undefined {
  const own = Object.entries(errors).filter(([p]) => p === path || p.startsWith(`${path}.`));
  if (!own.length) return undefined;
  return own.map(([p, m]) => (p === path ? m : `${p.slice(path.length + 1)}: ${m}`)).join('; ');
}
