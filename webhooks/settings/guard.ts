import type { NextFunction, Request, Response } from 'express';
import { isInstallationId, type Installation } from '../../src/installations/installation';
import type { SessionClaims } from '../../src/settings-access/session';
import type { UiLang } from '../../src/settings-page/issue-messages';
import type { Services } from '../../src/services';
import { bearerToken, type SettingsSessions } from './sessions';

export interface Authorized {
  installation: Installation;
  claims: SessionClaims;
  lang: UiLang;
}

export type GuardedHandler = (auth: Authorized, req: Request, res: Response) => Promise<void>;

/**
 * Every settings API route needs a valid session for the installation named in the path
 * (`:installationId`): no session or a forged one is 401, an expired one 401, a session of another
 * installation 403 — and none of them reads or changes anything.
 */
export function sessionGuard(services: Services, sessions: SettingsSessions) {
  const authorize = async (req: Request, res: Response): Promise<Authorized | null> => {
    res.set('Cache-Control', 'no-store');
    const installationId = String(req.params.installationId ?? '');
    if (!isInstallationId(installationId)) return refuse(res, 400, 'invalid_installation_id');
    const token = bearerToken(req.get('authorization'));
    if (!token) return refuse(res, 401, 'session_required');
    const check = sessions.verify(installationId.startsWith('b24:') ? 'bitrix24' : 'amocrm', token);
    if (!check.ok) return refuse(res, 401, check.reason === 'expired' ? 'session_expired' : 'invalid_session');
    if (check.claims.installationId !== installationId) return refuse(res, 403, 'session_of_another_installation');
    const installation = await services.store.find(installationId);
    if (!installation || installation.status !== 'active') return refuse(res, 403, 'installation_unavailable');
    return { installation, claims: check.claims, lang: req.query.lang === 'en' ? 'en' : 'ru' };
  };

  return (handler: GuardedHandler) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      const auth = await authorize(req, res);
      if (auth) await handler(auth, req, res);
    } catch (err) {
      next(err);
    }
  };
}

function refuse(res: Response, status: number, error: string): null {
  res.status(status).json({ error });
  return null;
}
