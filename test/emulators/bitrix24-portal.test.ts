/** Tests of the Bitrix24 portal emulator itself, through real HTTP (global fetch, express receiver, real jssdk). */
import type { Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { B24OAuth, EnumAppStatus } from '@bitrix24/b24jssdk';
import { Bitrix24PortalEmulator, type Bitrix24PortalOptions, ufToCamel } from './bitrix24-portal';
import { toPhpForm } from './form-encode';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed form/JSON bodies are dynamic by nature */
type Json = any;

interface Received {
  path: string;
  query: Record<string, unknown>;
  contentType: string;
  body: Json;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A tiny app stand-in: install page, event handler, failing handler — parses forms like an express app would. */
async function startReceiver(installHtml = '<script>BX24.installFinish();</script>') {
  const received: Received[] = [];
  const app = express();
  app.use(express.urlencoded({ extended: true }));
  const record = (req: express.Request): void => {
    received.push({ path: req.path, query: req.query as Record<string, unknown>, contentType: String(req.headers['content-type']), body: req.body });
  };
  app.post('/install', (req, res) => {
    record(req);
    res.type('html').send(`<html><body>${installHtml}</body></html>`);
  });
  app.post('/events', (req, res) => {
    record(req);
    res.sendStatus(200);
  });
  app.post('/broken', (req, res) => {
    record(req);
    res.sendStatus(500);
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url, received, at: (path: string) => received.filter((entry) => entry.path === path) };
}

async function startPortal(options: Partial<Bitrix24PortalOptions> = {}) {
  const portal = await Bitrix24PortalEmulator.start({ clientId: 'app.test', clientSecret: 'secret', ...options });
  cleanups.push(() => portal.stop());
  return portal;
}

/** Portal + app receiver, installed through the UI flow; returns the admin's token pair from the install form. */
async function installed(options: Partial<Bitrix24PortalOptions> = {}) {
  const portal = await startPortal(options);
  const app = await startReceiver();
  await portal.install(`${app.url}/install`);
  const form = app.at('/install')[0]?.body as Json;
  return { portal, app, token: String(form.AUTH_ID), refreshToken: String(form.REFRESH_ID) };
}

async function rest(portal: Bitrix24PortalEmulator, method: string, params: Record<string, unknown>, token?: string) {
  const response = await fetch(`${portal.url}/rest/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(token === undefined ? params : { ...params, auth: token }),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

function sdkClient(portal: Bitrix24PortalEmulator, accessToken: string, refreshToken: string) {
  return new B24OAuth(
    {
      applicationToken: portal.applicationToken,
      userId: 1,
      memberId: portal.memberId,
      accessToken,
      refreshToken,
      expires: Math.floor(Date.now() / 1000) + 3600,
      expiresIn: 3600,
      scope: 'crm',
      domain: portal.domain,
      clientEndpoint: `${portal.url}/rest/`,
      serverEndpoint: `${portal.url}/oauth/rest/`,
      status: EnumAppStatus.Local,
    },
    { clientId: 'app.test', clientSecret: 'secret' },
  );
}

describe('toPhpForm', () => {
  it('encodes like PHP http_build_query', () => {
    expect(toPhpForm({ event: 'ONCRMDEALUPDATE', data: { FIELDS: { ID: 759 } }, auth: { scope: 'crm,im', flag: true, none: null }, list: ['a b', '~'] })).toBe(
      'event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=759&auth%5Bscope%5D=crm%2Cim&auth%5Bflag%5D=1&list%5B0%5D=a+b&list%5B1%5D=%7E',
    );
  });
});

describe('user field names', () => {
  it('follows the documented camelCase conversion', () => {
    expect(ufToCamel('UF_CRM_UNIT')).toBe('ufCrmUnit');
    expect(ufToCamel('UF_CRM_3_DIGIT')).toBe('ufCrm3Digit');
    expect(ufToCamel('UF_CRM_3_1747309727')).toBe('ufCrm3_1747309727');
    expect(ufToCamel('UF_CRM_3_DIGIT10')).toBe('ufCrm_3_DIGIT10');
    expect(ufToCamel('UF_CRM_1747309879')).toBe('ufCrm_1747309879');
  });
});

describe('install / uninstall', () => {
  it('POSTs the install page like an app frame and finishes install on BX24.installFinish()', async () => {
    const portal = await startPortal();
    const app = await startReceiver();
    const result = await portal.install(`${app.url}/install`);
    expect(result.status).toBe(200);
    expect(result.body).toContain('BX24.installFinish()');
    const [page] = app.at('/install');
    expect(page?.contentType).toBe('application/x-www-form-urlencoded');
    expect(page?.query).toMatchObject({ DOMAIN: portal.domain, PROTOCOL: '0', LANG: 'ru' });
    expect(String(page?.query.APP_SID)).toMatch(/^[0-9a-f]{32}$/);
    expect(page?.body).toMatchObject({
      AUTH_EXPIRES: '3600',
      SERVER_ENDPOINT: `${portal.url}/oauth/rest/`,
      member_id: portal.memberId,
      status: 'L',
      PLACEMENT: 'DEFAULT',
      PLACEMENT_OPTIONS: '{}',
      APPLICATION_TOKEN: portal.applicationToken,
    });
    expect(page?.body.AUTH_ID).toMatch(/^[0-9a-f]{32}$/);
    expect(page?.body.REFRESH_ID).toMatch(/^[0-9a-f]{32}$/);
    expect(portal.isInstalled).toBe(true);
    const info = await rest(portal, 'app.info', {}, page?.body.AUTH_ID);
    expect(info.json.result).toMatchObject({ INSTALLED: true, STATUS: 'L' });
    const profile = await rest(portal, 'profile', {}, page?.body.AUTH_ID);
    expect(profile.json.result).toMatchObject({ ID: '1', ADMIN: true });
  });

  it('delivers no events until the installation is finished', async () => {
    const portal = await startPortal();
    const app = await startReceiver('<p>settings page without the finish call</p>');
    await portal.install(`${app.url}/install`);
    expect(portal.isInstalled).toBe(false);
    const token = String(app.at('/install')[0]?.body.AUTH_ID);
    expect((await rest(portal, 'event.bind', { event: 'ONCRMDEALADD', handler: `${app.url}/events` }, token)).json.result).toBe(true);
    expect((await rest(portal, 'app.info', {}, token)).json.result.INSTALLED).toBe(false);
    portal.userAddDeal({ title: 'before finish' });
    await portal.settle();
    expect(app.at('/events')).toHaveLength(0);
    portal.installFinish();
    portal.userAddDeal({ title: 'after finish' });
    await portal.settle();
    expect(app.at('/events')).toHaveLength(1);
  });

  it('POSTs ONAPPINSTALL for an app without UI and is installed immediately', async () => {
    const portal = await startPortal();
    const app = await startReceiver();
    const result = await portal.install(`${app.url}/events`, { ui: false });
    expect(result.status).toBe(200);
    expect(portal.isInstalled).toBe(true);
    const body = app.at('/events')[0]?.body;
    expect(body).toMatchObject({
      event: 'ONAPPINSTALL',
      data: { VERSION: '1', ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: 'ru' },
      auth: {
        expires_in: '3600',
        domain: portal.domain,
        server_endpoint: `${portal.url}/oauth/rest/`,
        client_endpoint: `${portal.url}/rest/`,
        member_id: portal.memberId,
        application_token: portal.applicationToken,
        user_id: '1',
        status: 'L',
      },
    });
    expect(body.auth.access_token).toMatch(/^[0-9a-f]{32}$/);
    expect(body.auth.refresh_token).toMatch(/^[0-9a-f]{32}$/);
    expect(body.ts).toMatch(/^\d+$/);
  });

  it('uninstall revokes tokens, notifies ONAPPUNINSTALL handlers without tokens and drops bindings', async () => {
    const { portal, app, token } = await installed();
    await rest(portal, 'event.bind', { event: 'ONAPPUNINSTALL', handler: `${app.url}/events` }, token);
    await rest(portal, 'event.bind', { event: 'ONCRMDEALADD', handler: `${app.url}/events` }, token);
    await portal.uninstall();
    const body = app.at('/events')[0]?.body;
    expect(body).toMatchObject({ event: 'ONAPPUNINSTALL', data: { LANGUAGE_ID: 'ru', CLEAN: '1' } });
    expect(Object.keys(body.auth).sort()).toEqual(['application_token', 'client_endpoint', 'domain', 'member_id', 'server_endpoint']);
    expect(portal.bindings()).toHaveLength(0);
    const after = await rest(portal, 'crm.item.list', { entityTypeId: 2 }, token);
    expect(after.status).toBe(401);
    expect(after.json.error).toBe('NO_AUTH_FOUND');
  });
});

describe('REST transport', () => {
  it('accepts JSON, form, query, .json suffix and the SDK double slash; wraps results with time', async () => {
    const { portal, token } = await installed();
    const id = portal.userAddDeal({ title: 'Квартира 5-101' });
    const viaJson = await rest(portal, 'crm.item.get', { entityTypeId: 2, id }, token);
    expect(viaJson.json.result.item.title).toBe('Квартира 5-101');
    expect(Object.keys(viaJson.json.time)).toEqual(
      expect.arrayContaining(['start', 'finish', 'duration', 'processing', 'date_start', 'date_finish', 'operating_reset_at', 'operating']),
    );
    const viaForm = await fetch(`${portal.url}/rest//crm.deal.get.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `id=${id}&auth=${token}`,
    });
    expect(((await viaForm.json()) as Json).result.TITLE).toBe('Квартира 5-101');
    const viaQuery = await fetch(`${portal.url}/rest/crm.item.list?entityTypeId=2&filter[id]=${id}&auth=${token}`);
    expect(((await viaQuery.json()) as Json).result.items).toHaveLength(1);
  });

  it('returns the documented errors', async () => {
    const { portal, token } = await installed();
    expect(await rest(portal, 'crm.item.list', { entityTypeId: 2 })).toMatchObject({ status: 401, json: { error: 'NO_AUTH_FOUND' } });
    expect(await rest(portal, 'crm.item.list', { entityTypeId: 2 }, 'garbage')).toMatchObject({ status: 401, json: { error: 'NO_AUTH_FOUND' } });
    expect(await rest(portal, 'crm.nothing.here', {}, token)).toMatchObject({ status: 404, json: { error: 'ERROR_METHOD_NOT_FOUND' } });
    expect(await rest(portal, 'crm.item.get', { entityTypeId: 2, id: 999 }, token)).toMatchObject({ status: 400, json: { error: 'NOT_FOUND' } });
    expect(await rest(portal, 'crm.deal.get', { id: 0 }, token)).toMatchObject({
      status: 400,
      json: { error: '', error_description: 'ID is not defined or invalid' },
    });
    const badStage = await rest(portal, 'crm.item.add', { entityTypeId: 2, fields: { stageId: 'NOPE' } }, token);
    expect(badStage).toMatchObject({ status: 400, json: { error: 'CRM_FIELD_ERROR_VALUE_NOT_VALID' } });
    portal.expireAccessTokens();
    expect(await rest(portal, 'profile', {}, token)).toMatchObject({
      status: 401,
      json: { error: 'expired_token', error_description: 'The access token provided has expired' },
    });
  });
});

