import { BITRIX24_ROBOTS } from '../../src/automation/bitrix24-robot-catalog';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import request from 'supertest';
import type { HostLookup } from '../../src/installations/install-targets';
import { BITRIX24_EVENTS } from '../../src/installations/bitrix24-installer';
import { createWebApp } from '../../webhooks/server';
import { Bitrix24PortalEmulator } from '../emulators/bitrix24-portal';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;
const FORM = 'application/x-www-form-urlencoded';
const MEMBER_ID = 'a223c6b3710f85df22e9377d6c4f7553';
const APP = { clientId: 'app.reglament.local', clientSecret: 'bitrix24-local-secret' };

/** DNS as the test says: name → addresses; every name asked is remembered. */
function stubDns(table: Record<string, string[]>): HostLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (hostname: string) => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { asked });
}

/** The install page POST exactly as Bitrix24 sends it (restdocs settings/oauth/simple-way.md). */
function installPage(query: { DOMAIN: string; PROTOCOL?: string }, body: Partial<Record<string, string>> = {}) {
  return {
    path: `/bitrix24/install?${new URLSearchParams({ DOMAIN: query.DOMAIN, PROTOCOL: query.PROTOCOL ?? '1', LANG: 'ru', APP_SID: 'dd8cec11e347088fe87c44870a9f1dba' })}`,
    form: new URLSearchParams({
      AUTH_ID: 'ahodg4h37n89vo17gbkgq0x1l825nnb5',
      AUTH_EXPIRES: '3600',
      REFRESH_ID: '2lg086mxijlpvwh0h7r4nl19udm4try5',
      SERVER_ENDPOINT: 'https://oauth.bitrix.info/rest/',
      APPLICATION_TOKEN: 'ec1b2074a9d3f5c81b6e40d27a95cf38',
      APPLICATION_SCOPE: 'crm,im',
      member_id: MEMBER_ID,
      status: 'P',
      PLACEMENT: 'DEFAULT',
      ...body,
    } as Record<string, string>).toString(),
  };
}

/** ONAPPINSTALL as form fields (restdocs api-reference/common/events/on-app-install.md). */
function onAppInstall(auth: Partial<Record<string, string>>): string {
  const fields: Record<string, string> = {
    event: 'ONAPPINSTALL',
    'data[VERSION]': '1',
    'data[ACTIVE]': 'Y',
    'data[INSTALLED]': 'Y',
    'data[LANGUAGE_ID]': 'ru',
    ts: '1696527000',
  };
  const values: Record<string, string> = {
    domain: 'portal.example.com',
    access_token: 's6p6eclrvim6da22ft9ch94ekreb52lv',
    refresh_token: '4s386p3q0tr8dy89xvmt96234v3dljg8',
    expires_in: '3600',
    server_endpoint: 'https://oauth.bitrix.info/rest/',
    client_endpoint: 'https://portal.example.com/rest/',
    member_id: MEMBER_ID,
    application_token: '51856fefc120afa4b628cc82d3935cce',
    user_id: '1',
    ...auth,
  } as Record<string, string>;
  for (const [k, v] of Object.entries(values)) fields[`auth[${k}]`] = v;
  return new URLSearchParams(fields).toString();
}

