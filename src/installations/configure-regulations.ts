import type { Services } from '../services';
import { readPreset } from '../regulation';
import { bindSpec, describeBindingErrors, regulationSpecSchema, type RegulationSpec, type SpecBinding } from '../regulations';

export type ConfigureResult = { ok: true; bindings: SpecBinding[] } | { ok: false; bindings: SpecBinding[]; report: string };

/**
 * Sets an installation's regulations: each is bound against the portal's live funnels and fields
 * first, and nothing is saved unless every one binds (a stage it cannot map is reported, never guessed).
 */
export async function configureRegulations(services: Services, installationId: string, specsInput: unknown[]): Promise<ConfigureResult> {
  const specs: RegulationSpec[] = specsInput.map((s) => regulationSpecSchema.parse(s));
  const installation = await services.store.find(installationId);
  if (!installation) throw new Error(`No installation ${installationId}`);
  services.clients.invalidate(installationId);
  const crm = await services.clients.forInstallation(installation);
  const funnels = await crm.listFunnels();
  const bindings: SpecBinding[] = [];
  for (const spec of specs) {
    const entity = funnelEntityOf(spec);
    bindings.push(bindSpec(spec, funnels, await crm.listFields(entity)));
  }
  const failed = bindings.filter((b) => !b.ok);
  if (failed.length) return { ok: false, bindings, report: failed.map(describeBindingErrors).join('\n') };
  const tokens = await services.store.tokens(installationId);
  if (!tokens) throw new Error(`Installation ${installationId} has no tokens`);
  const stageGuard = { ...((installation.settings.stageGuard as object | undefined) ?? {}), regulations: specs };
  await services.store.save({ ...installation, settings: { ...installation.settings, stageGuard } }, tokens);
  return { ok: true, bindings };
}

/** A preset says which entity it governs (Bitrix24 lead statuses or deal funnels); an unreadable one binds as deal and reports why. */
function funnelEntityOf(spec: RegulationSpec): 'deal' | 'lead' {
  const preset = readPreset(spec.preset);
  return preset.ok ? preset.preset.entity : 'deal';
}
