import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { DP_ACTION_CODES, type AutomationCall, type DpActionCode } from '../../src/automation/automation-call';
import { encryptionKeyBytes } from '../../src/config';
import { matchesDpKey } from '../../src/installations/amocrm-dp-key';
import { amocrmInstallationId, type AmocrmInstallation } from '../../src/installations/installation';
import type { Services } from '../../src/services';
import type { EdgeOutcomes } from '../edge-outcomes';
import { describeIssues, formText, parseForm } from '../form-body';

export const AMOCRM_DP_PATH = '/amocrm/dp';

/** An amoCRM id: a JSON number or, form-encoded, a string of digits. */
const amoId = z
  .union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9]\d{0,15}$/, 'must be a positive integer')])
  .transform(String);
const unixTime = z.union([z.number().int().positive().max(99_999_999_999), z.string().regex(/^[1-9]\d{0,10}$/, 'must be a unix time')]).transform(String);

/** The DP events a stage action receives (developers.kommo.com/docs/widgets-dp): 14 a stage change, 15 a stage change inside a multi-stage action. */
const EVENT_TYPES = { lead_status_changed: '14', lead_appeared_in_status: '15' } as const;

/**
 * What amoCRM POSTs to the widget's `dp.webhook_url` when a lead enters the stage where an
 * administrator placed Reglament's action (research amocrm.md §5.2). JSON per the docs; the
 * content type is unconfirmed, so the same fields form-encoded (PHP-style nested keys) are taken too.
 * `action.settings.widget.settings` holds the dp.settings fields as the admin saved them.
 */
export const amocrmDpEventSchema = z.object({
  event: z
    .object({
      type: z.union([z.number().int(), z.string().regex(/^\d{1,3}$/)]).transform(String),
      type_code: z.enum(['lead_status_changed', 'lead_appeared_in_status']),
      data: z.object({
        id: amoId,
        element_type: z.union([z.literal(2), z.literal('2')], { error: 'must be 2 (a lead)' }),
        status_id: amoId,
        pipeline_id: amoId,
        direction_of_movement: z.string().max(64).optional(),
      }),
      time: unixTime,
    })
    .refine((e) => EVENT_TYPES[e.type_code] === e.type, { path: ['type'], message: 'does not match type_code' }),
  action: z.object({
    settings: z.object({
      widget: z.object({
        settings: z.object({
          action: z.enum(Object.keys(DP_ACTION_CODES) as [DpActionCode, ...DpActionCode[]]),
          /** Checked against the account's key (401 when absent or wrong), never a 400. */
          reglament_key: z.string().max(256).optional(),
        }),
      }),
    }),
  }),
  subdomain: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'must be an amoCRM subdomain'),
  account_id: amoId,
});
export type AmocrmDpEvent = z.infer<typeof amocrmDpEventSchema>;

/**
 * The account the event names must be the installation's: the subdomain amoCRM confirmed at
 * install (`/api/v4/account`), and, for a real amoCRM/Kommo host, the first label of its address.
 */
export function sameAccount(installation: Pick<AmocrmInstallation, 'subdomain' | 'baseUrl'>, subdomain: string): boolean {
  const claimed = subdomain.toLowerCase();
  if (installation.subdomain.toLowerCase() !== claimed) return false;
  const host = new URL(installation.baseUrl).hostname.toLowerCase();
  return !/\.(amocrm\.ru|amocrm\.com|kommo\.com)$/.test(host) || host.split('.')[0] === claimed;
}

/**
 * The Digital Pipeline action's webhook. amoCRM signs nothing here, so the action's own settings
 * carry the account's key (src/installations/amocrm-dp-key.ts). The edge verifies the key and the
 * account, validates, and queues one automation call per DP event; the worker acts and writes the
 * outcome as a note in the lead. A refused call queues nothing.
 */
export function amocrmDpRouter(services: Services, edge: EdgeOutcomes): Router {
  const router = Router();
  const appSecret = encryptionKeyBytes(services.config);
  router.post(AMOCRM_DP_PATH, express.json({ limit: '64kb' }), formText, async (req: Request, res: Response) => {
    const body: unknown = typeof req.body === 'string' ? parseForm(req.body) : req.body;
    const parsed = amocrmDpEventSchema.safeParse(body ?? {});
    if (!parsed.success) return edge.refuse(res, 'amocrm', 400, 'malformed_dp_event', { reason: describeIssues(parsed.error.issues) });
    const dp = parsed.data;
    const installationId = amocrmInstallationId(dp.account_id);
    const installation = await services.edgeInstallations.find(installationId);
    // The key is checked before anything about the installation is told apart: an unknown account,
    // a missing or wrong key and another account's key all look the same from outside.
    const keyOk = matchesDpKey(appSecret, installationId, dp.action.settings.widget.settings.reglament_key);
    if (!installation || installation.crm !== 'amocrm' || !keyOk) return edge.refuse(res, 'amocrm', 401, 'invalid_dp_key');
    if (!sameAccount(installation, dp.subdomain)) return edge.refuse(res, 'amocrm', 401, 'account_mismatch', { installation: installation.id });
    if (installation.status !== 'active') return edge.refuse(res, 'amocrm', 403, 'installation_revoked', { installation: installation.id });
    const call: AutomationCall = {
      installationId,
      action: DP_ACTION_CODES[dp.action.settings.widget.settings.action],
      // amoCRM's leads are the app's deals.
      target: { entity: 'deal', id: dp.event.data.id },
      properties: {},
      reply: { kind: 'amocrm_dp', statusId: dp.event.data.status_id, pipelineId: dp.event.data.pipeline_id, eventTime: dp.event.time },
      receivedAt: Date.now(),
    };
    await services.automation.enqueue(call);
    edge.accepted('amocrm', 1);
    res.status(200).json({ ok: true });
  });
  return router;
}
