import request from 'supertest';
import { SessionSigner } from '../../src/settings-access/session';
import { profitbaseConnection, setSetting } from '../helpers/inventory';
import { BITRIX24_APP, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

/**
 * Previews on the settings page, before anything is saved: the title the renamer would give a real
 * deal with the template being edited, and the inventory connection being edited, tested against the
 * emulated Profitbase account.
 */
describe('settings previews: what the renamer would write, and whether the inventory answers', () => {
  let stack: LocalStack;
  let installationId: string;
  let auth: { Authorization: string };

  beforeAll(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), profitbaseMinIntervalMs: 0 });
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    installationId = `b24:${stack.portal.memberId}`;
    auth = { Authorization: `Bearer ${new SessionSigner(BITRIX24_APP.clientSecret).issue({ installationId, userId: '1', role: 'admin' }, Date.now()).token}` };
  });
  afterAll(() => stack.stop());

  it('the previewed title is the one the renamer then writes, once the template is saved', async () => {
    const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов', phones: ['+79991234567'] });
    const dealId = stack.portal.userAddDeal({ title: 'Сделка', contactId, ufCrmUnit: 'кв. 5-101' } as never);
    await stack.idle();
    expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / Иванов Иван / кв. 5-101`);

    // The deal the renamer just acted on is offered for the preview.
    const recent = await request(stack.appUrl).get(`/api/preview/${installationId}/recent-deals`).set(auth).expect(200);
    expect(recent.body.deals[0]).toMatchObject({ id: String(dealId), entity: 'deal', title: `${dealId} / Иванов Иван / кв. 5-101` });

    const template = '{unit} — {contact} (№{id})';
    const preview = await request(stack.appUrl).post(`/api/preview/${installationId}/deal-title`).set(auth).send({ dealId: String(dealId), template }).expect(200);
    expect(preview.body).toEqual({ dealId: String(dealId), currentTitle: `${dealId} / Иванов Иван / кв. 5-101`, title: `кв. 5-101 — Иванов Иван (№${dealId})`, changes: true });
    // Nothing was saved or written by the preview.
    expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / Иванов Иван / кв. 5-101`);

    await request(stack.appUrl).patch(`/api/settings/${installationId}`).set(auth).send({ changes: [{ path: 'dealRenamer.template', value: template }] }).expect(200);
    stack.portal.userUpdateDeal(dealId, { comments: 'touch' } as never);
    await stack.idle();
    expect(stack.portal.getDeal(dealId)?.title).toBe(preview.body.title);
  });

  it('a template the renamer’s schema refuses, a malformed id and an unknown deal are answered at their paths', async () => {
    const bad = await request(stack.appUrl).post(`/api/preview/${installationId}/deal-title`).set(auth).send({ dealId: '1', template: '' }).expect(422);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'dealRenamer.template' })]);
    const calls = stack.portal.calls.length;
    const malformed = await request(stack.appUrl).post(`/api/preview/${installationId}/deal-title`).set(auth).send({ dealId: '1/../2' }).expect(400);
    expect(malformed.body.issues).toEqual([{ path: 'dealId', message: 'a deal id is a number' }]);
    expect(stack.portal.calls.length).toBe(calls);
    const missing = await request(stack.appUrl).post(`/api/preview/${installationId}/deal-title`).set(auth).send({ dealId: '999999' }).expect(404);
    expect(missing.body.issues[0].path).toBe('dealId');
  });

  it('test connection: the good key is ✓ line by line, a bad key is ✗ with a clear line', async () => {
    const good = await request(stack.appUrl).post(`/api/inventory/${installationId}/test-connection`).set(auth).send({ inventory: profitbaseConnection(stack), unit: '3' }).expect(200);
    expect(good.body.ok).toBe(true);
    expect(good.body.lines).toEqual([`  Profitbase at ${stack.pb.url}`, '✓ reachable, the API key is accepted', expect.stringMatching(/^✓ unit «3» is \d+ /)]);

    const bad = await request(stack.appUrl).post(`/api/inventory/${installationId}/test-connection`).set(auth).send({ inventory: { ...profitbaseConnection(stack), apiKey: 'app-wrong-key' } }).expect(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.lines.at(-1)).toMatch(/^✗ Profitbase refused the API key \(\d{3} .*\): check unitStatusSync.inventory.apiKey/);
  });

  it('the saved key sent back masked is the stored one; values the schema refuses are answered at their paths, unchecked', async () => {
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', profitbaseConnection(stack));
    const masked = { ...profitbaseConnection(stack), apiKey: `••••${profitbaseConnection(stack).apiKey.slice(-4)}` };
    const answer = await request(stack.appUrl).post(`/api/inventory/${installationId}/test-connection`).set(auth).send({ inventory: masked }).expect(200);
    expect(answer.body.ok).toBe(true);

    const requests = stack.pb.stats.calls;
    const refused = await request(stack.appUrl).post(`/api/inventory/${installationId}/test-connection`).set(auth).send({ inventory: { system: 'profitbase', baseUrl: 'not a url', apiKey: 'x' } }).expect(422);
    expect(refused.body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['unitStatusSync.inventory.baseUrl']));
    expect(stack.pb.stats.calls).toBe(requests);
  });

  it('another installation’s session tests nothing here', async () => {
    const other = new SessionSigner(BITRIX24_APP.clientSecret).issue({ installationId: `b24:${'c'.repeat(32)}`, userId: '1', role: 'admin' }, Date.now()).token;
    await request(stack.appUrl).post(`/api/inventory/${installationId}/test-connection`).set('Authorization', `Bearer ${other}`).send({ inventory: profitbaseConnection(stack) }).expect(403);
    await request(stack.appUrl).post(`/api/preview/${installationId}/deal-title`).set('Authorization', `Bearer ${other}`).send({ dealId: '1' }).expect(403);
    await request(stack.appUrl).get(`/api/preview/${installationId}/recent-deals`).expect(401);
  });
});