describe('install targets in production', () => {
  let services: TestServices;
  let app: ReturnType<typeof createWebApp>;
  const dns = stubDns({
    'portal.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'intranet.example.com': ['10.0.0.5'],
    'sneaky.example.com': ['93.184.216.34', '127.0.0.1'],
    'metadata.example.com': ['::ffff:169.254.169.254'],
    'evil.amocrm.ru': ['192.168.1.20'],
  });

  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1/);
  });
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    services = await createTestServices({ NODE_ENV: 'production', PUBLIC_URL: 'https://reglament.example.net', BITRIX24_CLIENT_ID: APP.clientId, BITRIX24_CLIENT_SECRET: APP.clientSecret });
    services.lookup = dns;
    app = createWebApp(services);
  });
  afterEach(async () => {
    nock.cleanAll();
    await services.cleanup();
  });

  const nothingStored = async () => expect(await services.store.list()).toEqual([]);

  it.each([
    ['PROTOCOL=0 (plain http)', installPage({ DOMAIN: 'portal.example.com', PROTOCOL: '0' }), /https in production/],
    ['a portal whose name resolves to a private address', installPage({ DOMAIN: 'intranet.example.com' }), /10\.0\.0\.5, a private/],
    ['a portal with one loopback address among public ones', installPage({ DOMAIN: 'sneaky.example.com' }), /127\.0\.0\.1, a loopback/],
    ['a portal resolving to the metadata address in IPv4-mapped form', installPage({ DOMAIN: 'metadata.example.com' }), /link-local/],
    ['a literal metadata address', installPage({ DOMAIN: '169.254.169.254' }), /link-local \(cloud metadata\)/],
    ['a name that does not resolve', installPage({ DOMAIN: 'nowhere.example.com' }), /does not resolve/],
    ['a DOMAIN that is not a host', installPage({ DOMAIN: 'evil.example.com/x?y=' }), /not a host name/],
    ['a DOMAIN with credentials', installPage({ DOMAIN: 'user@portal.example.com' }), /not a host name/],
    ['a forged OAuth server', installPage({ DOMAIN: 'portal.example.com' }, { SERVER_ENDPOINT: 'https://oauth.evil.example.com/rest/' }), /server_endpoint must be Bitrix24's OAuth server/],
    ['an OAuth server over http', installPage({ DOMAIN: 'portal.example.com' }, { SERVER_ENDPOINT: 'http://oauth.bitrix.info/rest/' }), /server_endpoint must be Bitrix24's OAuth server/],
  ])('the install page is refused with 400 for %s, and nothing is stored or called', async (_case, page, reason) => {
    const res = await request(app).post(page.path).type(FORM).send(page.form);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'untrusted_install_target' });
    expect(res.body.reason).toMatch(reason);
    await nothingStored();
  });

  it.each([
    ['a client_endpoint on another host than the portal', { client_endpoint: 'https://intranet.example.com/rest/' }, /client_endpoint must be <scheme>:\/\/portal\.example\.com\/rest\//],
    ['a client_endpoint over http', { client_endpoint: 'http://portal.example.com/rest/' }, /https in production/],
    ['a forged server_endpoint', { server_endpoint: 'https://127.0.0.1:8080/rest/' }, /server_endpoint must be Bitrix24's OAuth server/],
    ['a domain resolving to a private address', { domain: 'intranet.example.com', client_endpoint: 'https://intranet.example.com/rest/' }, /private/],
  ])('ONAPPINSTALL is refused with 400 for %s, and nothing is stored', async (_case, auth, reason) => {
    const res = await request(app).post('/bitrix24/install').type(FORM).send(onAppInstall(auth));
    expect(res.status).toBe(400);
    expect(res.body.reason).toMatch(reason);
    await nothingStored();
  });

  describe('a public https portal', () => {
    const portal = 'https://portal.example.com';
    /** Bitrix24's OAuth server redeems the install's refresh token and names the portal (restdocs settings/oauth/index.md). */
    const oauthServer = (answer: Record<string, unknown> = {}, status = 200) =>
      nock('https://oauth.bitrix.info')
        .post('/oauth/token/', (b) => b.grant_type === 'refresh_token' && b.refresh_token === '4s386p3q0tr8dy89xvmt96234v3dljg8' && b.client_id === APP.clientId && b.client_secret === APP.clientSecret)
        .reply(status, {
          access_token: 'fresh-access',
          client_endpoint: `${portal}/rest/`,
          domain: 'oauth.bitrix.info',
          expires: 1780319382,
          expires_in: 3600,
          member_id: MEMBER_ID,
          refresh_token: 'fresh-refresh',
          scope: 'crm,im',
          server_endpoint: 'https://oauth.bitrix.info/rest/',
          status: 'P',
          user_id: 1,
          ...answer,
        });
    const confirm = (answer: { status: number; body: unknown }) =>
      nock(portal)
        .post('/rest/batch', (b) => b.auth === 'fresh-access' && b.cmd?.app === 'app.info' && b.cmd?.profile === 'profile')
        .reply(answer.status, answer.body as nock.Body);
    const appInfo = (code: string) => ({ ID: 5, CODE: code, VERSION: 1, STATUS: 'P', INSTALLED: true, PAYMENT_EXPIRED: 'N', DAYS: null, LANGUAGE_ID: 'ru', LICENSE: 'ru_pro100', LICENSE_TYPE: 'pro100', LICENSE_FAMILY: 'pro' });
    const batch = (result: Record<string, unknown>, result_error: Record<string, unknown> | unknown[] = []) => ({ result: { result, result_error, result_total: [], result_next: [], result_time: [] }, time: {} });

    it('is installed once the OAuth server and the portal confirm it: handlers are bound to the public URL', async () => {
      const oauth = oauthServer();
      const confirmed = confirm({ status: 200, body: batch({ app: appInfo(APP.clientId), profile: { ID: '1', ADMIN: true, NAME: 'Анна', LAST_NAME: 'Админова' } }) });
      const bound: string[] = [];
      const rest = nock(portal)
        .post((p) => p.includes('event.get'))
        .query(true)
        .reply(200, { result: [], time: {} })
        .post((p) => p.includes('batch'), (b) => {
          bound.push(...Object.values(b.cmd as Record<string, string>));
          return true;
        })
        .query(true)
        .reply(200, batch({}));
      // The automation robots are registered at install too (bizproc.robot.list, then one add per robot).
      const robots = nock(portal)
        .post((p) => p.includes('bizproc.robot.list'))
        .query(true)
        .reply(200, { result: [], time: {} })
        .post((p) => p.includes('bizproc.robot.add'))
        .query(true)
        .times(BITRIX24_ROBOTS.length)
        .reply(200, { result: true, time: {} });
      // And the card tabs (placement.get, then one placement.bind per tab), at the public URL too.
      const tabs: string[] = [];
      const placements = nock(portal)
        .post((p) => p.includes('placement.get'))
        .query(true)
        .reply(200, { result: [], time: {} })
        .post((p) => p.includes('placement.bind'), (b) => {
          tabs.push(`${b.PLACEMENT} ${b.HANDLER}`);
          return true;
        })
        .query(true)
        .times(2)
        .reply(200, { result: true, time: {} });
      const res = await request(app).post('/bitrix24/install').type(FORM).send(onAppInstall({}));
      expect(res.text).toBe('{"ok":true}');
      expect(robots.isDone()).toBe(true);
      expect(placements.isDone()).toBe(true);
      expect(tabs.every((tab) => tab.endsWith(' https://reglament.example.net/apps/bitrix24/card'))).toBe(true);
      expect(res.status).toBe(200);
      expect(oauth.isDone() && confirmed.isDone() && rest.isDone()).toBe(true);
      expect(bound).toHaveLength(BITRIX24_EVENTS.length);
      expect(bound.every((cmd) => cmd.startsWith('event.bind?') && cmd.includes(encodeURIComponent('https://reglament.example.net/bitrix24/events')))).toBe(true);
      expect(await services.store.find(`b24:${MEMBER_ID}`)).toMatchObject({ status: 'active', clientEndpoint: `${portal}/rest/`, userId: '1', adminUserIds: ['1'] });
      expect(await services.store.tokens(`b24:${MEMBER_ID}`)).toMatchObject({ accessToken: 'fresh-access', refreshToken: 'fresh-refresh' });
    });

    it.each([
      ['names another portal', () => oauthServer({ member_id: 'f'.repeat(32) }), /belongs to portal f{32}, not a223c6b3/],
      ['places the portal elsewhere', () => oauthServer({ client_endpoint: 'https://other.bitrix24.ru/rest/' }), /portal is at https:\/\/other\.bitrix24\.ru\/rest\//],
      ['refuses the refresh token', () => oauthServer({ error: 'invalid_grant', error_description: 'Invalid refresh token' }, 400), /OAuth server refused the install token/],
    ])('is refused with 403 when the OAuth server %s, and the portal is never asked', async (_case, answer, reason) => {
      const oauth = answer();
      const res = await request(app).post('/bitrix24/install').type(FORM).send(onAppInstall({}));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'install_not_confirmed', reason: expect.stringMatching(reason) });
      expect(oauth.isDone()).toBe(true);
      await nothingStored();
    });

    it.each([
      ['app.info names another application', { status: 200, body: batch({ app: appInfo('vendor.other_app'), profile: { ID: '1', ADMIN: true } }) }, /names application "vendor\.other_app"/],
      ['the portal refuses the token', { status: 401, body: { error: 'invalid_token', error_description: 'The access token provided is invalid.' } }, /refused the install token/],
      ['app.info fails inside the batch', { status: 200, body: batch({ profile: { ID: '1' } }, { app: { error: 'ACCESS_DENIED', error_description: 'Application context required' } }) }, /app\.info failed: ACCESS_DENIED/],
    ])('is refused with 403 when %s, and nothing is stored or bound', async (_case, answer, reason) => {
      oauthServer();
      const confirmed = confirm(answer);
      const res = await request(app).post('/bitrix24/install').type(FORM).send(onAppInstall({}));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'install_not_confirmed' });
      expect(res.body.reason).toMatch(reason);
      expect(confirmed.isDone()).toBe(true);
      expect(nock.pendingMocks()).toEqual([]);
      await nothingStored();
    });

    it('does not follow a redirect from the portal', async () => {
      oauthServer();
      const redirect = nock(portal).post('/rest/batch').reply(302, '', { Location: 'http://169.254.169.254/latest/meta-data/' });
      const res = await request(app).post('/bitrix24/install').type(FORM).send(onAppInstall({}));
      expect(res.status).toBe(502);
      expect(redirect.isDone()).toBe(true);
      await nothingStored();
    });
  });

  it('refuses an amoCRM account host that resolves to a private address, before the code is exchanged', async () => {
    const res = await request(app).get('/amocrm/oauth/callback').query({ code: 'def50200', referer: 'evil.amocrm.ru', state: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.reason).toMatch(/192\.168\.1\.20, a private/);
    expect(dns.asked).toContain('evil.amocrm.ru');
    await nothingStored();
  });
});

