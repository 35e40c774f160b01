import express, { Router } from 'express';
import { z } from 'zod';
import { testInventoryConnection } from '../../src/inventory/test-connection';
import { inventoryConnectionSchema } from '../../src/inventory/connection-settings';
import { inventoryTargetRefusal } from '../../src/inventory/inventory-target';
import { dealRenamer, titleFor, type DealRenamerSettings } from '../../src/robots/deal-renamer';
import { effectiveSettings, isPlainObject, maskSecrets, robotSettingsOf } from '../../src/settings/installation-settings';
import type { Services } from '../../src/services';
import { sessionGuard } from './guard';
import type { SettingsSessions } from './sessions';

const dealTitleBody = z.strictObject({
  /** A CRM deal id: digits only, checked before any call. */
  dealId: z.string().regex(/^\d{1,18}$/, 'a deal id is a number'),
  entity: z.enum(['deal', 'lead']).default('deal'),
  /** The template being edited; absent: the saved one. */
  template: z.string().optional(),
});
const connectionBody = z.strictObject({ inventory: z.unknown(), unit: z.string().trim().min(1).max(100).optional() });

/**
 * Previews for the settings page, computed before anything is saved: the title the renamer would give
 * a real deal with the template being edited, and the inventory connection being edited, tested.
 * Both reuse the robots' own code and schemas; both are guarded by the signed session.
 */
export function previewApiRouter(services: Services, sessions: SettingsSessions): Router {
  const router = Router();
  const json = express.json({ limit: '64kb' });
  const guarded = sessionGuard(services, sessions);

  // Deals the robots acted on lately, to pick one for the preview.
  router.get('/api/preview/:installationId/recent-deals', guarded(async ({ installation }, _req, res) => {
    const seen = new Map<string, { id: string; entity: string; title: string | null; at: string }>();
    for (const action of await services.actions.latest(installation.id, 200)) {
      const key = `${action.target.entity}:${action.target.id}`;
      if (!seen.has(key)) seen.set(key, { id: action.target.id, entity: action.target.entity, title: action.after ?? null, at: action.at });
      if (seen.size >= 10) break;
    }
    res.json({ deals: [...seen.values()] });
  }));

  router.post('/api/preview/:installationId/deal-title', json, guarded(async ({ installation }, req, res) => {
    const body = dealTitleBody.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'malformed_preview', issues: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    // The template is checked by the renamer's own schema, on top of the saved settings.
    const stored = isPlainObject(installation.settings.dealRenamer) ? installation.settings.dealRenamer : {};
    const edited = body.data.template === undefined ? installation.settings : { ...installation.settings, dealRenamer: { ...stored, template: body.data.template } };
    const settings = robotSettingsOf<DealRenamerSettings>(dealRenamer, edited as never);
    if (!settings.success) return void res.status(422).json({ error: 'invalid_settings', issues: settings.error.issues.map((i) => ({ path: ['dealRenamer', ...i.path].join('.'), message: i.message })) });
    const crm = await services.clients.forInstallation(installation);
    const found = await crm.getDealWithContacts({ entity: body.data.entity, id: body.data.dealId });
    if (!found) return void res.status(404).json({ error: 'deal_not_found', issues: [{ path: 'dealId', message: `no ${body.data.entity} ${body.data.dealId} in the CRM` }] });
    const title = titleFor(settings.data, crm.crm, found.deal, found.contacts, await crm.listFields(found.deal.entity));
    res.json({ dealId: found.deal.id, currentTitle: found.deal.title, title, changes: Boolean(title) && title !== found.deal.title });
  }));

  router.post('/api/inventory/:installationId/test-connection', json, guarded(async ({ installation }, req, res) => {
    const body = connectionBody.safeParse(req.body);
    if (!body.success) return void res.status(400).json({ error: 'malformed_test', issues: body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
    const parsed = inventoryConnectionSchema.safeParse(withStoredSecrets(body.data.inventory, storedInventory(installation.settings)));
    if (!parsed.success) return void res.status(422).json({ error: 'invalid_settings', issues: parsed.error.issues.map((i) => ({ path: ['unitStatusSync', 'inventory', ...i.path].join('.'), message: i.message })) });
    const refusal = await inventoryTargetRefusal(parsed.data.baseUrl, { production: services.config.NODE_ENV === 'production', lookup: services.lookup, privateHosts: services.config.INVENTORY_PRIVATE_HOSTS });
    if (refusal) return void res.json({ ok: false, lines: [`✗ ${refusal}`] });
    const unitStatusSync = isPlainObject(installation.settings.unitStatusSync) ? installation.settings.unitStatusSync : {};
    const candidate = { ...installation, settings: { ...installation.settings, unitStatusSync: { ...unitStatusSync, inventory: parsed.data } } };
    res.json(await testInventoryConnection(services.inventories, candidate, body.data.unit));
  }));

  return router;
}

function storedInventory(settings: Record<string, unknown>): unknown {
  const block = effectiveSettings(settings as never).unitStatusSync;
  return isPlainObject(block) ? block.inventory : undefined;
}

/** The page only ever had the secrets masked («••••7890»): a mask sent back means the stored secret. */
function withStoredSecrets(edited: unknown, stored: unknown): unknown {
  if (!isPlainObject(edited) || !isPlainObject(stored)) return edited;
  const out: Record<string, unknown> = { ...edited };
  for (const key of ['apiKey', 'callbackSecret']) {
    const value = edited[key];
    if (typeof value === 'string' && typeof stored[key] === 'string' && maskSecrets(stored[key], key) === value) out[key] = stored[key];
  }
  return out;
}
