import { createHmac } from 'node:crypto';
import request from 'supertest';
import { createWebApp } from '../../webhooks/server';
import { createTestServices } from '../helpers/test-services';
import { drainInbox } from '../helpers/inbox';
import { documentedAccount, documentedAmocrmInstallation, fixture, someTokens } from '../helpers/fixtures';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;
const FORM = 'application/x-www-form-urlencoded';

describe('amoCRM edge: POST /amocrm/webhook/:secret', () => {
  let services: TestServices;
  let app: ReturnType<typeof createWebApp>;
  const hookUrl = `/amocrm/webhook/${documentedAccount.webhookSecret}`;

  beforeEach(async () => {
    services = await createTestServices({ AMOCRM_CLIENT_ID: 'client-uuid-1', AMOCRM_CLIENT_SECRET: 'client-secret-1' });
    app = createWebApp(services);
    await services.store.save(documentedAmocrmInstallation(), someTokens());
  });
  afterEach(() => services.cleanup());

  // What the workers' inbox pump would have queued by now.
  const jobs = async () => {
    await drainInbox(services);
    return services.events.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  };

  it('turns the documented status_lead body into a deal.updated job carrying the stages and the name as a hint', async () => {
    const res = await request(app).post(hookUrl).type(FORM).send(fixture('amocrm/status_lead.form'));
    expect(res.status).toBe(200);
    const queued = await jobs();
    expect(queued.map((j) => j.data)).toEqual([
      expect.objectContaining({
        installationId: 'amo:17769199',
        crm: 'amocrm',
        kind: 'updated',
        entity: 'deal',
        entityId: '10701093',
        hint: { fromStageId: '20067736', toStageId: '142', modifiedBy: '2079718', title: 'Семинар: Пропитание в фитнесе на результат' },
      }),
    ]);
  });

  it('makes a job of every event in one POST', async () => {
    const res = await request(app).post(hookUrl).type(FORM).send(fixture('amocrm/several_events.form'));
    expect(res.status).toBe(200);
    expect(res.body.events).toBe(3);
    const kinds = (await jobs()).map((j) => `${j.data.entity}.${j.data.kind}:${j.data.entityId}`).sort();
    expect(kinds).toEqual(['contact.created:5551001', 'deal.created:10701100', 'deal.updated:10701093']);
  });

  it('turns a contacts[update] entry (API v2 layout, custom_fields with codes) into a contact.updated job, for the identity index', async () => {
    const body = new URLSearchParams({
      'contacts[update][0][id]': '5551001',
      'contacts[update][0][name]': 'Иванов Иван',
      'contacts[update][0][custom_fields][0][id]': '64523',
      'contacts[update][0][custom_fields][0][name]': 'Телефон',
      'contacts[update][0][custom_fields][0][code]': 'PHONE',
      'contacts[update][0][custom_fields][0][values][0][value]': '+7 916 555-44-33',
      'contacts[update][0][custom_fields][0][values][0][enum]': '122171',
      'contacts[update][0][last_modified]': '1790000000',
      'contacts[update][0][modified_user_id]': '2079718',
      'contacts[update][0][type]': 'contact',
      'account[id]': '17769199',
      'account[subdomain]': 'apfitness',
    }).toString();
    const res = await request(app).post(hookUrl).type(FORM).send(body);
    expect(res.status).toBe(200);
    expect((await jobs()).map((j) => j.data)).toEqual([expect.objectContaining({ installationId: 'amo:17769199', kind: 'updated', entity: 'contact', entityId: '5551001' })]);
  });

  it('refuses a wrong URL secret with 401 and enqueues nothing', async () => {
    const res = await request(app).post('/amocrm/webhook/not-the-secret').type(FORM).send(fixture('amocrm/status_lead.form'));
    expect(res.status).toBe(401);
    expect(await jobs()).toHaveLength(0);
  });

  it('refuses a body whose account[id] is not the installation of the secret', async () => {
    const other = fixture('amocrm/status_lead.form').replace('account%5Bid%5D=17769199', 'account%5Bid%5D=99999999');
    const res = await request(app).post(hookUrl).type(FORM).send(other);
    expect(res.status).toBe(401);
    expect(await jobs()).toHaveLength(0);
  });

  it('answers 400 with a reason for a body without account and enqueues nothing', async () => {
    const res = await request(app).post(hookUrl).type(FORM).send('leads%5Bstatus%5D%5B0%5D%5Bid%5D=1');
    expect(res.status).toBe(400);
    expect(res.body.reason).toMatch(/account/);
    expect(await jobs()).toHaveLength(0);
  });

  it('makes one job of a duplicate delivery (amoCRM retries after a slow answer)', async () => {
    await request(app).post(hookUrl).type(FORM).send(fixture('amocrm/status_lead.form'));
    await request(app).post(hookUrl).type(FORM).send(fixture('amocrm/status_lead.form'));
    expect(await jobs()).toHaveLength(1);
  });

  describe('GET /amocrm/disconnect', () => {
    const sign = (secret: string, uuid: string, account: string) => createHmac('sha256', secret).update(`${uuid}|${account}`).digest('hex');

    it('enqueues the removal when the signature is HMAC-SHA256(client_secret, "client_uuid|account_id")', async () => {
      const signature = sign('client-secret-1', 'client-uuid-1', documentedAccount.accountId);
      const res = await request(app).get('/amocrm/disconnect').query({ account_id: documentedAccount.accountId, client_uuid: 'client-uuid-1', signature });
      expect(res.status).toBe(200);
      expect((await jobs()).map((j) => j.data.entity)).toEqual(['installation']);
    });

    it('refuses a forged signature', async () => {
      const signature = sign('guessed-secret', 'client-uuid-1', documentedAccount.accountId);
      const res = await request(app).get('/amocrm/disconnect').query({ account_id: documentedAccount.accountId, client_uuid: 'client-uuid-1', signature });
      expect(res.status).toBe(401);
      expect(await jobs()).toHaveLength(0);
    });
  });
});