describe('amoCRM install: nothing is stored before /api/v4/account confirms the account', () => {
  let services: TestServices;
  const account = 'https://acme.amocrm.ru';

  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(/127\.0\.0\.1/);
  });
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    services = await createTestServices({ AMOCRM_CLIENT_ID: 'client-uuid-1', AMOCRM_CLIENT_SECRET: 'client-secret-1' });
  });
  afterEach(async () => {
    nock.cleanAll();
    await services.cleanup();
  });

  const exchange = () =>
    nock(account)
      .post('/oauth2/access_token', (b) => b.grant_type === 'authorization_code' && b.code === 'def50200')
      .reply(200, { token_type: 'Bearer', expires_in: 86400, access_token: 'amo-access', refresh_token: 'amo-refresh' });

  it.each([
    ['the token is refused', 401, { title: 'Unauthorized', status: 401 }, /answered 401/],
    ['the answer names no account', 200, { subdomain: 'acme' }, /did not name an account/],
    ['the account id is not a number', 200, { id: '1*', subdomain: 'acme' }, /did not name an account/],
  ])('refuses with 403 when %s', async (_case, status, body, reason) => {
    exchange();
    const probe = nock(account).get('/api/v4/account').matchHeader('authorization', 'Bearer amo-access').reply(status, body);
    const res = await request(createWebApp(services)).get('/amocrm/oauth/callback').query({ code: 'def50200', referer: 'acme.amocrm.ru' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'account_not_confirmed', reason: expect.stringMatching(reason) });
    expect(probe.isDone()).toBe(true);
    expect(await services.store.list()).toEqual([]);
  });
});

