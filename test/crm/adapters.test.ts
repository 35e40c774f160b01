import nock from 'nock';
import { BITRIX24_ARRIVAL_HEADROOM } from '../../src/crm/crm-clients';
import { CrmBlockedError, InstallationRevokedError } from '../../src/errors';
import { installationKey } from '../../src/infra/keys';
import { documentedAmocrmInstallation, documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { bitrix24Ok, BITRIX24_PORTAL, useNockedServices } from '../helpers/nocked-services';

describe('CRM adapters at the HTTP level', () => {
  const harness = useNockedServices();

  describe('Bitrix24', () => {
    const portal = BITRIX24_PORTAL;
    const installation = documentedBitrix24Installation();
    const ok = bitrix24Ok;

    beforeEach(() => harness.services.store.save(installation, someTokens()));

    it('moves a deal with crm.item.update {entityTypeId: 2, id, fields: {stageId}}', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('crm.item.update'), (body) => {
          expect(body).toEqual({ entityTypeId: 2, id: 759, fields: { stageId: 'NEW' }, auth: 'access-1' });
          return true;
        })
        .query(true)
        .reply(200, ok({ item: { id: 759 } }));
      const crm = await harness.services.clients.forInstallation(installation);
      await crm.moveDeal({ entity: 'deal', id: '759' }, 'NEW');
      expect(scope.isDone()).toBe(true);
    });

    it('writes the timeline comment with lower-case `fields` (the only form crm 23.100+ accepts)', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('crm.timeline.comment.add'), (body) => {
          expect(body.fields).toEqual({ ENTITY_ID: 759, ENTITY_TYPE: 'deal', COMMENT: 'Сделка возвращена.' });
          return true;
        })
        .query(true)
        .reply(200, ok(999));
      const crm = await harness.services.clients.forInstallation(installation);
      await crm.addComment({ entity: 'deal', id: '759' }, 'Сделка возвращена.');
      expect(scope.isDone()).toBe(true);
    });

    it('on QUERY_LIMIT_EXCEEDED fills the shared bucket, waits for it to drain, and retries', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('crm.item.update'))
        .query(true)
        .reply(503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' })
        .post((p) => p.includes('crm.item.update'))
        .query(true)
        .reply(200, ok({ item: { id: 759 } }));
      const crm = await harness.services.clients.forInstallation(installation);
      await crm.renameDeal({ entity: 'deal', id: '759' }, '759 / Иванов Иван');
      expect(scope.isDone()).toBe(true);
      // Other processes (whose bucket is the plan's 50 less the arrival headroom) now find it at its brim and wait too.
      const wait = await harness.services.limiter.tryAcquire(installationKey(harness.services.prefix, installation.id, 'rate'), { burst: 50 - BITRIX24_ARRIVAL_HEADROOM, perSecond: 2 });
      expect(wait).toBeGreaterThan(0);
    });

    it('refreshes through the OAuth server once on expired_token and retries the call with the new token', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('crm.item.update'), (body) => body.auth === 'access-1')
        .query(true)
        .reply(401, { error: 'expired_token', error_description: 'The access token provided has expired' })
        .post((p) => p.includes('crm.item.update'), (body) => body.auth === 'access-2')
        .query(true)
        .reply(200, ok({ item: { id: 759 } }));
      const oauth = nock('https://oauth.bitrix.info')
        .post('/oauth/token/', (body) => body.grant_type === 'refresh_token' && body.refresh_token === 'refresh-1' && body.client_id === 'app.1' && body.client_secret === 's3cret')
        .reply(200, { access_token: 'access-2', refresh_token: 'refresh-2', expires_in: 3600, member_id: installation.memberId });
      const crm = await harness.services.clients.forInstallation(installation);
      await crm.renameDeal({ entity: 'deal', id: '759' }, 'x');
      expect(scope.isDone() && oauth.isDone()).toBe(true);
      expect(await harness.services.store.tokens(installation.id)).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2' });
    });

    it('marks the installation revoked when the OAuth server refuses the refresh token', async () => {
      nock(portal).post((p) => p.includes('crm.item.update')).query(true).reply(401, { error: 'expired_token', error_description: 'expired' });
      nock('https://oauth.bitrix.info').post('/oauth/token/').reply(400, { error: 'invalid_grant', error_description: 'Invalid refresh token' });
      const crm = await harness.services.clients.forInstallation(installation);
      await expect(crm.renameDeal({ entity: 'deal', id: '759' }, 'x')).rejects.toBeInstanceOf(InstallationRevokedError);
      expect(await harness.services.store.find(installation.id)).toMatchObject({ status: 'revoked' });
    });
  });

  describe('amoCRM', () => {
    const installation = documentedAmocrmInstallation();
    beforeEach(() => harness.services.store.save(installation, someTokens()));

    it('renames with PATCH /api/v4/leads/{id} carrying only the name', async () => {
      const scope = nock(installation.baseUrl)
        .patch('/api/v4/leads/10701093', { name: '10701093 / Петров Пётр' })
        .matchHeader('authorization', 'Bearer access-1')
        .reply(200, { id: 10701093, updated_at: 1 });
      const crm = await harness.services.clients.forInstallation(installation);
      await crm.renameDeal({ entity: 'deal', id: '10701093' }, '10701093 / Петров Пётр');
      expect(scope.isDone()).toBe(true);
    });

    it('reads 204 No Content as "not found"', async () => {
      nock(installation.baseUrl).get('/api/v4/leads/1').query(true).reply(204);
      const crm = await harness.services.clients.forInstallation(installation);
      expect(await crm.getDeal({ entity: 'deal', id: '1' })).toBeNull();
    });

    it('a 403 block stops every call to the account: nothing more is sent until the pause ends', async () => {
      const scope = nock(installation.baseUrl).patch('/api/v4/leads/5').reply(403, '<html><body><h1>403 Forbidden</h1><hr><center>nginx</center></body></html>', { 'content-type': 'text/html' });
      const crm = await harness.services.clients.forInstallation(installation);
      await expect(crm.renameDeal({ entity: 'deal', id: '5' }, 'x')).rejects.toBeInstanceOf(CrmBlockedError);
      expect(scope.isDone()).toBe(true);
      // No interceptor is left: a request would fail with a nock error, not with CrmBlockedError.
      await expect(crm.moveDeal({ entity: 'deal', id: '5' }, '142')).rejects.toBeInstanceOf(CrmBlockedError);
      const again = await harness.services.clients.forInstallation(installation);
      await expect(again.getDeal({ entity: 'deal', id: '5' })).rejects.toBeInstanceOf(CrmBlockedError);
    });

    it('backs off a non-JSON 429 and retries', async () => {
      const scope = nock(installation.baseUrl)
        .patch('/api/v4/leads/5')
        .reply(429, 'Too Many Requests', { 'content-type': 'text/html' })
        .patch('/api/v4/leads/5')
        .reply(200, { id: 5 });
      const crm = await harness.services.clients.forInstallation(installation);
      await crm.renameDeal({ entity: 'deal', id: '5' }, 'x');
      expect(scope.isDone()).toBe(true);
    });
  });
});