describe('OAuth', () => {
  it('refresh tokens are single-use; client credentials are checked; GET and POST on both paths', async () => {
    const { portal, refreshToken } = await installed();
    const query = (refresh: string, secret = 'secret') =>
      `grant_type=refresh_token&client_id=app.test&client_secret=${secret}&refresh_token=${refresh}`;
    const first = await fetch(`${portal.url}/oauth/token/?${query(refreshToken)}`);
    expect(first.status).toBe(200);
    const pair = (await first.json()) as Json;
    expect(pair).toMatchObject({
      client_endpoint: `${portal.url}/rest/`,
      server_endpoint: `${portal.url}/oauth/rest/`,
      expires_in: 3600,
      member_id: portal.memberId,
      status: 'L',
      user_id: 1,
    });
    expect(Object.keys(pair).sort()).toEqual(
      ['access_token', 'client_endpoint', 'domain', 'expires', 'expires_in', 'member_id', 'refresh_token', 'scope', 'server_endpoint', 'status', 'user_id'].sort(),
    );
    const reused = await fetch(`${portal.url}/oauth/token/?${query(refreshToken)}`);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toEqual({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
    const wrongSecret = await fetch(`${portal.url}/oauth/oauth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: query(pair.refresh_token, 'nope'),
    });
    expect(((await wrongSecret.json()) as Json).error).toBe('invalid_client');
    const second = await fetch(`${portal.url}/oauth/oauth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: query(pair.refresh_token),
    });
    expect(second.status).toBe(200);
    expect(portal.stats.refreshCalls).toBe(4);
    expect(portal.stats.restCalls).toBe(0);
  });
});

describe('@bitrix24/b24jssdk B24OAuth against the emulator', () => {
  it('calls crm.item.get and batch', async () => {
    const { portal, token, refreshToken } = await installed();
    const id = portal.userAddDeal({ title: 'Сделка SDK', ufCrmUnit: 'кв. 5-101' });
    const b24 = sdkClient(portal, token, refreshToken);
    const response = await b24.actions.v2.call.make<{ item: { id: number; title: string; ufCrmUnit: string } }>({
      method: 'crm.item.get',
      params: { entityTypeId: 2, id },
    });
    expect(response.isSuccess).toBe(true);
    expect(response.getData()?.result.item).toMatchObject({ id, title: 'Сделка SDK', ufCrmUnit: 'кв. 5-101', stageId: 'NEW' });
    const batch = await b24.actions.v2.batch.make({
      calls: {
        deal: { method: 'crm.item.get', params: { entityTypeId: 2, id } },
        stages: ['crm.status.list', { filter: { ENTITY_ID: 'DEAL_STAGE' }, order: { SORT: 'ASC' } }],
      },
      options: { isHaltOnError: false },
    });
    expect(batch.isSuccess).toBe(true);
    const data = batch.getData() as Json;
    expect(data.deal.item.title).toBe('Сделка SDK');
    expect(data.stages.map((stage: Json) => stage.STATUS_ID)).toEqual([
      'NEW', 'PREPARATION', 'PREPAYMENT_INVOICE', 'EXECUTING', 'FINAL_INVOICE', 'WON', 'LOSE', 'APOLOGY',
    ]);
    expect(portal.calls.filter((call) => call.viaBatch).map((call) => call.method)).toEqual(['crm.item.get', 'crm.status.list']);
  });

  it('refreshes once on expired_token through the emulated OAuth server and retries', async () => {
    const { portal, token, refreshToken } = await installed();
    const b24 = sdkClient(portal, token, refreshToken);
    const saved: string[] = [];
    b24.setCallbackRefreshAuth(async ({ b24OAuthParams }) => {
      saved.push(b24OAuthParams.refreshToken);
    });
    portal.expireAccessTokens();
    const response = await b24.actions.v2.call.make<{ ID: string }>({ method: 'profile' });
    expect(response.isSuccess).toBe(true);
    expect(response.getData()?.result.ID).toBe('1');
    expect(portal.stats.refreshCalls).toBe(1);
    expect(saved).toHaveLength(1);
    expect(saved[0]).not.toBe(refreshToken);
    // The old refresh token was burnt by the SDK's refresh.
    const reuse = await fetch(`${portal.url}/oauth/token/?grant_type=refresh_token&client_id=app.test&client_secret=secret&refresh_token=${refreshToken}`);
    expect(reuse.status).toBe(400);
  });
});

describe('rate limit (leaky bucket per portal)', () => {
  it('default burst 50 / 2 per second: the 51st immediate request gets 503 QUERY_LIMIT_EXCEEDED', async () => {
    const frozen = Date.now(); // default bucket; a frozen clock keeps the "immediate" burst deterministic on slow CI
    const { portal, token } = await installed({ clock: () => frozen });
    const responses = await Promise.all(Array.from({ length: 51 }, () => rest(portal, 'user.current', {}, token)));
    const limited = responses.filter((response) => response.status === 503);
    expect(limited).toHaveLength(1);
    expect(limited[0]?.json).toEqual({ error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    expect(portal.stats).toMatchObject({ restCalls: 51, rateLimited: 1 });
  });

  it('drains over time; batch counts once; OAuth is not counted', async () => {
    let now = Date.now();
    const { portal, token, refreshToken } = await installed({ rateLimit: { burst: 5, drainPerSecond: 2 }, clock: () => now });
    const cmd = Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`u${index}`, 'user.current']));
    expect((await rest(portal, 'batch', { cmd }, token)).status).toBe(200);
    for (let index = 0; index < 4; index++) expect((await rest(portal, 'profile', {}, token)).status).toBe(200);
    expect((await rest(portal, 'profile', {}, token)).status).toBe(503);
    await fetch(`${portal.url}/oauth/token/?grant_type=refresh_token&client_id=app.test&client_secret=secret&refresh_token=${refreshToken}`);
    now += 1000; // drains 2
    expect((await rest(portal, 'profile', {}, token)).status).toBe(200);
    expect((await rest(portal, 'profile', {}, token)).status).toBe(200);
    expect((await rest(portal, 'profile', {}, token)).status).toBe(503);
  });
});

