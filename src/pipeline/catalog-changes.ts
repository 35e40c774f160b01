import type { CatalogChange } from '../events';
import type { Services } from '../services';

/**
 * A CRM said its users or fields changed: every process forgets that installation's cached
 * catalog (users, fields, funnels), this one at once and the others through the invalidation bus,
 * so the next job reads them again. Nothing is read from the CRM here.
 */
export async function applyCatalogChange(change: CatalogChange, services: Services): Promise<'done' | 'unknown-installation'> {
  const installation = await services.store.find(change.installationId);
  if (!installation) return 'unknown-installation';
  await services.clients.catalogChanged(installation.id);
  services.log.debug({ installation: installation.id, changed: change.entityId }, 'CRM catalog changed: cached users/fields/funnels forgotten');
  return 'done';
}