describe('install targets in development', () => {
  let services: TestServices;
  let server: Server;
  let appUrl: string;
  let portal: Bitrix24PortalEmulator | undefined;

  beforeEach(async () => {
    services = await createTestServices({ NODE_ENV: 'development', BITRIX24_CLIENT_ID: APP.clientId, BITRIX24_CLIENT_SECRET: APP.clientSecret });
    server = createWebApp(services).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await portal?.stop();
    portal = undefined;
    await new Promise((r) => server.close(r));
    await services.cleanup();
  });

  it('installs the emulated portal over plain http on 127.0.0.1 (PROTOCOL=0)', async () => {
    portal = await Bitrix24PortalEmulator.start(APP);
    const res = await portal.install(`${appUrl}/bitrix24/install`);
    expect(res.status).toBe(200);
    expect(await services.store.find(`b24:${portal.memberId}`)).toMatchObject({ status: 'active', clientEndpoint: `${portal.url}/rest/` });
  });

  it("refuses the tokens of another application's install, and binds nothing", async () => {
    portal = await Bitrix24PortalEmulator.start({ ...APP, clientId: 'local.someone_else' });
    const res = await portal.install(`${appUrl}/bitrix24/install`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'install_not_confirmed', reason: expect.stringMatching(/OAuth server refused the install token: .*invalid_client/) });
    expect(portal.calls.filter((c) => c.method === 'event.bind')).toEqual([]);
    expect(await services.store.list()).toEqual([]);
  });

  it('refuses an install page whose tokens Bitrix24 does not know', async () => {
    portal = await Bitrix24PortalEmulator.start(APP);
    const page = installPage({ DOMAIN: portal.domain, PROTOCOL: '0' }, { member_id: portal.memberId, SERVER_ENDPOINT: portal.serverEndpoint });
    const res = await request(server).post(page.path).type(FORM).send(page.form);
    expect(res.status).toBe(403);
    expect(res.body.reason).toMatch(/refused the install token/);
    expect(await services.store.list()).toEqual([]);
  });
});