describe('event delivery', () => {
  it('delivers form-encoded events for user changes and for REST updates; nothing for no-op crm.item.update', async () => {
    const { portal, app, token } = await installed();
    for (const event of ['ONCRMDEALADD', 'ONCRMDEALUPDATE']) {
      expect((await rest(portal, 'event.bind', { event, handler: `${app.url}/events` }, token)).json.result).toBe(true);
    }
    const id = portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', assignedById: 2 }, 2);
    await portal.settle();
    const [added] = app.at('/events');
    expect(added?.contentType).toBe('application/x-www-form-urlencoded');
    expect(added?.body).toMatchObject({
      event: 'ONCRMDEALADD',
      data: { FIELDS: { ID: String(id) } },
      auth: {
        expires_in: '3600',
        scope: 'crm,im,user_brief,bizproc,placement',
        domain: portal.domain,
        server_endpoint: `${portal.url}/oauth/rest/`,
        status: 'L',
        client_endpoint: `${portal.url}/rest/`,
        member_id: portal.memberId,
        application_token: portal.applicationToken,
      },
    });
    expect(added?.body.event_handler_id).toMatch(/^\d+$/);
    expect(added?.body.auth.refresh_token).toBeUndefined();
    // The token in the event belongs to the acting user (user 2) and works for REST.
    expect((await rest(portal, 'user.current', {}, added?.body.auth.access_token)).json.result.ID).toBe('2');

    const update = await rest(portal, 'crm.item.update', { entityTypeId: 2, id, fields: { title: 'Переименована' } }, token);
    expect(update.json.result.item.title).toBe('Переименована');
    await portal.settle();
    expect(app.at('/events').map((entry) => entry.body.event)).toEqual(['ONCRMDEALADD', 'ONCRMDEALUPDATE']);

    const noop = await rest(portal, 'crm.item.update', { entityTypeId: 2, id, fields: { title: 'Переименована' } }, token);
    expect(noop.status).toBe(200);
    await portal.settle();
    expect(app.at('/events')).toHaveLength(2);

    portal.userMoveDeal(id, 'EXECUTING', null); // by an automation rule: no tokens in auth
    await portal.settle();
    const [, , byRobot] = app.at('/events');
    expect(byRobot?.body.auth.access_token).toBeUndefined();
    expect(byRobot?.body.auth.application_token).toBe(portal.applicationToken);
  });

  it('does not retry failed deliveries and keeps order', async () => {
    const { portal, app, token } = await installed();
    await rest(portal, 'event.bind', { event: 'ONCRMLEADADD', handler: `${app.url}/broken` }, token);
    await rest(portal, 'event.bind', { event: 'ONCRMCONTACTADD', handler: `${app.url}/events` }, token);
    const leadId = portal.userAddLead({ title: 'Лид', phones: ['+7 900 000-00-01'] });
    const contactId = portal.userAddContact({ name: 'Пётр', lastName: 'Иванов', phones: ['89000000002'] });
    await portal.settle();
    expect(portal.deliveries.map((delivery) => [delivery.event, delivery.status])).toEqual([
      ['ONCRMLEADADD', 500],
      ['ONCRMCONTACTADD', 200],
    ]);
    expect(app.at('/broken')).toHaveLength(1);
    expect(app.at('/broken')[0]?.body.data.FIELDS.ID).toBe(String(leadId));
    expect(app.at('/events')[0]?.body.data.FIELDS.ID).toBe(String(contactId));
  });

  it('rejects duplicate and unknown bindings as documented', async () => {
    const { portal, app, token } = await installed();
    const bind = () => rest(portal, 'event.bind', { event: 'onCrmDealUpdate', handler: `${app.url}/events` }, token);
    expect((await bind()).json.result).toBe(true);
    expect(await bind()).toMatchObject({ status: 400, json: { error: 'ERROR_HANDLER_ALREADY_EXIST', error_description: 'Handler already exists!' } });
    expect(await rest(portal, 'event.bind', { event: 'ONNOTHING', handler: `${app.url}/events` }, token)).toMatchObject({
      status: 400,
      json: { error: 'ERROR_EVENT_NOT_FOUND' },
    });
    expect((await rest(portal, 'event.get', {}, token)).json.result).toEqual([
      { event: 'ONCRMDEALUPDATE', handler: `${app.url}/events`, auth_type: '0', offline: 0 },
    ]);
    expect((await rest(portal, 'event.unbind', { event: 'ONCRMDEALUPDATE', handler: `${app.url}/events` }, token)).json.result).toEqual({ count: 1 });
  });
});

