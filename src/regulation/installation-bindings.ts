import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CrmField, CrmFunnel, CrmPort, Deal } from '../crm/crm-port';
import { bindRegulation, formatRegulationError, readPreset, type BindResult, type BoundRegulation, type RegulationError } from './index';

/** How an installation names its regulations: a shipped preset plus the portal's overrides. */
export const regulationSpecSchema = z.object({
  preset: z.string().min(1),
  overrides: z.record(z.string(), z.unknown()).default({}),
});
export type RegulationSpec = z.infer<typeof regulationSpecSchema>;

export type SpecBinding = { spec: RegulationSpec; ok: true; regulation: BoundRegulation; warnings: string[] } | { spec: RegulationSpec; ok: false; errors: RegulationError[] };

/** Binding is pure but not free: remember results per (funnels, fields, spec) as long as the CRM lists are cached. */
const memo = new WeakMap<readonly CrmFunnel[], WeakMap<readonly CrmField[], Map<string, SpecBinding>>>();

/**
 * Binds each of an installation's regulations to the portal's real funnels and fields.
 * A regulation that does not bind is returned with its errors and never enforced.
 */
export async function bindRegulations(crm: CrmPort, allSpecs: RegulationSpec[], entity: Deal['entity']): Promise<SpecBinding[]> {
  // A lead regulation is bound against lead statuses and fields only, a deal regulation against deals.
  const specs = allSpecs.filter((spec) => entityOfPreset(spec.preset) === entity);
  if (!specs.length) return [];
  const funnels = await crm.listFunnels();
  const fields = await crm.listFields(entity);
  let byFields = memo.get(funnels);
  if (!byFields) memo.set(funnels, (byFields = new WeakMap()));
  let bySpec = byFields.get(fields);
  if (!bySpec) byFields.set(fields, (bySpec = new Map()));
  return specs.map((spec) => {
    const key = createHash('sha1').update(JSON.stringify(spec)).digest('hex');
    let binding = bySpec!.get(key);
    if (!binding) {
      binding = bindSpec(spec, funnels, fields);
      bySpec!.set(key, binding);
    }
    return binding;
  });
}

export function bindSpec(spec: RegulationSpec, funnels: readonly CrmFunnel[], fields: readonly CrmField[]): SpecBinding {
  const preset = readPreset(spec.preset);
  if (!preset.ok) return { spec, ok: false, errors: preset.errors };
  const result: BindResult = bindRegulation(preset.preset, funnels, fields, spec.overrides);
  return result.ok ? { spec, ok: true, regulation: result.regulation, warnings: result.warnings } : { spec, ok: false, errors: result.errors };
}

/** The entity a preset governs (Bitrix24 lead statuses or deal funnels); an unreadable preset binds as deal and reports why. */
export function presetEntity(name: string): Deal['entity'] {
  const preset = readPreset(name);
  return preset.ok ? preset.preset.entity : 'deal';
}

const presetEntities = new Map<string, Deal['entity']>();
function entityOfPreset(name: string): Deal['entity'] {
  let entity = presetEntities.get(name);
  if (!entity) presetEntities.set(name, (entity = presetEntity(name)));
  return entity;
}

/** The bound regulation governing this deal's funnel, if any. */
export function regulationOf(bindings: SpecBinding[], deal: Deal): BoundRegulation | null {
  for (const b of bindings) {
    if (b.ok && b.regulation.entity === deal.entity && b.regulation.funnel.id === deal.funnelId) return b.regulation;
  }
  return null;
}

export function describeBindingErrors(binding: SpecBinding): string {
  return binding.ok ? '' : binding.errors.map(formatRegulationError).join('\n');
}
