import { installationKey } from '../../src/infra/keys';
import { InstallationRevokedError } from '../../src/errors';
import type { Installation, TokenSet } from '../../src/installations/installation';
import { RefreshRejectedError, TokenRefresher, type RefreshGrant } from '../../src/installations/token-refresher';
import { createLogger } from '../../src/log';
import { documentedBitrix24Installation } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

describe('single-flight token refresh (refresh tokens are single-use on both CRMs)', () => {
  let services: TestServices;
  const installation = documentedBitrix24Installation();
  const expired: TokenSet = { accessToken: 'expired-access', refreshToken: 'refresh-1', expiresAt: Date.now() - 1000 };

  beforeEach(async () => {
    services = await createTestServices();
    await services.store.save(installation, expired);
  });
  afterEach(() => services.cleanup());

  /** A refresher per simulated process, all sharing Redis; the grant is the OAuth server. */
  function refreshers(count: number, grant: RefreshGrant): TokenRefresher[] {
    return Array.from({ length: count }, () => new TokenRefresher(services.redis, services.store, services.prefix, { bitrix24: grant, amocrm: grant }, createLogger('silent')));
  }

  it('50 concurrent callers holding an expired token make exactly one refresh and all get the new pair', async () => {
    const used: string[] = [];
    const grant: RefreshGrant = async (_inst: Installation, refreshToken: string) => {
      used.push(refreshToken);
      await new Promise((r) => setTimeout(r, 30));
      return { accessToken: 'fresh-access', refreshToken: 'refresh-2', expiresAt: Date.now() + 3600_000 };
    };
    const results = await Promise.all(refreshers(50, grant).map((r) => r.refresh(installation.id, 'expired-access')));
    expect(used).toEqual(['refresh-1']);
    expect(new Set(results.map((t) => t.accessToken))).toEqual(new Set(['fresh-access']));
    expect(await services.store.tokens(installation.id)).toMatchObject({ accessToken: 'fresh-access', refreshToken: 'refresh-2' });
  });

  it('saves the new pair before anyone uses it, encrypted at rest', async () => {
    const [refresher] = refreshers(1, async () => ({ accessToken: 'fresh-access', refreshToken: 'refresh-2', expiresAt: Date.now() + 3600_000 }));
    await refresher!.refresh(installation.id, 'expired-access');
    const raw = await services.redis.hget(installationKey(services.prefix, installation.id, 'installation'), 'tokens');
    expect(raw).not.toContain('fresh-access');
    expect(raw).not.toContain('refresh-2');
  });

  it('marks the installation revoked when the CRM rejects the refresh token, and stops', async () => {
    const [refresher] = refreshers(1, async () => {
      throw new RefreshRejectedError('invalid_grant');
    });
    await expect(refresher!.refresh(installation.id, 'expired-access')).rejects.toBeInstanceOf(InstallationRevokedError);
    expect(await services.store.find(installation.id)).toMatchObject({ status: 'revoked' });
    expect(await services.store.tokens(installation.id)).toBeNull();
  });
});
