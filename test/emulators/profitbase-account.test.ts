/**
 * The Profitbase emulator over real HTTP (global fetch).
 * Functional tests switch the 1 rps limit off (`minIntervalMs: 0`); the limiter has its own test.
 */
import { ProfitbaseEmulator } from './profitbase-account';

const API_KEY = 'app-66445500837ba';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(pb: ProfitbaseEmulator, method: string, path: string, opts: { token?: string; body?: unknown; bearer?: boolean; contentType?: string } = {}) {
  const sep = path.includes('?') ? '&' : '?';
  const url = opts.token && !opts.bearer ? `${pb.url}${path}${sep}access_token=${encodeURIComponent(opts.token)}` : `${pb.url}${path}`;
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  if (opts.token && opts.bearer) headers.Authorization = `Bearer ${opts.token}`;
  const res = await fetch(url, { method, headers, body: opts.body !== undefined ? (typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)) : undefined });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, contentType: res.headers.get('content-type') ?? '' };
}

async function auth(pb: ProfitbaseEmulator): Promise<string> {
  const r = await call(pb, 'POST', '/authentication', { body: { type: 'api-app', credentials: { pb_api_key: API_KEY } } });
  expect(r.status).toBe(200);
  return r.json.access_token as string;
}

describe('ProfitbaseEmulator', () => {
  let pb: ProfitbaseEmulator;
  let token: string;
  beforeEach(async () => {
    pb = await ProfitbaseEmulator.start({ apiKey: API_KEY, minIntervalMs: 0 });
    token = await auth(pb);
  });
  afterEach(() => pb.stop());

  it('authenticates with an api-app key and returns a JWT-looking token with remaining_time', async () => {
    expect(token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const again = await call(pb, 'POST', '/authentication', { body: { type: 'api-app', credentials: { pb_api_key: API_KEY } } });
    expect(again.json.remaining_time).toBe(86400);
    const wrong = await call(pb, 'POST', '/authentication', { body: { type: 'api-app', credentials: { pb_api_key: 'nope' } } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.status).toBe('error');
  });

  it('answers 403 on a missing, invalid or expired token; accepts query and Bearer tokens', async () => {
    expect((await call(pb, 'GET', '/property')).status).toBe(403);
    expect((await call(pb, 'GET', '/property', { token: 'bogus' })).status).toBe(403);
    expect((await call(pb, 'GET', '/house', { token })).json).toMatchObject({ success: true, data: [{ title: 'ЖК Демо, корпус 1' }] });
    expect((await call(pb, 'GET', '/house', { token, bearer: true })).status).toBe(200);
    pb.expireTokens();
    const expired = await call(pb, 'GET', '/house', { token });
    expect(expired.status).toBe(403);
    expect(expired.contentType).toContain('application/json');
  });

  it('lists units with the documented envelopes and filters', async () => {
    const all = await call(pb, 'GET', '/property?houseId=99001&full=true&limit=100&offset=0', { token });
    expect(all.json.status).toBe('success');
    expect(all.json.data).toHaveLength(12);
    const u = all.json.data[0];
    expect(u).toMatchObject({ house_id: 99001, status: 'AVAILABLE', customStatusId: 123476, bookedAt: null, countDeals: 0, responsibleName: null });
    expect(u.price).toEqual({ value: expect.any(Number), pricePerMeter: expect.any(Number) });
    expect(u.custom_fields.map((f: { id: string }) => f.id)).toEqual(expect.arrayContaining(['amo_responsible_name', 'amo_contact_name']));

    pb.setUnitStatus(u.id, 'SOLD');
    const counted = await call(pb, 'GET', '/property?status[]=AVAILABLE&status[]=BOOKED&returnFilteredCount=true&limit=5', { token });
    expect(counted.json.data.properties).toHaveLength(5);
    expect(counted.json.data.filteredCount).toBe(11);
    const sold = await call(pb, 'GET', '/property?status[0]=SOLD', { token });
    expect(sold.json.data.map((x: { id: number }) => x.id)).toEqual([u.id]);
    expect((await call(pb, 'GET', `/property?id=${u.id}`, { token })).json.data[0].soldAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/));
  });

  it('changes status via status-change and rejects invalid statuses and non-JSON bodies', async () => {
    const id = pb.units()[1]?.id ?? 0;
    const ok = await call(pb, 'POST', `/properties/${id}/status-change`, { token, body: { status: 'UNAVAILABLE' } });
    expect(ok.status).toBe(200);
    expect(pb.unit(id)).toMatchObject({ status: 'UNAVAILABLE', customStatusId: 123480 });
    expect((await call(pb, 'POST', `/properties/${id}/status-change`, { token, body: { status: 'FREE' } })).status).toBe(400);
    const notJson = await call(pb, 'POST', `/properties/${id}/status-change`, { token, body: 'status=SOLD', contentType: 'application/x-www-form-urlencoded' });
    expect(notJson.status).toBe(415);
    expect((await call(pb, 'POST', '/properties/1/status-change', { token, body: { status: 'SOLD' } })).status).toBe(404);
    const cs = await call(pb, 'GET', '/custom-status/list?crm=amo', { token });
    expect(cs.json).toMatchObject({ success: true, data: { customStatuses: expect.arrayContaining([{ id: 123477, name: 'Бронь', baseStatus: 'BOOKED' }]) } });
    const hist = await call(pb, 'POST', '/history', { token, body: { offset: 0, limit: 10, property_ids: [id] } });
    expect(hist.json.data).toEqual([expect.objectContaining({ propertyId: id, oldStatus: 'AVAILABLE', newStatus: 'UNAVAILABLE' })]);
  });

  it('books a unit for a deal, rejects a second deal with property_already_in_deal, frees on remove', async () => {
    const id = pb.units()[2]?.id ?? 0;
    const add = await call(pb, 'POST', '/crm/addPropertyDeal', { token, body: { dealId: 111, propertyId: id } });
    expect(add.status).toBe(200);
    expect(pb.unit(id)).toMatchObject({ status: 'BOOKED', customStatusId: 123477, countDeals: 1 });
    expect(pb.unit(id)?.bookedAt).toEqual(expect.any(String));
    expect(pb.unit(id)?.bookedUntilDate).toMatch(/^\d{4}-\d\d-\d\d$/);
    // same deal again: idempotent
    expect((await call(pb, 'POST', '/crm/addPropertyDeal', { token, body: { dealId: 111, propertyId: id } })).status).toBe(200);

    const conflict = await call(pb, 'POST', '/crm/addPropertyDeal', { token, body: { dealId: 222, propertyId: id } });
    expect(conflict.status).toBe(409);
    expect(conflict.json).toMatchObject({ status: 'error', code: 'property_already_in_deal' });

    expect((await call(pb, 'GET', '/property/deal/111', { token })).json.data.map((u: { id: number }) => u.id)).toEqual([id]);
    expect((await call(pb, 'GET', `/crm/deals/property/${id}`, { token })).json).toEqual({ status: 'success', data: [{ dealId: 111, propertyId: id }] });
    const prolong = await call(pb, 'PATCH', '/reserve/prolong', { token, body: { propertyId: id, date: '2030-01-15 12:00' } });
    expect(prolong.status).toBe(200);
    expect(pb.unit(id)).toMatchObject({ bookedUntilDate: '2030-01-15', bookedUntilTime: '12:00' });

    const remove = await call(pb, 'POST', '/crm/removePropertyDeal', { token, body: { dealId: 111 } });
    expect(remove.status).toBe(200);
    expect(pb.unit(id)).toMatchObject({ status: 'AVAILABLE', bookedAt: null, bookedUntilDate: null });
    expect((await call(pb, 'GET', '/property/deal/111', { token })).json.data).toEqual([]);
    expect((await call(pb, 'POST', '/crm/addPropertyDeal', { token, body: { dealId: 222, propertyId: id } })).status).toBe(200);
  });
});

describe('ProfitbaseEmulator — 1 request per second', () => {
  it('answers 429 to a request within 1 s of the previous one and then blocks the IP (403 HTML)', async () => {
    const pb = await ProfitbaseEmulator.start({ apiKey: API_KEY, blockAfterViolations: 3 });
    try {
      const token = await auth(pb);
      const tooSoon = await call(pb, 'GET', '/house', { token });
      expect(tooSoon.status).toBe(429);
      await new Promise((r) => setTimeout(r, 1050));
      expect((await call(pb, 'GET', '/house', { token })).status).toBe(200);

      const burst = await Promise.all([1, 2].map(() => call(pb, 'GET', '/house', { token })));
      expect(burst.map((r) => r.status)).toEqual([429, 429]);
      expect(pb.isBlocked).toBe(true);
      await new Promise((r) => setTimeout(r, 1050));
      const blocked = await call(pb, 'GET', '/house', { token });
      expect(blocked.status).toBe(403);
      expect(blocked.contentType).toContain('text/html');
      expect(blocked.text).toContain('IP is blocked');

      pb.unblock();
      expect((await call(pb, 'GET', '/house', { token })).status).toBe(200);
      expect(pb.stats.rateLimited).toBe(3);
    } finally {
      await pb.stop();
    }
  });
});
