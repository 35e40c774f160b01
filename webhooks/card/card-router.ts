import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { cardLog } from '../../src/card/card-log';
import { UNDO_REFUSALS } from '../../src/card/card-texts';
import { undoAction } from '../../src/card/undo-action';
import { isInstallationId, type Installation } from '../../src/installations/installation';
import { settingsRoleOf } from '../../src/settings-access/access-rule';
import { configuredWidgetVerifier, type AmocrmWidgetTokenVerifier } from '../../src/settings-access/amocrm-widget';
import { verifyBitrix24Frame } from '../../src/settings-access/bitrix24-frame';
import { CardSessionSigner, type CardClaims } from '../../src/settings-access/card-session';
import type { Services } from '../../src/services';
import { formText, parseForm } from '../form-body';
import { allowOrigin, isAmocrmOrigin } from '../settings/amocrm-cors';
import { bearerToken } from '../settings/sessions';

export const CARD_PAGE_PATH = '/apps/card/';
/** Where Bitrix24 opens the deal and lead tabs (`placement.bind` at install). */
export { BITRIX24_CARD_PLACEMENT_PATH as BITRIX24_CARD_HANDLER_PATH } from '../../src/installations/bitrix24-placements';
import { BITRIX24_CARD_PLACEMENT_PATH as BITRIX24_CARD_HANDLER_PATH } from '../../src/installations/bitrix24-placements';
import { admitWidgetUser } from '../settings/widget-token-use';
import { refusalPage } from '../settings/refusal-page';
import { bitrix24FrameCheck } from '../settings/frame-check';
/** `npm run build:pages` writes the built card page here (Vite, pages/card). */
export const CARD_PAGE_DIR = path.join(__dirname, '..', '..', 'dist', 'pages', 'card');

/** The placements the card tab is bound to, and the CRM entity (and `crm.item.get` entityTypeId) each opens. */
const PLACEMENTS = { CRM_DEAL_DETAIL_TAB: { entity: 'deal', entityTypeId: 2 }, CRM_LEAD_DETAIL_TAB: { entity: 'lead', entityTypeId: 1 } } as const;
const placementOptionsSchema = z.object({ ID: z.coerce.string().regex(/^\d{1,20}$/) });
const undoBodySchema = z.object({ reason: z.string().trim().max(500).optional() }).strict();
const cardSessionBodySchema = z.object({ leadId: z.coerce.string().regex(/^\d{1,20}$/), lang: z.enum(['ru', 'en']).default('ru'), token: z.string().optional() });

export interface CardRouterOptions {
  amocrmWidgetVerifier?: AmocrmWidgetTokenVerifier | null;
}

/**
 * The robot log in the deal's (lead's) card. Ways in: the Bitrix24 deal/lead tab (the portal POSTs the
 * user's AUTH_ID with PLACEMENT_OPTIONS {"ID": …}) and the amoCRM widget in the lead card (its signed
 * token). Both end in a card session scoped to that installation and that deal; anyone who may open
 * the card reads the log, only administrators and listed heads of sales undo.
 */