describe('CRM data', () => {
  it('records stage history on create and on every stage change', async () => {
    const { portal, token } = await installed();
    const id = portal.userAddDeal({ title: 'История' });
    portal.userMoveDeal(id, 'PREPARATION', 3);
    portal.userMoveDeal(id, 'WON', 3);
    const deal = portal.getDeal(id);
    expect(deal).toMatchObject({ stageId: 'WON', stageSemanticId: 'S', closed: 'Y', movedBy: 3 });
    const history = await rest(portal, 'crm.stagehistory.list', { entityTypeId: 2, order: { ID: 'DESC' }, filter: { OWNER_ID: id } }, token);
    expect(history.json.total).toBe(3);
    expect(history.json.result.items.map((row: Json) => [row.TYPE_ID, row.STAGE_ID, row.STAGE_SEMANTIC_ID, row.CATEGORY_ID])).toEqual([
      [3, 'WON', 'S', 0],
      [2, 'PREPARATION', 'P', 0],
      [1, 'NEW', 'P', 0],
    ]);
    const leadId = portal.userAddLead({ title: 'Лид', statusId: 'IN_PROCESS' });
    portal.userUpdateLead(leadId, { stageId: 'JUNK' });
    const leadHistory = await rest(portal, 'crm.stagehistory.list', { entityTypeId: 1, filter: { OWNER_ID: leadId } }, token);
    expect(leadHistory.json.result.items.map((row: Json) => [row.TYPE_ID, row.STATUS_ID, row.STATUS_SEMANTIC_ID])).toEqual([
      [1, 'IN_PROCESS', 'P'],
      [3, 'JUNK', 'F'],
    ]);
  });

  it('serves one store through crm.item.* (camelCase) and legacy methods (UPPER_CASE strings)', async () => {
    const { portal, token } = await installed();
    const contactId = portal.userAddContact({ name: 'Анна', lastName: 'Петрова', phones: ['+7 (900) 123-45-67'], emails: ['anna@example.com'] });
    const id = portal.userAddDeal({ title: 'Бронь', contactId, ufCrmUnit: 'кв. 5-101', opportunity: 5_000_000 });
    const legacy = (await rest(portal, 'crm.deal.get', { id }, token)).json.result;
    expect(legacy).toMatchObject({ ID: String(id), TITLE: 'Бронь', STAGE_ID: 'NEW', CATEGORY_ID: '0', STAGE_SEMANTIC_ID: 'P', CONTACT_ID: String(contactId), OPPORTUNITY: '5000000.00', UF_CRM_UNIT: 'кв. 5-101' });
    expect((await rest(portal, 'crm.deal.update', { id, fields: { UF_CRM_UNIT: 'кв. 5-102' } }, token)).json.result).toBe(true);
    const item = (await rest(portal, 'crm.item.get', { entityTypeId: 2, id }, token)).json.result.item;
    expect(item).toMatchObject({ id, ufCrmUnit: 'кв. 5-102', contactId, contactIds: [contactId], categoryId: 0, entityTypeId: 2 });
    const contact = (await rest(portal, 'crm.contact.get', { id: contactId }, token)).json.result;
    expect(contact.PHONE).toEqual([{ ID: expect.any(String), VALUE_TYPE: 'MOBILE', VALUE: '+7 (900) 123-45-67', TYPE_ID: 'PHONE' }]);
    await rest(portal, 'crm.contact.update', { id: contactId, fields: { PHONE: [{ VALUE: '+7 999 000-00-00', VALUE_TYPE: 'WORK' }] } }, token);
    expect(portal.getContact(contactId)?.fm.map((entry) => entry.value).sort()).toEqual(['+7 (900) 123-45-67', '+7 999 000-00-00', 'anna@example.com']);
    const fields = (await rest(portal, 'crm.item.fields', { entityTypeId: 2 }, token)).json.result.fields;
    expect(fields.ufCrmUnit).toMatchObject({ type: 'string', title: 'Объект', isDynamic: true, upperName: 'UF_CRM_UNIT' });
  });

  it('filters and pages crm.item.list (50 per page, total, next)', async () => {
    const { portal, token } = await installed();
    const ids = Array.from({ length: 55 }, (_, index) => portal.userAddDeal({ title: `Сделка ${index}`, assignedById: index % 2 === 0 ? 2 : 3 }));
    portal.userMoveDeal(ids[0] ?? 0, 'LOSE');
    const first = await rest(portal, 'crm.item.list', { entityTypeId: 2, select: ['id', 'title'] }, token);
    expect(first.json).toMatchObject({ total: 55, next: 50 });
    expect(first.json.result.items).toHaveLength(50);
    expect(Object.keys(first.json.result.items[0])).toEqual(['id', 'title']);
    const second = await rest(portal, 'crm.item.list', { entityTypeId: 2, start: 50 }, token);
    expect(second.json.result.items).toHaveLength(5);
    expect(second.json.next).toBeUndefined();
    const filtered = await rest(
      portal,
      'crm.item.list',
      { entityTypeId: 2, filter: { '@id': [ids[0], ids[1], ids[2]], '>id': ids[0], '=assignedById': 3, stageSemanticId: 'P' } },
      token,
    );
    expect(filtered.json.result.items.map((row: Json) => row.id)).toEqual([ids[1]]);
    const failed = await rest(portal, 'crm.item.list', { entityTypeId: 2, filter: { stageSemanticId: 'F' } }, token);
    expect(failed.json.result.items.map((row: Json) => row.id)).toEqual([ids[0]]);
    expect(await rest(portal, 'crm.item.list', { entityTypeId: 2, filter: { noSuchField: 1 } }, token)).toMatchObject({ status: 400 });
  });

  it('exposes funnels, stages, duplicates, comments, todos and notifications in the documented shapes', async () => {
    const { portal, token } = await installed();
    const categoryId = portal.addCategory('Вторичка');
    portal.setStages(`DEAL_STAGE_${categoryId}`, [
      { statusId: 'NEW', name: 'Новая', sort: 10 },
      { statusId: 'BOOKED', name: 'Бронь', sort: 20 },
      { statusId: 'WON', name: 'Продана', sort: 30, semantics: 'S' },
      { statusId: 'LOSE', name: 'Отказ', sort: 40, semantics: 'F' },
    ]);
    const categories = (await rest(portal, 'crm.category.list', { entityTypeId: 2 }, token)).json.result.categories;
    expect(categories).toEqual(
      expect.arrayContaining([
        { id: 0, name: 'Общая', sort: 300, entityTypeId: 2, isDefault: 'Y' },
        expect.objectContaining({ id: categoryId, name: 'Вторичка', isDefault: 'N' }),
      ]),
    );
    const stages = (await rest(portal, 'crm.status.list', { filter: { ENTITY_ID: `DEAL_STAGE_${categoryId}` } }, token)).json.result;
    expect(stages[1]).toMatchObject({ STATUS_ID: `C${categoryId}:BOOKED`, SORT: '20', SEMANTICS: null, CATEGORY_ID: String(categoryId), EXTRA: { SEMANTICS: 'process' } });
    expect(stages[3]).toMatchObject({ STATUS_ID: `C${categoryId}:LOSE`, SEMANTICS: 'F', EXTRA: { SEMANTICS: 'failure' } });
    const lead = (await rest(portal, 'crm.status.list', { filter: { ENTITY_ID: 'STATUS' } }, token)).json.result;
    expect(lead.map((row: Json) => [row.STATUS_ID, row.SEMANTICS])).toEqual([
      ['NEW', null], ['IN_PROCESS', null], ['PROCESSED', null], ['CONVERTED', 'S'], ['JUNK', 'F'],
    ]);

    expect((await rest(portal, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['+79001112233'] }, token)).json.result).toEqual([]);
    const contactId = portal.userAddContact({ name: 'Олег', phones: ['8 (900) 111-22-33'] });
    const leadId = portal.userAddLead({ title: 'Повтор', phones: ['+7 900 111 22 33'] });
    expect((await rest(portal, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['+79001112233'] }, token)).json.result).toEqual({
      LEAD: [leadId],
      CONTACT: [contactId],
    });
    expect(await rest(portal, 'crm.duplicate.findbycomm', { values: ['1'] }, token)).toMatchObject({ status: 400, json: { error: 'Communication type is not defined' } });

    const dealId = portal.userAddDeal({ title: 'С комментарием', categoryId, stageId: `C${categoryId}:BOOKED` });
    expect(portal.getDeal(dealId)).toMatchObject({ categoryId, stageId: `C${categoryId}:BOOKED` });
    const upper = await rest(portal, 'crm.timeline.comment.add', { FIELDS: { ENTITY_ID: dealId, ENTITY_TYPE: 'deal', COMMENT: 'x' } }, token);
    expect(upper.status).toBe(400);
    const commentId = (await rest(portal, 'crm.timeline.comment.add', { fields: { ENTITY_ID: dealId, ENTITY_TYPE: 'deal', COMMENT: 'Откат стадии' } }, token)).json.result;
    expect(typeof commentId).toBe('number');
    expect(portal.comments('deal', dealId)).toMatchObject([{ id: commentId, comment: 'Откат стадии', authorId: 1 }]);
    const listed = (await rest(portal, 'crm.timeline.comment.list', { filter: { ENTITY_ID: dealId, ENTITY_TYPE: 'deal' } }, token)).json;
    expect(listed.result[0]).toMatchObject({ ID: String(commentId), ENTITY_ID: String(dealId), ENTITY_TYPE: 'deal', COMMENT: 'Откат стадии', AUTHOR_ID: '1' });

    const todo = await rest(portal, 'crm.activity.todo.add', { ownerTypeId: 2, ownerId: dealId, deadline: '2030-01-01T10:00:00+03:00', title: 'Перезвонить', responsibleId: 2 }, token);
    expect(todo.json.result).toEqual({ id: expect.any(Number) });
    const notifyId = (await rest(portal, 'im.notify.system.add', { USER_ID: 2, MESSAGE: 'Бронь истекает', TAG: 'booking-1' }, token)).json.result;
    await rest(portal, 'im.notify.system.add', { USER_ID: 2, MESSAGE: 'Бронь истекает завтра', TAG: 'booking-1' }, token);
    expect(typeof notifyId).toBe('number');
    expect(portal.notifications.map((n) => n.message)).toEqual(['Бронь истекает завтра']);
    expect(await rest(portal, 'im.notify.system.add', { MESSAGE: 'x' }, token)).toMatchObject({ status: 400, json: { error: 'USER_ID_EMPTY' } });
    const users = (await rest(portal, 'user.get', { FILTER: { ID: 4, ACTIVE: true } }, token)).json.result;
    expect(users).toEqual([expect.objectContaining({ ID: '4', ACTIVE: true, NAME: 'Ольга' })]);
  });
});

