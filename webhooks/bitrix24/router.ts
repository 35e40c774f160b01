import { Router, type Request, type Response } from 'express';
import { matchesSecretHash } from '../../src/infra/crypto';
import { bitrix24InstallationId } from '../../src/installations/installation';
import {
  InstallConflictError,
  InstallNotConfirmedError,
  installBitrix24,
  PortalUnreachableError,
  type Bitrix24InstallRequest,
} from '../../src/installations/bitrix24-installer';
import { UntrustedInstallTargetError } from '../../src/installations/install-targets';
import type { Services } from '../../src/services';
import { type EdgeOutcomes } from '../edge-outcomes';
import { describeIssues, formText, parseForm } from '../form-body';
import { bitrix24EventSchema, bitrix24InstallPageSchema, bitrix24OnAppInstallSchema } from './event-schema';
import { normalizeBitrix24Event } from './normalize-event';
import { installFinishedPage } from './install-page';

/**
 * The Bitrix24 edge. `POST /bitrix24/events` verifies auth[application_token] against the
 * installation of auth[member_id] (the only authenticity check Bitrix24 offers, and the only
 * one on ONAPPUNINSTALL), validates, enqueues and answers; it never calls the portal.
 */
export function bitrix24Router(services: Services, edge: EdgeOutcomes): Router {
  const router = Router();

  router.post('/bitrix24/events', formText, async (req: Request, res: Response) => {
    const parsed = bitrix24EventSchema.safeParse(parseForm(req.body));
    if (!parsed.success) return edge.refuse(res, 'bitrix24', 400, 'malformed_event', { reason: describeIssues(parsed.error.issues) });
    const event = parsed.data;
    const installation = await services.edgeInstallations.find(bitrix24InstallationId(event.auth.member_id));
    if (!installation || installation.crm !== 'bitrix24') return edge.refuse(res, 'bitrix24', 401, 'unknown_installation');
    if (!matchesSecretHash(event.auth.application_token, installation.applicationTokenHash)) {
      return edge.refuse(res, 'bitrix24', 401, 'invalid_application_token', { installation: installation.id });
    }
    const normalized = normalizeBitrix24Event(event, Date.now());
    if (!normalized.ok) return edge.refuse(res, 'bitrix24', 400, 'malformed_event', { reason: normalized.reason });
    if (!normalized.event) return void res.status(200).json({ ok: true, ignored: event.event });
    // Revoked: nothing can act on the portal until it is installed again; only its uninstall still counts.
    if (installation.status !== 'active' && normalized.event.entity !== 'installation') {
      return edge.refuse(res, 'bitrix24', 403, 'installation_revoked', { installation: installation.id });
    }
    await services.inbox.accept(normalized.event);
    edge.accepted('bitrix24', 1);
    res.status(200).json({ ok: true });
  });

  // The install page (UI app) and the ONAPPINSTALL event (app without UI) both land here.
  // Every refusal below leaves nothing stored (see installBitrix24 for the order of checks).
  router.post('/bitrix24/install', formText, async (req: Request, res: Response) => {
    const form = parseForm(req.body);
    const request = form.event ? fromOnAppInstall(form) : fromInstallPage(req.query, form);
    if (!request.ok) return void res.status(400).json({ error: 'malformed_install', reason: request.reason });
    try {
      await installBitrix24(request.value, services);
    } catch (err) {
      if (err instanceof UntrustedInstallTargetError) {
        services.log.warn({ reason: err.message }, 'Bitrix24 install refused: untrusted target');
        return void res.status(400).json({ error: 'untrusted_install_target', reason: err.message });
      }
      if (err instanceof InstallConflictError) return void res.status(409).json({ error: 'install_conflict', reason: err.message });
      if (err instanceof InstallNotConfirmedError) {
        services.log.warn({ reason: err.message }, 'Bitrix24 install refused: the portal did not confirm it');
        return void res.status(403).json({ error: 'install_not_confirmed', reason: err.message });
      }
      services.log.error({ err }, 'Bitrix24 install failed');
      const reason = String((err as Error).message ?? err).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      const what = err instanceof PortalUnreachableError ? 'портал не ответил' : 'ошибка при подключении событий';
      return void res.status(502).type('html').send(`<p>Установка не удалась: ${what}. Попробуйте ещё раз.</p><p><small>${reason}</small></p>`);
    }
    if (form.event) return void res.status(200).json({ ok: true });
    res.status(200).type('html').send(installFinishedPage());
  });

  return router;
}

type Parsed = { ok: true; value: Bitrix24InstallRequest } | { ok: false; reason: string };

function fromInstallPage(query: unknown, body: Record<string, unknown>): Parsed {
  const parsed = bitrix24InstallPageSchema.safeParse({ query, body });
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues) };
  const { query: q, body: b } = parsed.data;
  // PROTOCOL=0 means the portal is served over plain http (self-hosted boxes, the local emulator).
  const scheme = q.PROTOCOL === '0' ? 'http' : 'https';
  return {
    ok: true,
    value: {
      memberId: b.member_id,
      domain: q.DOMAIN,
      clientEndpoint: `${scheme}://${q.DOMAIN}/rest/`,
      serverEndpoint: b.SERVER_ENDPOINT,
      applicationToken: b.APPLICATION_TOKEN,
      tokens: { accessToken: b.AUTH_ID, refreshToken: b.REFRESH_ID, expiresAt: Date.now() + b.AUTH_EXPIRES * 1000 },
    },
  };
}

function fromOnAppInstall(form: Record<string, unknown>): Parsed {
  const parsed = bitrix24OnAppInstallSchema.safeParse(form);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues) };
  const a = parsed.data.auth;
  return {
    ok: true,
    value: {
      memberId: a.member_id,
      domain: a.domain,
      clientEndpoint: a.client_endpoint,
      serverEndpoint: a.server_endpoint,
      applicationToken: a.application_token,
      userId: a.user_id,
      tokens: { accessToken: a.access_token, refreshToken: a.refresh_token, expiresAt: Date.now() + a.expires_in * 1000 },
    },
  };
}
