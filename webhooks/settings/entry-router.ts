import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { robots } from '../../src/robots';
import { settingsRoleOf } from '../../src/settings-access/access-rule';
import { configuredWidgetVerifier, type AmocrmWidgetTokenVerifier } from '../../src/settings-access/amocrm-widget';
import { verifyBitrix24Frame } from '../../src/settings-access/bitrix24-frame';
import { robotStatuses } from '../../src/settings-page/settings-view';
import type { Services } from '../../src/services';
import { formText, parseForm } from '../form-body';
import { allowOrigin, isAmocrmOrigin } from './amocrm-cors';
import type { SettingsSessions } from './sessions';
import { admitWidgetUser } from './widget-token-use';
import { refusalPage } from './refusal-page';
import { bitrix24FrameCheck } from './frame-check';

export const SETTINGS_PAGE_PATH = '/apps/settings/';
const APPS_DIR = path.join(__dirname, '..', '..', 'apps');
/** `npm run build:pages` writes the built settings page here (Vite). */
export const SETTINGS_PAGE_DIR = path.join(__dirname, '..', '..', 'dist', 'pages', 'settings');

export interface SettingsEntryOptions {
  /**
   * Checks the amoCRM widget's signed token. Default: amoCRM's disposable JWT checked with this
   * integration's id and secret (`configuredWidgetVerifier`); null, or an integration without
   * them: amoCRM sessions are refused with 503.
   */
  amocrmWidgetVerifier?: AmocrmWidgetTokenVerifier | null;
}

/**
 * The ways into the settings: the Bitrix24 app page (the portal POSTs the user's AUTH_ID into the
 * frame), and the amoCRM widget's advanced settings (its signed token). Both end with a short-lived
 * session the page sends as a header; the built page itself is static.
 */
export function settingsEntryRouter(services: Services, sessions: SettingsSessions, options: SettingsEntryOptions): Router {
  const router = Router();
  const widgetVerifier = options.amocrmWidgetVerifier === undefined ? configuredWidgetVerifier(services.config) : (options.amocrmWidgetVerifier ?? undefined);
  const frameCheck = bitrix24FrameCheck(services);
  const verifyFrame = (req: Request) => verifyBitrix24Frame({ query: req.query, body: parseForm(req.body) }, frameCheck);

  // The app page (placement DEFAULT): the robot overview, now with what is on and off for this
  // portal, and for administrators and heads of sales a way into the settings.
  router.post('/apps/bitrix24/index.html', formText, async (req: Request, res: Response) => {
    const verdict = await verifyFrame(req);
    const page = readFileSync(path.join(APPS_DIR, 'bitrix24', 'index.html'), 'utf8');
    res.set('Cache-Control', 'no-store');
    if (!verdict.ok) {
      if (verdict.status !== 400) services.log.warn({ reason: verdict.reason }, 'app page opened without a verifiable Bitrix24 user');
      return void res.type('html').send(page);
    }
    const role = settingsRoleOf(verdict.installation, verdict.user);
    const session = role ? sessions.issue(verdict.installation, verdict.user.id, role) : null;
    const portal = {
      installationId: verdict.installation.id,
      lang: verdict.lang,
      robots: robotStatuses(verdict.installation, robots),
      settingsUrl: session ? settingsUrl(verdict.installation.id, session.token, verdict.lang) : null,
    };
    res.type('html').send(injectJson(page, 'reglament-portal', portal));
  });

  // A direct way into the settings page (a second placement, or the overview's link target).
  router.post('/apps/bitrix24/settings', formText, async (req: Request, res: Response) => {
    const verdict = await verifyFrame(req);
    res.set('Cache-Control', 'no-store');
    if (!verdict.ok) return void res.status(verdict.status).type('html').send(refusalPage(verdict.status === 400 ? REFUSALS.bad_request : REFUSALS.not_verified));
    const role = settingsRoleOf(verdict.installation, verdict.user);
    if (!role) return void res.status(403).type('html').send(refusalPage(REFUSALS.not_allowed));
    const session = sessions.issue(verdict.installation, verdict.user.id, role);
    if (!session) return void res.status(503).type('html').send(refusalPage(REFUSALS.not_configured));
    res.redirect(303, settingsUrl(verdict.installation.id, session.token, verdict.lang));
  });

  // amoCRM: the widget's advanced settings page asks for a session with its one-time token.
  const insecureHosts = services.config.AMOCRM_INSECURE_HOSTS;
  router.options('/amocrm/widget/settings-session', (req: Request, res: Response) => {
    const origin = req.get('origin');
    if (!isAmocrmOrigin(origin, insecureHosts)) return void res.status(403).end();
    allowOrigin(res, origin!);
    res.status(204).end();
  });
  router.post('/amocrm/widget/settings-session', express.json({ limit: '16kb' }), async (req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    const admitted = await admitWidgetUser(req, res, services, widgetVerifier);
    if (!admitted) return;
    const { installation, userId, role } = admitted;
    if (!role) return void res.status(403).json({ error: 'not_allowed' });
    const session = sessions.issue(installation, userId, role);
    if (!session) return void res.status(503).json({ error: 'not_configured' });
    // Absolute: the widget frames the page from the account's domain.
    const { lang } = widgetPageRequest.catch({ lang: 'ru' }).parse(req.body ?? {});
    res.json({ session: session.token, expiresAt: session.claims.expiresAt, settingsUrl: `${services.config.PUBLIC_URL}${settingsUrl(installation.id, session.token, lang)}` });
  });

  router.use(SETTINGS_PAGE_PATH, (req, res, next) => {
    if (existsSync(path.join(SETTINGS_PAGE_DIR, 'index.html'))) return next();
    res.status(503).type('text').send('The settings page is not built: run `npm run build:pages`.');
  }, express.static(SETTINGS_PAGE_DIR, { index: 'index.html', maxAge: 0 }));

  return router;
}

/** What the widget adds to its request: the user's amoCRM language (anything else reads as Russian). */
const widgetPageRequest = z.object({ lang: z.enum(['ru', 'en']).catch('ru').default('ru') });

/** The session travels in the fragment: never sent to a server, never in a Referer. */
function settingsUrl(installationId: string, token: string, lang: 'ru' | 'en'): string {
  return `${SETTINGS_PAGE_PATH}#${new URLSearchParams({ installation: installationId, session: token, lang })}`;
}

/** Data for the page's script, as JSON that cannot close the script element. */
function injectJson(html: string, id: string, data: unknown): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return html.replace('</head>', `<script type="application/json" id="${id}">${json}</script>\n</head>`);
}

const REFUSALS = {
  bad_request: ['Откройте приложение из Битрикс24.', 'Open the app from Bitrix24.'],
  not_verified: ['Битрикс24 не подтвердил пользователя. Откройте приложение заново.', 'Bitrix24 did not confirm the user. Open the app again.'],
  not_allowed: ['Настройки Reglament доступны администраторам портала и руководителям отдела продаж.', 'Reglament settings are open to portal administrators and heads of sales.'],
  not_configured: ['Настройки недоступны: приложение не настроено на сервере.', 'Settings are unavailable: the app is not configured on the server.'],
} as const;