describe('duplicates and CRM mode (restdocs crm/duplicates, crm-settings-mode-get)', () => {
  it('findbycomm: 20 or more of one type hide the types after it; contact types are a status directory; mergeBatch keeps the first', async () => {
    const { portal, token } = await installed();
    const leads = Array.from({ length: 20 }, (_, i) => portal.userAddLead({ title: `Лид ${i}`, phones: ['+7 900 000 00 01'] }));
    const contact = portal.userAddContact({ name: 'Олег', phones: ['89000000001'] });
    const found = (await rest(portal, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['+79000000001'] }, token)).json.result;
    expect(found).toEqual({ LEAD: leads });
    expect((await rest(portal, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['+79000000001'], entity_type: 'CONTACT' }, token)).json.result).toEqual({ CONTACT: [contact] });

    const types = (await rest(portal, 'crm.status.list', { filter: { ENTITY_ID: 'CONTACT_TYPE' } }, token)).json.result;
    expect(types.map((t: Json) => [t.STATUS_ID, t.NAME])).toEqual([['CLIENT', 'Клиенты'], ['SUPPLIER', 'Поставщики'], ['PARTNER', 'Партнеры'], ['OTHER', 'Другое']]);

    const keep = portal.userAddContact({ name: 'Иван', lastName: 'Иванов', phones: ['+7 999 123-45-67'] });
    const duplicate = portal.userAddContact({ name: 'Иван', emails: ['ivan@mail.ru'] });
    const lead = portal.userAddLead({ title: 'Заявка', contactId: duplicate } as never);
    expect(await rest(portal, 'crm.entity.mergeBatch', { params: { entityTypeId: 3, entityIds: [keep] } }, token)).toMatchObject({ status: 400 });
    const merged = (await rest(portal, 'crm.entity.mergeBatch', { params: { entityTypeId: 3, entityIds: [keep, duplicate] } }, token)).json.result;
    expect(merged).toEqual({ STATUS: 'SUCCESS', ENTITY_IDS: [duplicate] });
    expect(portal.getContact(duplicate)).toBeUndefined();
    expect(portal.getContact(keep)!.fm.map((f) => f.value)).toEqual(['+7 999 123-45-67', 'ivan@mail.ru']);
    expect(portal.getLead(lead)!.contactId).toBe(keep);

    expect((await rest(portal, 'crm.settings.mode.get', {}, token)).json.result).toBe(1);
    portal.setCrmMode(2);
    expect((await rest(portal, 'crm.settings.mode.get', {}, token)).json.result).toBe(2);
  });
});

