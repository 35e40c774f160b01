/**
 * amoCRM sends no webhook when an admin changes pipelines, fields or users, so the cached catalog
 * learns it from what it meets: a lead naming what the cache lacks, or a write refused for it.
 */
import type { AmoCaches, AmoLead } from './adapter';
import { AmoValidationError } from './rest-client';

/** The lead names a pipeline/status, custom field or responsible user the cached catalog does not have. */
export function catalogLacks(lead: AmoLead, caches: AmoCaches, installationId: string): boolean {
  const funnels = caches.funnels.peek(installationId);
  if (funnels && !funnels.some((f) => f.id === String(lead.pipeline_id) && f.stages.some((s) => s.id === String(lead.status_id)))) return true;
  const fields = caches.fields.peek(installationId);
  if (fields && (lead.custom_fields_values ?? []).some((cf) => !fields.some((f) => f.code === String(cf.field_id)))) return true;
  const users = caches.users.peek(installationId);
  return Boolean(users && lead.responsible_user_id && !users.some((u) => u.id === String(lead.responsible_user_id)));
}

/** Fields of a lead whose refused value names the catalog (a status, pipeline, custom field or user). */
const CATALOG_PATHS = '(status_id|pipeline_id|responsible_user_id|custom_fields_values)';

/** amoCRM's 400 validation answer: NotSupportedChoice on a status, pipeline, custom field or user. */
export function refusesUnknownCatalogEntry(err: unknown): boolean {
  if (err instanceof AmoValidationError) {
    const catalogPath = new RegExp(`^${CATALOG_PATHS}`);
    return err.groups.some((g) => g.errors.some((e) => e.code === 'NotSupportedChoice' && catalogPath.test(e.path)));
  }
  // A refusal that reached us as text only (a single-lead PATCH outside the merger).
  return err instanceof Error && /NotSupportedChoice/.test(err.message) && new RegExp(`"path":"${CATALOG_PATHS}`).test(err.message);
}
