import request from 'supertest';
import { SessionSigner } from '../../src/settings-access/session';
import type { AmocrmWidgetTokenVerifier } from '../../src/settings-access/amocrm-widget';
import { createWebApp } from '../../webhooks/server';
import { BITRIX24_APP, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';
import { signWidgetToken, widgetTokenClaims } from '../helpers/amocrm-widget-token';
import { ENTITY_DEAL } from '../emulators/bitrix24-portal';

/**
 * The settings page's way in and its API, against the local stack: the portal emulator POSTs the
 * frame like Bitrix24 does, the app asks the portal who that is, and only a signed session of the
 * right installation reads or changes settings.
 */
describe('settings API: only a verified administrator or head of sales of this installation configures it', () => {
  let stack: LocalStack;
  let installationId: string;

  beforeAll(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    installationId = `b24:${stack.portal.memberId}`;
  });
  afterAll(() => stack.stop());

  /** The app page as the portal opens it for `userId`: a form POST into the iframe. */
  async function openApp(userId: number, path = '/apps/bitrix24/index.html', tamper: (f: { query: Record<string, string>; form: Record<string, string> }) => void = () => {}) {
    const frame = stack.portal.appFrame(userId);
    tamper(frame);
    return request(stack.appUrl).post(`${path}?${new URLSearchParams(frame.query)}`).type('form').send(frame.form);
  }

  async function sessionOf(userId: number): Promise<string> {
    const answer = await openApp(userId, '/apps/bitrix24/settings');
    expect(answer.status).toBe(303);
    const fragment = new URLSearchParams(String(answer.headers.location).split('#')[1]);
    expect(fragment.get('installation')).toBe(installationId);
    return fragment.get('session')!;
  }

  const storedSettings = async () => (await stack.services.store.find(installationId))!.settings;
  const api = (path: string) => `/api/settings/${installationId}${path}`;

  it('the app page shows every robot on or off for this portal, and gives an administrator a way into the settings', async () => {
    const callsBefore = stack.portal.calls.length;
    const answer = await openApp(1);
    expect(answer.status).toBe(200);
    const portal = JSON.parse(/<script type="application\/json" id="reglament-portal">(.*?)<\/script>/s.exec(answer.text)![1]!);
    expect(portal.installationId).toBe(installationId);
    expect(portal.robots).toEqual(expect.arrayContaining([
      { name: 'dealRenamer', enabled: true, waitingFor: null },
      { name: 'stageGuard', enabled: true, waitingFor: 'regulation' },
      { name: 'unitStatusSync', enabled: true, waitingFor: 'inventory' },
    ]));
    expect(portal.settingsUrl).toMatch(/^\/apps\/settings\/#installation=.+&session=.+&lang=ru$/);
    // The portal was asked who the user is (one batch: profile + app.info), with that user's own token.
    const asked = stack.portal.calls.slice(callsBefore).filter((c) => c.method === 'profile' || c.method === 'app.info');
    expect(asked.map((c) => [c.method, c.userId, c.viaBatch])).toEqual([['profile', 1, true], ['app.info', 1, true]]);
  });

  it('a manager sees the overview but gets no session, and the settings entry refuses them (403)', async () => {
    const page = await openApp(2);
    expect(page.text).toContain('"settingsUrl":null');
    expect((await openApp(2, '/apps/bitrix24/settings')).status).toBe(403);
  });

  it('a head of sales listed in the installation gets in; unlisted, the same user does not', async () => {
    expect((await openApp(4, '/apps/bitrix24/settings')).status).toBe(403);
    const admin = await sessionOf(1);
    await request(stack.appUrl).patch(api('')).set('Authorization', `Bearer ${admin}`).send({ changes: [{ path: 'headsOfSales', value: ['4'] }] }).expect(200);
    const head = await sessionOf(4);
    const read = await request(stack.appUrl).get(api('')).set('Authorization', `Bearer ${head}`).expect(200);
    expect(read.body.user).toEqual({ id: '4', role: 'head_of_sales' });
  });

  it('a request naming another portal domain is refused before any call to that host', async () => {
    const before = stack.portal.calls.length;
    const answer = await openApp(1, '/apps/bitrix24/settings', (f) => void (f.query.DOMAIN = 'evil.example'));
    expect(answer.status).toBe(401);
    expect(stack.portal.calls.length).toBe(before);
  });

  it('a forged AUTH_ID is refused (the portal does not know it)', async () => {
    const answer = await openApp(1, '/apps/bitrix24/settings', (f) => void (f.form.AUTH_ID = 'f'.repeat(32)));
    expect(answer.status).toBe(401);
  });

  it('no session, a forged one, an expired one and another installation’s are refused and change nothing', async () => {
    const before = await storedSettings();
    const change = { changes: [{ path: 'takeoverTimer.timeout', value: '20m' }] };
    await request(stack.appUrl).get(api('')).expect(401);
    await request(stack.appUrl).patch(api('')).send(change).expect(401);

    const forger = new SessionSigner('not-the-app-secret');
    const forged = forger.issue({ installationId, userId: '1', role: 'admin' }, Date.now()).token;
    expect((await request(stack.appUrl).patch(api('')).set('Authorization', `Bearer ${forged}`).send(change).expect(401)).body.error).toBe('invalid_session');

    const real = new SessionSigner(BITRIX24_APP.clientSecret);
    const expired = real.issue({ installationId, userId: '1', role: 'admin' }, Date.now() - 31 * 60_000).token;
    expect((await request(stack.appUrl).patch(api('')).set('Authorization', `Bearer ${expired}`).send(change).expect(401)).body.error).toBe('session_expired');

    const otherPortal = `b24:${'a'.repeat(32)}`;
    const ofOther = real.issue({ installationId: otherPortal, userId: '1', role: 'admin' }, Date.now()).token;
    expect((await request(stack.appUrl).patch(api('')).set('Authorization', `Bearer ${ofOther}`).send(change).expect(403)).body.error).toBe('session_of_another_installation');
    // A valid session of this installation is no key to another one's settings either.
    const mine = await sessionOf(1);
    await request(stack.appUrl).get(`/api/settings/${otherPortal}`).set('Authorization', `Bearer ${mine}`).expect(403);
    await request(stack.appUrl).get(`/api/crm/${otherPortal}/funnels`).set('Authorization', `Bearer ${mine}`).expect(403);

    expect(await storedSettings()).toEqual(before);
  });

  it('saves a valid change through the same schemas, and refuses a bad one at its field in Russian (English on request), all or nothing', async () => {
    const session = await sessionOf(1);
    const auth = { Authorization: `Bearer ${session}` };
    const bad = await request(stack.appUrl).patch(api('')).set(auth).send({ changes: [{ path: 'dealRenamer.template', value: '{id} / {contact}' }, { path: 'takeoverTimer.timeout', value: '15 минут' }] }).expect(422);
    expect(bad.body.issues).toEqual([{ path: 'takeoverTimer.timeout', message: expect.stringContaining('не длительность') }]);
    expect((await storedSettings()).dealRenamer).toBeUndefined();

    const english = await request(stack.appUrl).patch(api('?lang=en')).set(auth).send({ changes: [{ path: 'takeoverTimer.maxHops', value: 'three' }] }).expect(422);
    expect(english.body.issues).toEqual([{ path: 'takeoverTimer.maxHops', message: 'Invalid input: expected number, received string' }]);

    const good = await request(stack.appUrl).patch(api('')).set(auth).send({ changes: [{ path: 'takeoverTimer.timeout', value: '20m' }, { path: 'dealRenamer.template', value: '{id} / {contact}' }] }).expect(200);
    expect(good.body.changed).toEqual(['takeoverTimer.timeout', 'dealRenamer.template']);
    expect(await storedSettings()).toMatchObject({ takeoverTimer: { timeout: '20m' }, dealRenamer: { template: '{id} / {contact}' } });
    // `null` puts a setting back to its default.
    await request(stack.appUrl).patch(api('')).set(auth).send({ changes: [{ path: 'dealRenamer.template', value: null }] }).expect(200);
    expect((await storedSettings()).dealRenamer).toEqual({});
  });

  it('a malformed save is a 400 that changes nothing; an id that is not an installation id is a 400 before any lookup', async () => {
    const before = await storedSettings();
    const auth = { Authorization: `Bearer ${await sessionOf(1)}` };
    await request(stack.appUrl).patch(api('')).set(auth).send({ changes: 'takeoverTimer.timeout=1m' }).expect(400);
    await request(stack.appUrl).patch(api('')).set(auth).send({ changes: [] }).expect(400);
    await request(stack.appUrl).get('/api/settings/b24:*').set(auth).expect(400);
    expect(await storedSettings()).toEqual(before);
  });

  it('shows secrets masked and keeps the stored secret when the page sends the mask back', async () => {
    const session = await sessionOf(1);
    const auth = { Authorization: `Bearer ${session}` };
    const inventory = { system: 'http', baseUrl: 'https://1c.example.ru/base/hs/reglament/v1', apiKey: 'key-1234567890', project: 'ЖК Северный' };
    await request(stack.appUrl).patch(api('')).set(auth).send({ changes: [{ path: 'unitStatusSync.inventory', value: inventory }] }).expect(200);
    const read = await request(stack.appUrl).get(api('')).set(auth).expect(200);
    expect(read.body.settings.unitStatusSync.inventory.apiKey).toBe('••••7890');
    expect(JSON.stringify(read.body)).not.toContain('key-1234567890');
    await request(stack.appUrl).patch(api('')).set(auth).send({ changes: [{ path: 'unitStatusSync.inventory.apiKey', value: '••••7890' }] }).expect(200);
    expect(((await storedSettings()).unitStatusSync as { inventory: { apiKey: string } }).inventory.apiKey).toBe('key-1234567890');
    await request(stack.appUrl).patch(api('')).set(auth).send({ changes: [{ path: 'unitStatusSync.inventory', value: null }] }).expect(200);
  });

  it('lists the portal’s real funnels and fields for the pickers, user fields by the titles the portal shows', async () => {
    stack.portal.addUserField(ENTITY_DEAL, { fieldName: 'UF_CRM_BOOKED_UNTIL', title: 'Бронь до', type: 'date' });
    const auth = { Authorization: `Bearer ${await sessionOf(1)}` };
    const funnels = await request(stack.appUrl).get(`/api/crm/${installationId}/funnels`).set(auth).expect(200);
    expect(funnels.body.funnels.length).toBeGreaterThan(0);
    expect(funnels.body.funnels[0].stages.length).toBeGreaterThan(0);
    const fields = await request(stack.appUrl).get(`/api/crm/${installationId}/fields?entity=deal`).set(auth).expect(200);
    expect(fields.body.fields).toEqual(expect.arrayContaining([expect.objectContaining({ title: 'Бронь до' })]));
  });

  it('lists the portal’s users by name for the user-id settings, and only with a session', async () => {
    const users = await request(stack.appUrl).get(`/api/crm/${installationId}/users`).set({ Authorization: `Bearer ${await sessionOf(1)}` }).expect(200);
    expect(users.body.users).toEqual(expect.arrayContaining([{ id: '4', name: 'Ольга Руководитель', isAdmin: false, isActive: true }]));
    await request(stack.appUrl).get(`/api/crm/${installationId}/users`).expect(401);
  });

  describe('amoCRM: the widget’s signed token, checked by the injected verifier', () => {
    let accountInstallation: string;
    beforeAll(async () => {
      await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
      accountInstallation = `amo:${stack.amo.accountId}`;
    });

    /** Stands in for the widget helper's JWT verifier: known tokens name an account and a user. */
    const verifier = (tokens: Record<string, { accountId: string; userId: string }>): AmocrmWidgetTokenVerifier => ({ verify: async (t) => tokens[t] ?? null });

    it('an account administrator gets a session for that account; a manager and an unknown token do not', async () => {
      const app = createWebApp(stack.services, {
        amocrmWidgetVerifier: verifier({ admin: { accountId: String(stack.amo.accountId), userId: '1' }, manager: { accountId: String(stack.amo.accountId), userId: '2' } }),
      });
      const granted = await request(app).post('/amocrm/widget/settings-session').send({ token: 'admin' }).expect(200);
      const read = await request(app).get(`/api/settings/${accountInstallation}`).set('Authorization', `Bearer ${granted.body.session}`).expect(200);
      expect(read.body).toMatchObject({ installationId: accountInstallation, crm: 'amocrm', user: { id: '1', role: 'admin' } });
      // An amoCRM session opens nothing on the Bitrix24 installation.
      await request(app).get(`/api/settings/${installationId}`).set('Authorization', `Bearer ${granted.body.session}`).expect(401);
      await request(app).post('/amocrm/widget/settings-session').send({ token: 'manager' }).expect(403);
      await request(app).post('/amocrm/widget/settings-session').send({ token: 'forged' }).expect(401);
    });

    it('takes the one-time token from X-Auth-Token ($authorizedAjax) cross-origin from the account’s own page only', async () => {
      const app = createWebApp(stack.services, { amocrmWidgetVerifier: verifier({ admin: { accountId: String(stack.amo.accountId), userId: '1' } }) });
      const accountOrigin = new URL(stack.amo.url).origin;
      const preflight = await request(app).options('/amocrm/widget/settings-session').set('Origin', accountOrigin).set('Access-Control-Request-Headers', 'x-auth-token').expect(204);
      expect(preflight.headers['access-control-allow-headers']).toContain('X-Auth-Token');
      await request(app).options('/amocrm/widget/settings-session').set('Origin', 'https://evil.example').expect(403);
      const granted = await request(app).post('/amocrm/widget/settings-session').set('Origin', accountOrigin).set('X-Auth-Token', 'admin').expect(200);
      expect(granted.headers['access-control-allow-origin']).toBe(accountOrigin);
      expect(granted.body.settingsUrl).toMatch(new RegExp(`^${stack.appUrl}/apps/settings/#installation=amo%3A`));
      // The same token shown from another account's page is refused.
      await request(app).post('/amocrm/widget/settings-session').set('Origin', 'https://other.amocrm.ru').set('X-Auth-Token', 'admin').expect(403);
    });

    it('without a verifier the widget gets no session at all (503), never an unchecked one', async () => {
      await request(createWebApp(stack.services, { amocrmWidgetVerifier: null })).post('/amocrm/widget/settings-session').send({ token: 'admin' }).expect(503);
    });

    it('by default amoCRM’s disposable token is checked with the integration’s secret, and opens one session once', async () => {
      const app = createWebApp(stack.services);
      const config = stack.services.config;
      const claims = (over: Record<string, unknown> = {}) => widgetTokenClaims(stack, over);
      const token = signWidgetToken(claims(), config.AMOCRM_CLIENT_SECRET);
      const granted = await request(app).post('/amocrm/widget/settings-session').set('X-Auth-Token', token).expect(200);
      await request(app).get(`/api/settings/${accountInstallation}`).set('Authorization', `Bearer ${granted.body.session}`).expect(200);
      // The same disposable token again, a token signed with another secret, another integration's token: refused.
      expect((await request(app).post('/amocrm/widget/settings-session').set('X-Auth-Token', token).expect(401)).body.error).toBe('widget_token_reused');
      await request(app).post('/amocrm/widget/settings-session').set('X-Auth-Token', signWidgetToken(claims(), 'not-the-secret')).expect(401);
      await request(app).post('/amocrm/widget/settings-session').set('X-Auth-Token', signWidgetToken(claims({ client_uuid: 'another-integration' }), config.AMOCRM_CLIENT_SECRET)).expect(401);
    });
  });
});
