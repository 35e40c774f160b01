import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { CrmPort } from '../../src/crm/crm-port';
import { installationKey } from '../../src/infra/keys';
import type { AmocrmInstallation } from '../../src/installations/installation';
import { settingsRoleOf } from '../../src/settings-access/access-rule';
import { verifyAmocrmWidget, type AmocrmWidgetTokenVerifier } from '../../src/settings-access/amocrm-widget';
import type { SessionClaims } from '../../src/settings-access/session';
import type { Services } from '../../src/services';
import { allowOrigin, widgetToken } from './amocrm-cors';

/**
 * amoCRM's widget token is disposable: one `jti` is taken once (kept until the token expires),
 * whatever it is presented for (a settings session, a card session, the Digital Pipeline key).
 */
export async function firstUseOfWidgetToken(services: Pick<Services, 'prefix' | 'redis'>, verdict: { installation: { id: string }; tokenId?: string; expiresAt?: number }): Promise<boolean> {
  if (!verdict.tokenId) return true;
  const key = installationKey(services.prefix, verdict.installation.id, 'widget-jti', createHash('sha256').update(verdict.tokenId).digest('hex'));
  const keepSeconds = Math.max(60, (verdict.expiresAt ?? 0) - Math.floor(Date.now() / 1000) + 120);
  return (await services.redis.set(key, '1', 'EX', keepSeconds, 'NX')) === 'OK';
}

export interface WidgetUser {
  installation: AmocrmInstallation;
  userId: string;
  /** What the access rule grants this user (an account administrator or a listed head of sales), or null. */
  role: SessionClaims['role'] | null;
  crm: CrmPort;
}

/**
 * Every widget exchange (settings, card, Digital Pipeline key) starts the same way: amoCRM's
 * disposable token names an account and a user of an active installation, the token is taken once,
 * a browser request must come from that account's own page, and the CRM says whether the user is
 * an administrator. Answers the refusal itself and returns null; otherwise the user and their role.
 */
export async function admitWidgetUser(req: Request, res: Response, services: Services, verifier: AmocrmWidgetTokenVerifier | undefined): Promise<WidgetUser | null> {
  const verdict = await verifyAmocrmWidget(widgetToken(req), verifier, services.store);
  if (!verdict.ok) return refuse(res, verdict.status, verdict.reason);
  if (!(await firstUseOfWidgetToken(services, verdict))) return refuse(res, 401, 'widget_token_reused');
  const origin = req.get('origin');
  if (origin) {
    // A token of account A presented from account B's page is refused: the page must be the account's own.
    if (origin !== new URL(verdict.installation.baseUrl).origin) return refuse(res, 403, 'origin_mismatch');
    allowOrigin(res, origin);
  }
  const crm = await services.clients.forInstallation(verdict.installation);
  const user = (await crm.listUsers()).find((u) => u.id === verdict.userId);
  const role = settingsRoleOf(verdict.installation, { id: verdict.userId, isAdmin: user?.isAdmin === true && user.isActive !== false });
  return { installation: verdict.installation, userId: verdict.userId, role, crm };
}

function refuse(res: Response, status: number, error: string): null {
  res.status(status).json({ error });
  return null;
}
