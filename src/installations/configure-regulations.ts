import type { Services } from '../services';
import { OPERATOR_AT_CLI, type SettingsAuthor } from '../settings/settings-history';
import { writeSettings } from '../settings/write-settings';
import { bindSpec, describeBindingErrors, presetEntity, regulationSpecSchema, type RegulationSpec, type SpecBinding } from '../regulation/installation-bindings';

export type ConfigureResult = { ok: true; bindings: SpecBinding[] } | { ok: false; bindings: SpecBinding[]; report: string };

/** Binds regulations against the installation's live funnels and fields; saves nothing. */
export async function bindForInstallation(services: Services, installationId: string, specs: RegulationSpec[]): Promise<SpecBinding[]> {
  const installation = await services.store.find(installationId);
  if (!installation) throw new Error(`No installation ${installationId}`);
  services.clients.invalidate(installationId);
  const crm = await services.clients.forInstallation(installation);
  const funnels = await crm.listFunnels();
  const bindings: SpecBinding[] = [];
  for (const spec of specs) bindings.push(bindSpec(spec, funnels, await crm.listFields(presetEntity(spec.preset))));
  return bindings;
}

/**
 * Sets an installation's regulations: each is bound against the portal's live funnels and fields
 * first, and nothing is saved unless every one binds (a stage it cannot map is reported, never guessed).
 * The change is recorded in the settings history as made by `author`: the settings page passes its
 * session's user (`saveRegulations`); the operator's tools (`npm run regulation`, the demo) are the default.
 */
export async function configureRegulations(services: Services, installationId: string, specsInput: unknown[], author: SettingsAuthor = OPERATOR_AT_CLI): Promise<ConfigureResult> {
  const specs: RegulationSpec[] = specsInput.map((s) => regulationSpecSchema.parse(s));
  const bindings = await bindForInstallation(services, installationId, specs);
  const failed = bindings.filter((b) => !b.ok);
  if (failed.length) return { ok: false, bindings, report: failed.map(describeBindingErrors).join('\n') };
  const { installation: saved } = await writeSettings(services, installationId, author, (current) => ({
    ...current.settings,
    stageGuard: { ...((current.settings.stageGuard as object | undefined) ?? {}), regulations: specs },
  }));
  if (!saved) throw new Error(`Installation ${installationId} is gone`);
  return { ok: true, bindings };
}
