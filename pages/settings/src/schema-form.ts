/** Turning the settings' JSON Schema (generated from the robots' zod schemas) into form fields. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  default?: unknown;
  additionalProperties?: unknown;
  minimum?: number;
  maximum?: number;
  description?: string;
  /** Set by the server's schemas on CRM user ids: the page offers the CRM's users by name. */
  'x-picker'?: string;
}

export type FieldKind = 'boolean' | 'enum' | 'string' | 'number' | 'enumList' | 'list' | 'group' | 'json';

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
  return 'json';
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
