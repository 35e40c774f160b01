import { createHash } from 'node:crypto';
import { installationKey } from '../../src/infra/keys';
import type { Services } from '../../src/services';

/**
 * amoCRM's widget token is disposable: one `jti` is taken once (kept until the token expires),
 * whatever it is presented for (a settings session, the Digital Pipeline key).
 */
export async function firstUseOfWidgetToken(services: Pick<Services, 'prefix' | 'redis'>, verdict: { installation: { id: string }; tokenId?: string; expiresAt?: number }): Promise<boolean> {
  if (!verdict.tokenId) return true;
  const key = installationKey(services.prefix, verdict.installation.id, 'widget-jti', createHash('sha256').update(verdict.tokenId).digest('hex'));
  const keepSeconds = Math.max(60, (verdict.expiresAt ?? 0) - Math.floor(Date.now() / 1000) + 120);
  return (await services.redis.set(key, '1', 'EX', keepSeconds, 'NX')) === 'OK';
}