describe('batch', () => {
  it('runs up to 50 sub-commands, reports overflow/nesting per sub-command, resolves $result references, HTTP 200', async () => {
    const { portal, token } = await installed();
    const id = portal.userAddDeal({ title: 'Для batch' });
    const cmd: Record<string, string> = {
      deal: `crm.item.get?entityTypeId=2&id=${id}`,
      legacy: 'crm.deal.get?id=$result[deal][item][id]',
      nested: 'batch?cmd[a]=profile',
    };
    for (let index = 0; Object.keys(cmd).length < 51; index++) cmd[`p${index}`] = 'profile';
    const response = await rest(portal, 'batch', { halt: 0, cmd }, token);
    expect(response.status).toBe(200);
    const { result } = response.json;
    expect(result.result.legacy.TITLE).toBe('Для batch');
    expect(result.result_error.nested).toEqual({ error: 'ERROR_BATCH_METHOD_NOT_ALLOWED', error_description: 'Method is not allowed for batch usage' });
    expect(result.result_error.p47).toEqual({ error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' });
    expect(Object.keys(result.result)).toHaveLength(49);
    expect(result.result_time.deal).toEqual(expect.objectContaining({ start: expect.any(Number), date_start: expect.any(String) }));
  });

  it('halt=1 stops at the first error; empty maps are PHP empty arrays; array cmd gives lists', async () => {
    const { portal, token } = await installed();
    const halted = (await rest(portal, 'batch', { halt: 1, cmd: { a: 'profile', b: 'crm.item.get?entityTypeId=2&id=404', c: 'profile' } }, token)).json.result;
    expect(Object.keys(halted.result)).toEqual(['a']);
    expect(Object.keys(halted.result_error)).toEqual(['b']);
    expect(halted.result_next).toEqual([]);
    const list = (await rest(portal, 'batch', { cmd: ['profile', 'user.get?FILTER[ID]=2'] }, token)).json.result;
    expect(Array.isArray(list.result)).toBe(true);
    expect(list.result[1][0].ID).toBe('2');
    expect(list.result_total).toEqual({ 1: 1 });
    expect(list.result_error).toEqual([]);
  });
});

describe('crm.item.list for catch-up: by updatedTime, key paging, order errors', () => {
  it('a nested logic OR filter means the same in a batch query string as in JSON', async () => {
    const { portal, token } = await installed();
    const ids = [1, 2, 3, 4].map((i) => portal.userAddDeal({ title: `d${i}` } as never));
    const at = portal.getDeal(ids[0]!)!.updatedTime;
    const filter = { 0: { logic: 'OR', 0: { '>updatedTime': at }, 1: { '=updatedTime': at, '>id': ids[1] } } };
    const json = await rest(portal, 'crm.item.list', { entityTypeId: 2, filter, order: { updatedTime: 'ASC', id: 'ASC' }, select: ['id'] }, token);
    expect(json.json.result.items.map((i: Json) => i.id)).toEqual(ids.slice(2));
    const query = `crm.item.list?entityTypeId=2&filter[0][logic]=OR&filter[0][0][>updatedTime]=${encodeURIComponent(at)}&filter[0][1][=updatedTime]=${encodeURIComponent(at)}&filter[0][1][>id]=${ids[1]}&select[0]=id`;
    const batch = await rest(portal, 'batch', { halt: 0, cmd: { page: query } }, token);
    expect(batch.json.result.result.page.items.map((i: Json) => i.id)).toEqual(ids.slice(2));
  });

  it('refuses an unknown order field or direction with the documented 400', async () => {
    const { portal, token } = await installed();
    expect(await rest(portal, 'crm.item.list', { entityTypeId: 2, order: { nope: 'ASC' } }, token)).toMatchObject({
      status: 400,
      json: { error: 'INVALID_ARG_VALUE', error_description: "Invalid order: field 'nope' is not allowed in order" },
    });
    expect(await rest(portal, 'crm.item.list', { entityTypeId: 2, order: { updatedTime: 'UP' } }, token)).toMatchObject({ status: 400, json: { error: 'INVALID_ARG_VALUE' } });
  });
});
