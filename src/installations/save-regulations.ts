/**
 * The one way the settings page writes an installation's regulations — the editor's «save» (PUT
 * /api/regulation/:id) and the dry run's «switch on» (POST …/enable) both end here: every spec is
 * bound against the CRM's live funnels and fields by `configureRegulations`, nothing is saved unless
 * all bind, and the installation's cached CRM client is dropped so the next move sees the new rules.
 * The settings history records the change as the session's user's, made in the regulation editor.
 */
import { formatRegulationError, type RegulationError } from '../regulation';
import type { RegulationSpec, SpecBinding } from '../regulation/installation-bindings';
import type { Services } from '../services';
import type { SettingsActor } from '../settings/settings-history';
import { configureRegulations } from './configure-regulations';

/** A binding error at its path inside the spec the page sent (`overrides.transitions.allow[0].to`). */
export interface RegulationIssue { regulation?: number; path: string; code: string; message: string; text: string }

export type SaveRegulationsOutcome =
  | { ok: true; regulations: RegulationSpec[]; bindings: SpecBinding[] }
  | { ok: false; issues: RegulationIssue[]; report: string };

export async function saveRegulations(services: Services, installationId: string, specs: RegulationSpec[], by: SettingsActor): Promise<SaveRegulationsOutcome> {
  const configured = await configureRegulations(services, installationId, specs, { by, via: 'regulation_editor' });
  if (!configured.ok) {
    const issues = configured.bindings.flatMap((b, index) => (b.ok ? [] : b.errors.map((e) => regulationIssue(e, index))));
    return { ok: false, issues, report: configured.report };
  }
  services.clients.invalidate(installationId);
  return { ok: true, regulations: specs, bindings: configured.bindings };
}

/** `overrides › transitions.allow[0].to` → `overrides.transitions.allow[0].to`; a preset's own error keeps its file. */
export function regulationIssue(error: RegulationError, regulation?: number): RegulationIssue {
  const path = error.file === 'overrides' ? `overrides${error.path ? `.${error.path}` : ''}` : error.path ? `${error.file} › ${error.path}` : error.file;
  return { ...(regulation === undefined ? {} : { regulation }), path, code: error.code, message: error.message, text: formatRegulationError(error) };
}
