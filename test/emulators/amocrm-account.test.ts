/**
 * The amoCRM account emulator, exercised over real HTTP (global fetch) and a real express
 * webhook receiver parsing bodies the way the app does (`express.urlencoded({ extended: true })`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AmoCrmAccountEmulator } from './amocrm-account';

const CLIENT_ID = '6f1c1a0e-2b2a-4a55-9d0e-3c2a1b0f9e11';
const CLIENT_SECRET = 'secret-xyz';
const REDIRECT_URI = 'http://127.0.0.1:3000/amocrm/oauth/callback';

interface Received {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  raw: string;
  contentType: string;
}

/** A tiny express app standing in for our backend: records requests, answers via `respond`. */
async function startReceiver(respond: (r: Received, n: number) => number | Promise<number> = () => 200) {
  const received: Received[] = [];
  const app = express();
  app.use(
    express.urlencoded({
      extended: true,
      verify: (req, _res, buf) => {
        (req as unknown as { raw: string }).raw = buf.toString('utf8');
      },
    }),
  );
  app.all('/{*rest}', async (req, res) => {
    const r: Received = {
      method: req.method,
      path: req.path,
      query: req.query as Record<string, unknown>,
      body: req.body,
      raw: (req as unknown as { raw?: string }).raw ?? '',
      contentType: String(req.headers['content-type'] ?? ''),
    };
    received.push(r);
    const status = await respond(r, received.length);
    res.status(status).send(status < 300 ? 'ok' : 'fail');
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function startAmo(extra: Partial<Parameters<typeof AmoCrmAccountEmulator.start>[0]> = {}) {
  return AmoCrmAccountEmulator.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, ...extra });
}

async function tokenRequest(amo: AmoCrmAccountEmulator, body: Record<string, unknown>) {
  const res = await fetch(`${amo.url}/oauth2/access_token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: REDIRECT_URI, ...body }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function getToken(amo: AmoCrmAccountEmulator): Promise<{ access_token: string; refresh_token: string }> {
  const { code } = amo.authorize();
  const r = await tokenRequest(amo, { grant_type: 'authorization_code', code });
  expect(r.status).toBe(200);
  return r.json as { access_token: string; refresh_token: string };
}

function api(amo: AmoCrmAccountEmulator, token: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${amo.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) => call('POST', path, body),
    patch: (path: string, body: unknown) => call('PATCH', path, body),
    del: (path: string, body: unknown) => call('DELETE', path, body),
  };
}

describe('AmoCrmAccountEmulator — OAuth', () => {
  let amo: AmoCrmAccountEmulator;
  beforeEach(async () => {
    amo = await startAmo();
  });
  afterEach(() => amo.stop());

  it('install GETs the redirect URI with code, referer and from_widget; the code is single-use', async () => {
    const rcv = await startReceiver();
    try {
      const ans = await amo.install(`${rcv.url}/amocrm/oauth/callback`);
      expect(ans.status).toBe(200);
      const q = rcv.received[0]?.query ?? {};
      expect(q.referer).toBe(amo.host);
      expect(q.from_widget).toBe('1');
      expect(q.code).toBe(ans.code);

      const ok = await tokenRequest(amo, { grant_type: 'authorization_code', code: q.code });
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ token_type: 'Bearer', expires_in: 86400 });
      expect(ok.json.access_token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
      const claims = JSON.parse(Buffer.from(String(ok.json.access_token).split('.')[1] ?? '', 'base64url').toString());
      expect(claims).toMatchObject({ aud: CLIENT_ID, account_id: amo.accountId });
      expect(typeof ok.json.refresh_token).toBe('string');

      const again = await tokenRequest(amo, { grant_type: 'authorization_code', code: q.code });
      expect(again.status).toBe(400);
      expect(again.json).toMatchObject({ status: 400, title: 'Некорректный запрос', type: 'https://developers.amocrm.ru/v3/errors/OAuthProblemJson' });
      expect(amo.stats.tokenExchanges).toBe(2);

      await amo.install(`${rcv.url}/cb`, { state: 'xyz' });
      expect(rcv.received[1]?.query).toMatchObject({ state: 'xyz', referer: amo.host });
      expect(rcv.received[1]?.query.from_widget).toBeUndefined();
    } finally {
      await rcv.close();
    }
  });

  it('rejects a wrong client secret or redirect_uri with 400 problem json', async () => {
    const { code } = amo.authorize();
    const badSecret = await tokenRequest(amo, { grant_type: 'authorization_code', code, client_secret: 'nope' });
    expect(badSecret.status).toBe(400);
    expect(badSecret.json.detail).toBe('В запросе отсутствует ряд параметров или параметры невалидны');
    const badRedirect = await tokenRequest(amo, { grant_type: 'authorization_code', code, redirect_uri: 'http://evil/cb' });
    expect(badRedirect.status).toBe(400);
    // the code was not consumed by the failed attempts
    expect((await tokenRequest(amo, { grant_type: 'authorization_code', code })).status).toBe(200);
  });

  it('refresh tokens are globally single-use and rotate the pair', async () => {
    const first = await getToken(amo);
    const r1 = await tokenRequest(amo, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(r1.status).toBe(200);
    expect(r1.json.refresh_token).not.toBe(first.refresh_token);

    const reuse = await tokenRequest(amo, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.json).toEqual({
      hint: 'Token has been revoked',
      title: 'Некорректный запрос',
      type: 'https://developers.amocrm.ru/v3/errors/OAuthProblemJson',
      status: 401,
      detail: 'В запросе отсутствует ряд параметров или параметры невалидны',
    });
    // old access token was revoked with its pair; the new one works
    expect((await api(amo, first.access_token).get('/api/v4/account')).status).toBe(401);
    const acc = await api(amo, String(r1.json.access_token)).get('/api/v4/account');
    expect(acc.status).toBe(200);
    expect(acc.contentType).toContain('application/hal+json');
    expect(acc.json).toMatchObject({ id: amo.accountId, subdomain: amo.subdomain, current_user_id: 1 });
    expect(amo.stats.refreshCalls).toBe(2);
  });

  it('expired access token → 401 problem json; refresh recovers', async () => {
    const t = await getToken(amo);
    amo.expireAccessTokens();
    const res = await api(amo, t.access_token).get('/api/v4/leads');
    expect(res.status).toBe(401);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.json).toMatchObject({ status: 401, title: 'Unauthorized' });
    const r = await tokenRequest(amo, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    expect((await api(amo, String(r.json.access_token)).get('/api/v4/users')).status).toBe(200);
  });

  it('disconnect revokes tokens and calls the hook with a verifiable signature', async () => {
    const t = await getToken(amo);
    const rcv = await startReceiver((r) => {
      const { account_id, client_uuid, signature } = r.query as Record<string, string>;
      const expected = createHmac('sha256', CLIENT_SECRET).update(`${client_uuid}|${account_id}`).digest('hex');
      const ok = client_uuid === CLIENT_ID && timingSafeEqual(Buffer.from(expected), Buffer.from(signature ?? ''.padEnd(64, '0')));
      return ok ? 200 : 403;
    });
    try {
      const ans = await amo.disconnect(`${rcv.url}/amocrm/disconnect`);
      expect(ans.status).toBe(200);
      expect(rcv.received[0]?.method).toBe('GET');
      expect(rcv.received[0]?.query.account_id).toBe(String(amo.accountId));
      expect((await api(amo, t.access_token).get('/api/v4/account')).status).toBe(401);
      expect((await tokenRequest(amo, { grant_type: 'refresh_token', refresh_token: t.refresh_token })).status).toBe(401);
    } finally {
      await rcv.close();
    }
  });
});

describe('AmoCrmAccountEmulator — API v4', () => {
  let amo: AmoCrmAccountEmulator;
  let a: ReturnType<typeof api>;
  beforeEach(async () => {
    amo = await startAmo({ rateLimitPerSecond: 1000 });
    a = api(amo, (await getToken(amo)).access_token);
  });
  afterEach(() => amo.stop());

  it('answers 204 with an empty body for empty lists and missing single entities', async () => {
    for (const path of ['/api/v4/leads', '/api/v4/contacts?query=79990000000', '/api/v4/tasks', '/api/v4/leads/loss_reasons', '/api/v4/events', '/api/v4/webhooks', '/api/v4/leads/123']) {
      const res = await a.get(path);
      expect([path, res.status, res.text]).toEqual([path, 204, '']);
    }
  });

  it('serves users and pipelines with 142/143 and the incoming stage in every pipeline', async () => {
    const users = await a.get('/api/v4/users');
    expect(users.json._embedded.users.map((u: { id: number }) => u.id)).toEqual([1, 2, 3, 4]);
    expect(users.json._embedded.users[0].rights.is_admin).toBe(true);
    const extra = amo.addPipeline('Вторичка', [{ name: 'Показ', sort: 20 }]);
    const res = await a.get('/api/v4/leads/pipelines');
    expect(res.json._embedded.pipelines).toHaveLength(2);
    for (const p of res.json._embedded.pipelines) {
      const statuses = p._embedded.statuses as Array<{ id: number; type: number; pipeline_id: number }>;
      expect(statuses.map((s) => s.id)).toEqual(expect.arrayContaining([142, 143]));
      expect(statuses.filter((s) => s.type === 1)).toHaveLength(1);
      expect(statuses.every((s) => s.pipeline_id === p.id)).toBe(true);
    }
    const one = await a.get(`/api/v4/leads/pipelines/${extra.id}`);
    expect(one.json._embedded.statuses.map((s: { name: string }) => s.name)).toEqual(['Неразобранное', 'Показ', 'Успешно реализовано', 'Закрыто и не реализовано']);
    expect((await a.get('/api/v4/leads/pipelines/1')).status).toBe(404);
  });

  it('creates, reads, filters and partially updates leads', async () => {
    const objectField = amo.leadFieldId('Объект');
    const created = await a.post('/api/v4/leads', [
      { name: 'Сделка 1', price: 5_000_000, custom_fields_values: [{ field_id: objectField, values: [{ value: 'кв. 5-101' }] }], request_id: 'r1' },
      { name: 'Сделка 2' },
    ]);
    expect(created.status).toBe(200);
    expect(created.json._embedded.leads[0].request_id).toBe('r1');
    const [id1, id2] = created.json._embedded.leads.map((l: { id: number }) => l.id);

    const got = await a.get(`/api/v4/leads/${id1}?with=contacts`);
    expect(got.json).toMatchObject({
      id: id1, name: 'Сделка 1', price: 5_000_000, status_id: amo.statusId('Первичный контакт'), pipeline_id: amo.mainPipeline().id,
      created_by: 1, account_id: amo.accountId, closed_at: null, _embedded: { contacts: [], tags: [] },
    });
    expect(got.json.custom_fields_values[0]).toMatchObject({ field_id: objectField, values: [{ value: 'кв. 5-101' }] });
    expect((await a.get(`/api/v4/leads/${id2}`)).json.custom_fields_values).toBeNull();

    const patch = await a.patch(`/api/v4/leads/${id2}`, { status_id: amo.statusId('Переговоры') });
    expect(patch.status).toBe(200);
    expect(patch.json.id).toBe(id2);
    const byStatus = await a.get(`/api/v4/leads?filter[statuses][0][pipeline_id]=${amo.mainPipeline().id}&filter[statuses][0][status_id]=${amo.statusId('Переговоры')}`);
    expect(byStatus.json._embedded.leads.map((l: { id: number }) => l.id)).toEqual([id2]);
    expect((await a.get(`/api/v4/leads?filter[id][]=${id1}&filter[id][]=${id2}&limit=1`)).json._links.next).toBeDefined();
    expect((await a.get('/api/v4/leads?query=5-101')).json._embedded.leads).toHaveLength(1);

    const batch = await a.patch('/api/v4/leads', [{ id: id1, name: 'Новое имя' }]);
    expect(batch.json._embedded.leads[0]).toMatchObject({ id: id1, request_id: '0' });
    expect(amo.getLead(id1)?.name).toBe('Новое имя');
    expect(amo.getLead(id1)?.price).toBe(5_000_000); // untouched
  });

  it('answers validation-errors problem json and rejects >250 items', async () => {
    const id = amo.userAddLead({ name: 'x' });
    const bad = await a.patch('/api/v4/leads', [{ id, status_id: 1 }, { id, responsible_user_id: 999 }]);
    expect(bad.status).toBe(400);
    expect(bad.contentType).toContain('application/problem+json');
    expect(bad.json).toMatchObject({ title: 'Bad Request', status: 400, detail: 'Request validation failed' });
    expect(bad.json['validation-errors']).toEqual([
      { request_id: '0', errors: [{ code: 'NotSupportedChoice', path: 'status_id', detail: expect.any(String) }] },
      { request_id: '1', errors: [{ code: 'NotSupportedChoice', path: 'responsible_user_id', detail: expect.any(String) }] },
    ]);
    const many = Array.from({ length: 251 }, () => ({ id, name: 'n' }));
    expect((await a.patch('/api/v4/leads', many)).status).toBe(400);
    const badField = await a.patch(`/api/v4/leads/${id}`, { custom_fields_values: [{ field_id: 1, values: [{ value: 'x' }] }] });
    expect(badField.json['validation-errors'][0].errors[0].path).toBe('custom_fields_values.0.field_id');
  });

  it('reads several leads by filter[id][] in one page with their contacts; a deleted lead is simply absent', async () => {
    const contactId = amo.userAddContact({ name: 'Клиент' });
    const ids = Array.from({ length: 120 }, (_, i) => amo.userAddLead({ name: `Сделка ${i}`, ...(i === 0 ? { contactId } : {}) }));
    amo.userDeleteLead(ids[1]!);
    const query = ids.map((id) => `filter[id][]=${id}`).join('&');
    const page = await a.get(`/api/v4/leads?${query}&with=contacts&limit=120`);
    expect(page.status).toBe(200);
    const leads = page.json._embedded.leads as Array<{ id: number; _embedded: { contacts: Array<{ id: number; is_main: boolean }> } }>;
    expect(leads.map((l) => l.id)).toEqual(ids.filter((id) => id !== ids[1]));
    expect(leads[0]!._embedded.contacts).toEqual([expect.objectContaining({ id: contactId, is_main: true })]);
    // Without a limit a page holds 50; above 250 the limit is 250.
    expect((await a.get(`/api/v4/leads?${query}`)).json._embedded.leads).toHaveLength(50);
    const contacts = await a.get(`/api/v4/contacts?filter[id][]=${contactId}&filter[id][]=999999`);
    expect(contacts.json._embedded.contacts.map((c: { id: number }) => c.id)).toEqual([contactId]);
    expect((await a.get('/api/v4/contacts?filter[id][]=999999')).status).toBe(204);
  });

  it('notes, tasks and links for several leads go in one array each, answered with their request_id; one bad element refuses the whole request and names it', async () => {
    const [one, two] = [amo.userAddLead({ name: 'one' }), amo.userAddLead({ name: 'two' })];
    const contactId = amo.userAddContact({ name: 'Клиент' });
    const notes = await a.post('/api/v4/leads/notes', [
      { entity_id: one, note_type: 'service_message', params: { service: 'Reglament', text: 'первая' }, request_id: 'a' },
      { entity_id: two, note_type: 'service_message', params: { service: 'Reglament', text: 'вторая' }, request_id: 'b' },
    ]);
    expect(notes.json._embedded.notes.map((n: { entity_id: number; request_id: string }) => [n.entity_id, n.request_id])).toEqual([[one, 'a'], [two, 'b']]);
    expect(amo.notes(two).map((n) => n.params.text)).toEqual(['вторая']);

    const due = Math.floor(Date.now() / 1000) + 3600;
    const badTasks = await a.post('/api/v4/tasks', [
      { text: 'ok', complete_till: due, entity_id: one, entity_type: 'leads', request_id: '0' },
      { text: 'bad', complete_till: due, entity_id: 999999, entity_type: 'leads', request_id: '1' },
    ]);
    expect(badTasks.status).toBe(400);
    expect(badTasks.json['validation-errors']).toEqual([{ request_id: '1', errors: [{ code: 'NotSupportedChoice', path: 'entity_id', detail: expect.any(String) }] }]);
    expect(amo.tasks).toHaveLength(0);
    const tasks = await a.post('/api/v4/tasks', [{ text: 'ok', complete_till: due, entity_id: one, entity_type: 'leads', request_id: '0' }]);
    expect(tasks.json._embedded.tasks[0]).toMatchObject({ id: amo.tasks[0]!.id, request_id: '0' });

    const links = await a.post('/api/v4/leads/link', [
      { entity_id: one, to_entity_id: contactId, to_entity_type: 'contacts', metadata: { is_main: true } },
      { entity_id: two, to_entity_id: contactId, to_entity_type: 'contacts' },
    ]);
    expect(links.json._embedded.links.map((l: { entity_id: number; to_entity_id: number }) => [l.entity_id, l.to_entity_id])).toEqual([[one, contactId], [two, contactId]]);
    expect(amo.getContact(contactId)?.leads.sort()).toEqual([one, two].sort());
    const many = Array.from({ length: 251 }, () => ({ entity_id: one, note_type: 'common', params: { text: 'x' } }));
    expect((await a.post('/api/v4/leads/notes', many)).json.detail).toMatch(/maximum is 250/);
  });

  it('contacts: phones as multitext, full-text query, links, notes, tasks and loss reasons', async () => {
    const contactId = amo.userAddContact({ first_name: 'Иван', last_name: 'Иванов', phones: ['+7 (999) 123-45-67'], emails: ['ivan@example.com'] });
    const found = await a.get('/api/v4/contacts?query=9991234567&with=leads');
    expect(found.json._embedded.contacts).toHaveLength(1);
    const phone = found.json._embedded.contacts[0].custom_fields_values.find((f: { field_code: string }) => f.field_code === 'PHONE');
    expect(phone.values[0]).toMatchObject({ value: '+7 (999) 123-45-67', enum_code: 'WORK' });
    expect((await a.get('/api/v4/contacts?query=89991234567')).status).toBe(204);

    const leadId = amo.userAddLead({ name: 'Лид' });
    const linked = await a.post(`/api/v4/leads/${leadId}/link`, [{ to_entity_id: contactId, to_entity_type: 'contacts', metadata: { is_main: true } }]);
    expect(linked.status).toBe(200);
    expect((await a.get(`/api/v4/leads/${leadId}/links`)).json._embedded.links[0]).toMatchObject({ to_entity_id: contactId, to_entity_type: 'contacts', metadata: { main_contact: true } });
    expect((await a.get(`/api/v4/leads/${leadId}?with=contacts`)).json._embedded.contacts).toEqual([expect.objectContaining({ id: contactId, is_main: true })]);
    expect((await a.post(`/api/v4/leads/${leadId}/unlink`, [{ to_entity_id: contactId, to_entity_type: 'contacts' }])).status).toBe(204);
    expect((await a.get(`/api/v4/leads/${leadId}/links`)).status).toBe(204);

    const note = await a.post(`/api/v4/leads/${leadId}/notes`, [{ note_type: 'service_message', params: { service: 'Регламент', text: 'Сделка возвращена' } }]);
    expect(note.status).toBe(200);
    expect(amo.notes(leadId)[0]).toMatchObject({ note_type: 'service_message', params: { service: 'Регламент' } });
    expect((await a.post('/api/v4/leads/notes', [{ entity_id: leadId, note_type: 'common', params: {} }])).status).toBe(400);
    expect((await a.get(`/api/v4/leads/${leadId}/notes`)).json._embedded.notes).toHaveLength(1);

    const noText = await a.post('/api/v4/tasks', [{ complete_till: 1_900_000_000 }]);
    expect(noText.json['validation-errors'][0].errors.map((e: { path: string }) => e.path)).toEqual(['text']);
    const task = await a.post('/api/v4/tasks', [{ text: 'Позвонить', complete_till: 1_900_000_000, entity_id: leadId, entity_type: 'leads', responsible_user_id: 2 }]);
    expect(task.status).toBe(200);
    expect((await a.get(`/api/v4/tasks?filter[entity_type]=leads&filter[entity_id][]=${leadId}&filter[is_completed]=0`)).json._embedded.tasks).toHaveLength(1);
    expect((await a.get(`/api/v4/leads/${leadId}`)).json.closest_task_at).toBe(1_900_000_000);

    const lr = await a.post('/api/v4/leads/loss_reasons', [{ name: 'Новое обращение действующего клиента' }]);
    const lossId = lr.json._embedded.loss_reasons[0].id;
    const lost = await a.patch('/api/v4/leads', [{ id: leadId, status_id: 143, loss_reason_id: lossId }]);
    expect(lost.status).toBe(200);
    expect(amo.getLead(leadId)).toMatchObject({ status_id: 143, loss_reason_id: lossId });
    expect(amo.getLead(leadId)?.closed_at).toEqual(expect.any(Number));
  });

  it('records lead_status_changed events filterable by type, entity and created_at', async () => {
    const id = amo.userAddLead({ name: 'E' });
    const from = Math.floor(Date.now() / 1000) - 1;
    amo.userMoveLead(id, amo.statusId('Переговоры'), 3);
    const res = await a.get(`/api/v4/events?filter[type]=lead_status_changed&filter[entity]=lead&filter[entity_id][]=${id}&filter[created_at][from]=${from}`);
    expect(res.status).toBe(200);
    expect(res.json._embedded.events).toHaveLength(1);
    expect(res.json._embedded.events[0]).toMatchObject({
      type: 'lead_status_changed', entity_id: id, entity_type: 'lead', created_by: 3,
      value_before: [{ lead_status: { id: amo.statusId('Первичный контакт'), pipeline_id: amo.mainPipeline().id } }],
      value_after: [{ lead_status: { id: amo.statusId('Переговоры'), pipeline_id: amo.mainPipeline().id } }],
    });
    const byStage = await a.get(`/api/v4/events?filter[value_after][leads_statuses][0][pipeline_id]=${amo.mainPipeline().id}&filter[value_after][leads_statuses][0][status_id]=${amo.statusId('Переговоры')}`);
    expect(byStage.json._embedded.events).toHaveLength(1);
  });

  it('webhooks API: admin-only subscribe, re-subscribe updates, filter and delete by destination', async () => {
    const sub = await a.post('/api/v4/webhooks', { destination: 'http://127.0.0.1:9/hook', settings: ['add_lead'], sort: 10 });
    expect(sub.status).toBe(200);
    expect(sub.json).toMatchObject({ destination: 'http://127.0.0.1:9/hook', settings: ['add_lead'], disabled: false });
    await a.post('/api/v4/webhooks', { destination: 'http://127.0.0.1:9/hook', settings: ['add_lead', 'status_lead'] });
    const list = await a.get(`/api/v4/webhooks?filter[destination]=${encodeURIComponent('http://127.0.0.1:9/hook')}`);
    expect(list.json._embedded.webhooks).toHaveLength(1);
    expect(list.json._embedded.webhooks[0].settings).toEqual(['add_lead', 'status_lead']);
    expect((await a.post('/api/v4/webhooks', { destination: 'x', settings: ['nope'] })).status).toBe(400);
    expect((await a.del('/api/v4/webhooks', { destination: 'http://127.0.0.1:9/hook' })).status).toBe(204);
    expect((await a.get('/api/v4/webhooks')).status).toBe(204);

    const { code } = amo.authorize({ userId: 2 });
    const managerToken = (await tokenRequest(amo, { grant_type: 'authorization_code', code })).json.access_token as string;
    expect((await api(amo, managerToken).post('/api/v4/webhooks', { destination: 'http://127.0.0.1:9/h', settings: ['add_lead'] })).status).toBe(403);
  });
});

describe('AmoCrmAccountEmulator — rate limit and block', () => {
  it('answers 429 with a non-JSON body above the limit and 403 nginx HTML after repeated violations', async () => {
    const amo = await startAmo({ rateLimitPerSecond: 3, blockAfter429s: 3 });
    try {
      const a = api(amo, (await getToken(amo)).access_token);
      const burst = await Promise.all(Array.from({ length: 5 }, () => a.get('/api/v4/account')));
      const statuses = burst.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const limited = burst.find((r) => r.status === 429);
      expect(() => JSON.parse(limited?.text ?? '')).toThrow();

      const more = await Promise.all(Array.from({ length: 3 }, () => a.get('/api/v4/account')));
      expect(more.map((r) => r.status)).toContain(429);
      expect(amo.isBlocked).toBe(true);
      await new Promise((r) => setTimeout(r, 1100));
      const blocked = await a.get('/api/v4/account');
      expect(blocked.status).toBe(403);
      expect(blocked.contentType).toContain('text/html');
      expect(blocked.text).toContain('<center>nginx</center>');
      // the whole account is blocked, OAuth included
      const oauthBlocked = await fetch(`${amo.url}/oauth2/access_token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(oauthBlocked.status).toBe(403);
      expect(await oauthBlocked.text()).toContain('403 Forbidden');

      amo.unblock();
      expect((await a.get('/api/v4/account')).status).toBe(200);
      expect(amo.stats.rateLimited).toBeGreaterThanOrEqual(3);
      expect(amo.stats.apiCalls).toBe(amo.calls.filter((c) => c.path.startsWith('/api/')).length);
    } finally {
      await amo.stop();
    }
  });
});

