import request from 'supertest';
import { secretHash } from '../../src/infra/crypto';
import type { AmocrmInstallation } from '../../src/installations/installation';
import { createWebApp } from '../../webhooks/server';
import { createTestServices } from '../helpers/test-services';
import { documentedAccount, documentedAmocrmInstallation, documentedBitrix24Installation, documentedPortal, fixture, someTokens } from '../helpers/fixtures';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;
const FORM = 'application/x-www-form-urlencoded';
const dealUpdate = () => fixture('bitrix24/ONCRMDEALUPDATE.form');
const b24Id = `b24:${documentedPortal.memberId}`;
const amoId = `amo:${documentedAccount.accountId}`;

/**
 * Two app instances (two web processes in production) share one Redis. Each caches installation
 * records at its edge; a change made through one must be refused or honoured by the other at once.
 */
describe('the edge caches installations, and a change made through another instance is seen at once', () => {
  let a: TestServices;
  let b: TestServices;
  let edgeA: ReturnType<typeof createWebApp>;
  let edgeB: ReturnType<typeof createWebApp>;

  beforeEach(async () => {
    a = await createTestServices();
    b = await createTestServices({ REDIS_PREFIX: a.prefix });
    edgeA = createWebApp(a);
    edgeB = createWebApp(b);
    await Promise.all([a.invalidations.ready(), b.invalidations.ready()]);
    await a.store.save(documentedBitrix24Installation(), someTokens());
    await a.store.save(documentedAmocrmInstallation(), someTokens());
    // Both edges have the records cached.
    for (const edge of [edgeA, edgeB]) expect((await request(edge).post('/bitrix24/events').type(FORM).send(dealUpdate())).status).toBe(200);
  });
  afterEach(async () => {
    await b.close();
    await a.cleanup();
  });

  it('answers a known portal from memory: the second event does not read the installation from Redis', async () => {
    const reads = jest.spyOn(b.store, 'find');
    const res = await request(edgeB).post('/bitrix24/events').type(FORM).send(dealUpdate());
    expect(res.status).toBe(200);
    expect(reads).not.toHaveBeenCalled();
  });

  it('refuses an uninstalled portal immediately after instance A removed it', async () => {
    await a.store.delete(b24Id);
    const res = await request(edgeB).post('/bitrix24/events').type(FORM).send(dealUpdate());
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unknown_installation');
  });

  it('refuses a revoked portal immediately after instance A marked it revoked, but still takes its uninstall', async () => {
    await a.store.markRevoked(b24Id, 'refresh token rejected');
    const res = await request(edgeB).post('/bitrix24/events').type(FORM).send(dealUpdate());
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('installation_revoked');
    const uninstall = await request(edgeB).post('/bitrix24/events').type(FORM).send(fixture('bitrix24/ONAPPUNINSTALL.form'));
    expect(uninstall.status).toBe(200);
  });

  it('after a reinstall with a new application_token, refuses the old token and accepts the new one', async () => {
    const newToken = 'c'.repeat(32);
    await a.store.save({ ...documentedBitrix24Installation(), applicationTokenHash: secretHash(newToken) }, someTokens());
    const old = await request(edgeB).post('/bitrix24/events').type(FORM).send(dealUpdate());
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_application_token');
    const fresh = await request(edgeB).post('/bitrix24/events').type(FORM).send(dealUpdate().replace(documentedPortal.applicationToken, newToken));
    expect(fresh.status).toBe(200);
  });

  it('after an amoCRM webhook secret rotation, refuses the old URL and accepts the new one', async () => {
    expect((await request(edgeB).post(`/amocrm/webhook/${documentedAccount.webhookSecret}`).type(FORM).send(fixture('amocrm/status_lead.form'))).status).toBe(200);
    await a.store.modify(amoId, (current) => ({ ...(current as AmocrmInstallation), webhookSecretHash: secretHash('rotated-secret') }));
    const old = await request(edgeB).post(`/amocrm/webhook/${documentedAccount.webhookSecret}`).type(FORM).send(fixture('amocrm/status_lead.form'));
    expect(old.status).toBe(401);
    const rotated = await request(edgeB).post('/amocrm/webhook/rotated-secret').type(FORM).send(fixture('amocrm/status_lead.form'));
    expect(rotated.status).toBe(200);
  });

  it('refuses a forged token and another tenant’s token even when the installation is cached', async () => {
    const forged = await request(edgeB).post('/bitrix24/events').type(FORM).send(dealUpdate().replace(documentedPortal.applicationToken, '0'.repeat(32)));
    expect(forged.status).toBe(401);
    const otherPortal = 'e'.repeat(32);
    await a.store.save({ ...documentedBitrix24Installation(), id: `b24:${otherPortal}`, memberId: otherPortal, applicationTokenHash: secretHash('f'.repeat(32)) }, someTokens());
    // The other portal's own token, presented under this portal's member_id.
    const crossTenant = await request(edgeB).post('/bitrix24/events').type(FORM).send(dealUpdate().replace(documentedPortal.applicationToken, 'f'.repeat(32)));
    expect(crossTenant.status).toBe(401);
  });
});