export function cardRouter(services: Services, options: CardRouterOptions = {}): Router {
  const router = Router();
  const signers: Record<Installation['crm'], CardSessionSigner | null> = {
    bitrix24: services.config.BITRIX24_CLIENT_SECRET ? new CardSessionSigner(services.config.BITRIX24_CLIENT_SECRET) : null,
    amocrm: services.config.AMOCRM_CLIENT_SECRET ? new CardSessionSigner(services.config.AMOCRM_CLIENT_SECRET) : null,
  };
  const issue = (installation: Installation, claims: Omit<CardClaims, 'v' | 'scope' | 'expiresAt' | 'installationId'>) =>
    signers[installation.crm]?.issue({ installationId: installation.id, ...claims }, services.now().getTime()) ?? null;
  const widgetVerifier = options.amocrmWidgetVerifier === undefined ? configuredWidgetVerifier(services.config) : (options.amocrmWidgetVerifier ?? undefined);
  const frameCheck = bitrix24FrameCheck(services);

  // Bitrix24: the deal / lead tab. Verified like the app page (the portal answers to AUTH_ID, member_id is the
  // installation's), and the same batch reads the deal with the user's own token: a user who cannot see it is refused.
  router.post(BITRIX24_CARD_HANDLER_PATH, formText, async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.set('Cache-Control', 'no-store');
      const form = parseForm(req.body);
      const placement = PLACEMENTS[String(form.PLACEMENT ?? '') as keyof typeof PLACEMENTS];
      const optionsJson = (() => { try { return JSON.parse(String(form.PLACEMENT_OPTIONS ?? '')) as unknown; } catch { return null; } })();
      const ids = placementOptionsSchema.safeParse(optionsJson);
      if (!placement || !ids.success) return void res.status(400).type('html').send(refusalPage(REFUSALS.bad_request));
      const verdict = await verifyBitrix24Frame({ query: req.query, body: form }, {
        ...frameCheck,
        also: { item: `crm.item.get?${new URLSearchParams({ entityTypeId: String(placement.entityTypeId), id: ids.data.ID })}` },
      });
      if (!verdict.ok) {
        if (verdict.status !== 400) services.log.warn({ reason: verdict.reason }, 'card tab opened without a verifiable Bitrix24 user');
        return void res.status(verdict.status).type('html').send(refusalPage(verdict.status === 400 ? REFUSALS.bad_request : REFUSALS.not_verified));
      }
      if (!verdict.also.item) return void res.status(403).type('html').send(refusalPage(REFUSALS.not_visible));
      const role = settingsRoleOf(verdict.installation, verdict.user) ?? 'viewer';
      const session = issue(verdict.installation, { userId: verdict.user.id, role, entity: placement.entity, dealId: ids.data.ID });
      if (!session) return void res.status(503).type('html').send(refusalPage(REFUSALS.not_configured));
      res.redirect(303, cardUrl(verdict.installation.id, session.token, session.claims, verdict.lang));
    } catch (err) {
      next(err);
    }
  });

  // amoCRM: the widget in the lead card trades its one-time token for a card session of that lead.
  const insecureHosts = services.config.AMOCRM_INSECURE_HOSTS;
  router.options('/amocrm/widget/card-session', (req: Request, res: Response) => {
    const origin = req.get('origin');
    if (!isAmocrmOrigin(origin, insecureHosts)) return void res.status(403).end();
    allowOrigin(res, origin!);
    res.status(204).end();
  });
  // $authorizedAjax posts jQuery's form encoding; JSON is taken too.
  router.post('/amocrm/widget/card-session', express.json({ limit: '16kb' }), express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response, next: NextFunction) => {
    try {
      res.set('Cache-Control', 'no-store');
      const body = cardSessionBodySchema.safeParse(req.body ?? {});
      if (!body.success) return void res.status(400).json({ error: 'invalid_lead_id', path: 'leadId' });
      const admitted = await admitWidgetUser(req, res, services, widgetVerifier);
      if (!admitted) return;
      const { installation, userId, crm } = admitted;
      if (!(await crm.getDeal({ entity: 'deal', id: body.data.leadId }))) return void res.status(404).json({ error: 'unknown_lead' });
      // Anyone the account lets see the lead reads its log; only administrators and heads of sales undo.
      const role = admitted.role ?? 'viewer';
      const session = issue(installation, { userId, role, entity: 'deal', dealId: body.data.leadId });
      if (!session) return void res.status(503).json({ error: 'not_configured' });
      res.json({ session: session.token, role, expiresAt: session.claims.expiresAt, cardUrl: `${services.config.PUBLIC_URL}${cardUrl(installation.id, session.token, session.claims, body.data.lang)}` });
    } catch (err) {
      next(err);
    }
  });

  // The API the card page calls: a card session of this installation, for this deal only.
  const authorize = async (req: Request, res: Response): Promise<{ installation: Installation; claims: CardClaims; lang: 'ru' | 'en' } | null> => {
    res.set('Cache-Control', 'no-store');
    const installationId = String(req.params.installationId ?? '');
    if (!isInstallationId(installationId)) return refuse(res, 400, 'invalid_installation_id');
    const token = bearerToken(req.get('authorization'));
    if (!token) return refuse(res, 401, 'session_required');
    const signer = signers[installationId.startsWith('b24:') ? 'bitrix24' : 'amocrm'];
    const check = signer ? signer.verify(token, services.now().getTime()) : ({ ok: false, reason: 'malformed' } as const);
    if (!check.ok) return refuse(res, 401, check.reason === 'expired' ? 'session_expired' : 'invalid_session');
    if (check.claims.installationId !== installationId) return refuse(res, 403, 'session_of_another_installation');
    const installation = await services.store.find(installationId);
    if (!installation || installation.status !== 'active') return refuse(res, 403, 'installation_unavailable');
    return { installation, claims: check.claims, lang: req.query.lang === 'en' ? 'en' : 'ru' };
  };

  router.get('/api/card/:installationId/:entity/:id/log', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const auth = await authorize(req, res);
      if (!auth) return;
      const { entity, id } = req.params as { entity: string; id: string };
      if ((entity !== 'deal' && entity !== 'lead') || !/^\d{1,20}$/.test(id)) return void refuse(res, 400, 'invalid_deal');
      if (entity !== auth.claims.entity || id !== auth.claims.dealId) return void refuse(res, 403, 'session_of_another_deal');
      const mayUndo = auth.claims.role !== 'viewer';
      const entries = await cardLog(services, auth.installation.id, { entity, id }, { mayUndo }, auth.lang);
      res.json({ installationId: auth.installation.id, target: { entity, id }, user: { id: auth.claims.userId, role: auth.claims.role }, entries });
    } catch (err) {
      next(err);
    }
  });

  router.post('/api/card/:installationId/actions/:actionId/undo', express.json({ limit: '8kb' }), async (req: Request, res: Response, next: NextFunction) => {
    try {
      const auth = await authorize(req, res);
      if (!auth) return;
      const actionId = String(req.params.actionId ?? '');
      if (!/^[A-Za-z0-9-]{8,64}$/.test(actionId)) return void refuse(res, 400, 'invalid_action_id');
      const body = undoBodySchema.safeParse(req.body ?? {});
      if (!body.success) return void res.status(400).json({ error: 'malformed_undo', issues: body.error.issues.map((i) => ({ path: i.path.join('.') || 'body', message: i.message })) });
      if (auth.claims.role === 'viewer') return void refuse(res, 403, 'undo_not_allowed');
      const outcome = await undoAction(services, auth.installation, actionId, { entity: auth.claims.entity, id: auth.claims.dealId }, {
        userId: auth.claims.userId, role: auth.claims.role, ...(body.data.reason ? { reason: body.data.reason } : {}),
      });
      if (!outcome.ok) {
        const words = UNDO_REFUSALS[outcome.error];
        return void res.status(outcome.status).json({ error: outcome.error, ...(outcome.undoId ? { undoId: outcome.undoId } : {}), ...(words ? { message: words[auth.lang === 'ru' ? 0 : 1] } : {}) });
      }
      res.json({ undo: outcome.undo });
    } catch (err) {
      next(err);
    }
  });

  router.use(CARD_PAGE_PATH, (req, res, next) => {
    if (existsSync(path.join(CARD_PAGE_DIR, 'index.html'))) return next();
    res.status(503).type('text').send('The card page is not built: run `npm run build:pages`.');
  }, express.static(CARD_PAGE_DIR, { index: 'index.html', maxAge: 0 }));

  return router;
}

/** The session travels in the fragment: never sent to a server, never in a Referer. */
function cardUrl(installationId: string, token: string, claims: CardClaims, lang: 'ru' | 'en'): string {
  return `${CARD_PAGE_PATH}#${new URLSearchParams({ installation: installationId, session: token, entity: claims.entity, id: claims.dealId, role: claims.role, lang })}`;
}

function refuse(res: Response, status: number, error: string): null {
  res.status(status).json({ error });
  return null;
}

const REFUSALS = {
  bad_request: ['Откройте вкладку из карточки сделки или лида в Битрикс24.', 'Open the tab from a deal or lead card in Bitrix24.'],
  not_verified: ['Битрикс24 не подтвердил пользователя. Откройте карточку заново.', 'Bitrix24 did not confirm the user. Open the card again.'],
  not_visible: ['У вас нет доступа к этой сделке.', 'You have no access to this deal.'],
  not_configured: ['Журнал роботов недоступен: приложение не настроено на сервере.', 'The robot log is unavailable: the app is not configured on the server.'],
} as const;