describe('AmoCrmAccountEmulator — webhook delivery', () => {
  it('delivers v2-layout form bodies, batching several events in one POST', async () => {
    const rcv = await startReceiver();
    const amo = await startAmo();
    try {
      const a = api(amo, (await getToken(amo)).access_token);
      const sub = await a.post('/api/v4/webhooks', {
        destination: `${rcv.url}/amocrm/webhook/secret`,
        settings: ['add_lead', 'update_lead', 'status_lead', 'responsible_lead', 'add_contact', 'delete_lead'],
      });
      expect(sub.status).toBe(200);

      const meeting = amo.leadFieldId('Дата встречи');
      const leadId = amo.userAddLead({ name: 'Петров', price: 100, custom_fields_values: [{ field_id: meeting, values: [{ value: 1_767_225_600 }] }] }, 2);
      await amo.settle();
      expect(rcv.received).toHaveLength(1);
      const add = rcv.received[0];
      expect(add?.contentType).toBe('application/x-www-form-urlencoded');
      expect(add?.raw).toContain('leads%5Badd%5D%5B0%5D%5Bid%5D=');
      expect(add?.body.leads.add[0]).toMatchObject({
        id: String(leadId), name: 'Петров', price: '100', status_id: String(amo.statusId('Первичный контакт')),
        responsible_user_id: '2', modified_user_id: '2', created_user_id: '2', pipeline_id: String(amo.mainPipeline().id),
        account_id: String(amo.accountId),
      });
      expect(add?.body.leads.add[0].custom_fields[0]).toEqual({ id: String(meeting), name: 'Дата встречи', values: ['1767225600'] });
      expect(add?.body.account).toEqual({ subdomain: 'reglament-demo', id: String(amo.accountId), _links: { self: amo.url } });

      // a stage move and a reassignment in the same tick arrive together
      const before = amo.statusId('Первичный контакт');
      amo.userMoveLead(leadId, amo.statusId('Переговоры'), 3);
      amo.userUpdateLead(leadId, { responsible_user_id: 4 }, 3);
      await amo.settle();
      expect(rcv.received).toHaveLength(2);
      const b = rcv.received[1]?.body;
      expect(b.leads.status[0]).toMatchObject({ id: String(leadId), old_status_id: String(before), status_id: String(amo.statusId('Переговоры')), modified_user_id: '3' });
      expect(b.leads.status[0].old_pipeline_id).toBeUndefined();
      expect(b.leads.update).toHaveLength(2);
      expect(b.leads.responsible[0]).toMatchObject({ responsible_user_id: '4', old_responsible_user_id: '2' });
      const allStrings = (v: unknown): boolean => (typeof v === 'object' && v !== null ? Object.values(v).every(allStrings) : typeof v === 'string');
      expect(allStrings(b)).toBe(true);

      // pipeline change carries old_pipeline_id
      const other = amo.addPipeline('Вторичка', [{ name: 'Показ', sort: 20 }]);
      amo.userMoveLead(leadId, other.statuses[1]?.id ?? 0, 3, other.id);
      await amo.settle();
      expect(rcv.received[2]?.body.leads.status[0]).toMatchObject({ pipeline_id: String(other.id), old_pipeline_id: String(amo.mainPipeline().id) });

      // our own API writes echo back: modified_user_id = token user, or 0 with updated_by: 0
      await a.patch(`/api/v4/leads/${leadId}`, { name: 'Переименовано' });
      await amo.settle();
      expect(rcv.received[3]?.body.leads.update[0]).toMatchObject({ name: 'Переименовано', modified_user_id: '1' });
      await a.patch('/api/v4/leads', [{ id: leadId, status_id: 143, pipeline_id: other.id, updated_by: 0 }]);
      await amo.settle();
      expect(rcv.received[4]?.body.leads.status[0]).toMatchObject({ status_id: '143', modified_user_id: '0' });

      // contacts: phones with code PHONE, enum ids
      amo.userAddContact({ name: 'Иван', phones: ['+79991234567'] });
      amo.userDeleteLead(leadId);
      await amo.settle();
      const c = rcv.received[5]?.body;
      expect(c.contacts.add[0].custom_fields[0]).toMatchObject({ code: 'PHONE', values: [{ value: '+79991234567', enum: expect.stringMatching(/^\d+$/) }] });
      expect(c.leads.delete[0]).toEqual({ id: String(leadId) });
      expect(amo.deliveries.every((d) => d.ok && d.attempt === 1)).toBe(true);
    } finally {
      await amo.stop();
      await rcv.close();
    }
  });

  it('retries failed deliveries on the configured schedule with the same body', async () => {
    const rcv = await startReceiver((_r, n) => (n <= 2 ? 500 : 200));
    const amo = await startAmo({ retryDelaysMs: [50, 100] });
    try {
      amo.addWebhook(`${rcv.url}/hook`, ['add_lead']);
      amo.userAddLead({ name: 'R' });
      await amo.settle({ includeRetries: false });
      expect(amo.deliveries.map((d) => d.status)).toEqual([500]);
      await amo.settle();
      expect(amo.deliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 500], [2, 500], [3, 200]]);
      expect(new Set(rcv.received.map((r) => r.raw)).size).toBe(1);
    } finally {
      await amo.stop();
      await rcv.close();
    }
  });

  it('only 499/5xx/timeouts earn attempts 4–5; a 404 stops after attempt 3', async () => {
    const rcv = await startReceiver(() => 404);
    const amo = await startAmo({ retryDelaysMs: [10, 10, 10, 10] });
    try {
      amo.addWebhook(`${rcv.url}/hook`, ['add_lead']);
      amo.userAddLead({ name: 'R' });
      await amo.settle();
      expect(amo.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
    } finally {
      await amo.stop();
      await rcv.close();
    }
  });

  it('a slow receiver times out (2 s in reality) and the webhook is disabled after too many invalid answers', async () => {
    const rcv = await startReceiver(async () => {
      await new Promise((r) => setTimeout(r, 300));
      return 200;
    });
    const amo = await startAmo({ retryDelaysMs: [], webhookTimeoutMs: 100, disableAfterInvalid: 2 });
    try {
      const a = api(amo, (await getToken(amo)).access_token);
      amo.addWebhook(`${rcv.url}/hook`, ['add_lead']);
      for (let i = 0; i < 3; i++) {
        amo.userAddLead({ name: `T${i}` });
        await amo.settle();
      }
      expect(amo.deliveries[0]).toMatchObject({ status: 0, error: 'timeout', ok: false });
      const hooks = await a.get('/api/v4/webhooks');
      expect(hooks.json._embedded.webhooks[0].disabled).toBe(true);
      amo.userAddLead({ name: 'after' });
      await amo.settle();
      expect(amo.deliveries).toHaveLength(3);
    } finally {
      await amo.stop();
      await rcv.close();
    }
  });
});
