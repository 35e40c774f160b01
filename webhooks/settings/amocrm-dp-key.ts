import express, { Router, type Request, type Response } from 'express';
import { encryptionKeyBytes } from '../../src/config';
import { dpKeyFor } from '../../src/installations/amocrm-dp-key';
import { configuredWidgetVerifier } from '../../src/settings-access/amocrm-widget';
import type { Services } from '../../src/services';
import { allowOrigin, isAmocrmOrigin } from './amocrm-cors';
import type { SettingsEntryOptions } from './entry-router';
import { admitWidgetUser } from './widget-token-use';

export const AMOCRM_DP_KEY_PATH = '/amocrm/widget/dp-key';

/**
 * The widget's Digital Pipeline settings ask for the account's DP key (src/installations/amocrm-dp-key.ts)
 * with amoCRM's disposable widget token, and store it in the action's hidden `reglament_key` field.
 * Only an account administrator gets it (the same check as the settings session: the token, then
 * the user's rights as amoCRM reports them); only administrators edit the Digital Pipeline anyway.
 */
export function amocrmDpKeyRouter(services: Services, options: SettingsEntryOptions): Router {
  const router = Router();
  const verifier = options.amocrmWidgetVerifier === undefined ? configuredWidgetVerifier(services.config) : (options.amocrmWidgetVerifier ?? undefined);
  const appSecret = encryptionKeyBytes(services.config);
  router.options(AMOCRM_DP_KEY_PATH, (req: Request, res: Response) => {
    const origin = req.get('origin');
    if (!isAmocrmOrigin(origin, services.config.AMOCRM_INSECURE_HOSTS)) return void res.status(403).end();
    allowOrigin(res, origin!);
    res.status(204).end();
  });
  router.post(AMOCRM_DP_KEY_PATH, express.json({ limit: '16kb' }), async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    const admitted = await admitWidgetUser(req, res, services, verifier);
    if (!admitted) return;
    if (admitted.role !== 'admin') return void res.status(403).json({ error: 'not_allowed' });
    services.log.info({ installation: admitted.installation.id, user: admitted.userId }, 'amoCRM Digital Pipeline key handed to an account administrator');
    res.json({ key: dpKeyFor(appSecret, admitted.installation.id) });
  });
  return router;
}
