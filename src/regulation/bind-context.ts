/**
 * What every binding step shares: the validated preset and overrides, how errors name them,
 * and the errors and warnings found so far (binding reports everything at once, never the first only).
 */
import type { FunnelStage } from '../crm/crm-port';
import type { RegulationError } from './errors';
import type { Overrides, Preset } from './schema';

export interface BindContext {
  readonly preset: Preset;
  readonly overrides: Overrides;
  readonly presetFile: string;
  readonly overridesFile: string;
  readonly errors: RegulationError[];
  readonly warnings: string[];
}

const MAX_LISTED = 40;

export function stageDef(ctx: BindContext, key: string): Preset['stages'][string] {
  const def = ctx.preset.stages[key];
  if (!def) throw new Error(`unknown stage key ${key}`);
  return def;
}

export function listStages(stages: readonly FunnelStage[]): string {
  return capList(stages.map((s) => `«${s.name}» (${s.id})`));
}

export function capList(items: readonly string[]): string {
  if (items.length === 0) return 'none';
  if (items.length <= MAX_LISTED) return items.join(', ');
  return `${items.slice(0, MAX_LISTED).join(', ')} … and ${items.length - MAX_LISTED} more`;
}

export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
