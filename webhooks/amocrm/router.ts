import { createHmac, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { matchesSecretHash } from '../../src/infra/crypto';
import { AccountNotConfirmedError, installAmocrm } from '../../src/installations/amocrm-installer';
import { UntrustedInstallTargetError } from '../../src/installations/install-targets';
import { amocrmInstallationId } from '../../src/installations/installation';
import type { Services } from '../../src/services';
import { type EdgeOutcomes } from '../edge-outcomes';
import { describeIssues, formText, parseForm } from '../form-body';
import { normalizeAmocrmWebhook } from './normalize-webhook';
import { amocrmDisconnectSchema, amocrmWebhookSchema } from './webhook-schema';

const callbackSchema = z.object({
  code: z.string().min(1),
  referer: z.string().min(1),
  state: z.string().optional(),
  from_widget: z.string().optional(),
});

/**
 * The amoCRM edge. Account webhooks are unsigned, so the URL carries a per-installation secret
 * and `account[id]` must name the installation that secret belongs to.
 */
export function amocrmRouter(services: Services, edge: EdgeOutcomes): Router {
  const router = Router();

  router.post('/amocrm/webhook/:secret', formText, async (req: Request, res: Response) => {
    const parsed = amocrmWebhookSchema.safeParse(parseForm(req.body));
    if (!parsed.success) return edge.refuse(res, 'amocrm', 400, 'malformed_webhook', { reason: describeIssues(parsed.error.issues) });
    const installation = await services.edgeInstallations.find(amocrmInstallationId(parsed.data.account.id));
    const secret = String(req.params.secret ?? '');
    if (!installation || installation.crm !== 'amocrm' || !matchesSecretHash(secret, installation.webhookSecretHash)) {
      return edge.refuse(res, 'amocrm', 401, 'unknown_installation');
    }
    // Revoked: nothing can act on the account until it is installed again (its removal comes through /amocrm/disconnect).
    if (installation.status !== 'active') return edge.refuse(res, 'amocrm', 403, 'installation_revoked', { installation: installation.id });
    const events = normalizeAmocrmWebhook(parsed.data, Date.now());
    // All at once: one connection keeps their order, and a POST of 1,000 events (an import) is
    // queued well within amoCRM's 2 s, where one after another was not.
    await Promise.all(events.map((event) => services.inbox.accept(event)));
    edge.accepted('amocrm', events.length);
    res.status(200).json({ ok: true, events: events.length });
  });

  router.get('/amocrm/oauth/callback', async (req: Request, res: Response) => {
    const parsed = callbackSchema.safeParse(req.query);
    if (!parsed.success) return void res.status(400).json({ error: 'malformed_callback', reason: describeIssues(parsed.error.issues) });
    try {
      const installation = await installAmocrm(parsed.data.code, parsed.data.referer, services);
      res.status(200).type('html').send(`<!doctype html><meta charset="utf-8"><p>Reglament подключён к аккаунту ${escapeHtml(installation.subdomain)}.</p>`);
    } catch (err) {
      if (err instanceof UntrustedInstallTargetError) return void res.status(400).json({ error: 'untrusted_referer', reason: err.message });
      if (err instanceof AccountNotConfirmedError) return void res.status(403).json({ error: 'account_not_confirmed', reason: err.message });
      services.log.error({ err }, 'amoCRM install failed');
      res.status(502).json({ error: 'install_failed', reason: (err as Error).message });
    }
  });

  // "Access revoked" hook from the integration settings.
  router.get('/amocrm/disconnect', async (req: Request, res: Response) => {
    const parsed = amocrmDisconnectSchema.safeParse(req.query);
    if (!parsed.success) return edge.refuse(res, 'amocrm', 400, 'malformed_disconnect', { reason: describeIssues(parsed.error.issues) });
    const { account_id, client_uuid, signature } = parsed.data;
    const expected = createHmac('sha256', services.oauth.amocrm.clientSecret).update(`${client_uuid}|${account_id}`).digest();
    const given = Buffer.from(signature, 'hex');
    if (client_uuid !== services.oauth.amocrm.clientId || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return edge.refuse(res, 'amocrm', 401, 'invalid_signature');
    }
    const installationId = amocrmInstallationId(account_id);
    if (!(await services.store.find(installationId))) return edge.refuse(res, 'amocrm', 401, 'unknown_installation');
    await services.inbox.accept({ installationId, crm: 'amocrm', kind: 'removed', entity: 'installation', entityId: account_id, receivedAt: Date.now() });
    res.status(200).json({ ok: true });
  });

  return router;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
