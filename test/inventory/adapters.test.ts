/**
 * The inventory adapters at the HTTP level (nock): the exact requests Profitbase API v4 and the
 * 1C contract (apps/inventory-http/openapi.yaml) expect, and how their answers are read.
 */
import nock from 'nock';
import { HttpInventory } from '../../src/inventory/http/http-inventory';
import { InventoryConfigError } from '../../src/inventory/inventory-port';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

const PB = 'https://pb14886.profitbase.ru';
const API = '/api/v4/json';
const deal = { crm: 'bitrix24' as const, id: '759', title: '759 / Иванов / кв. 3' };
const until = new Date('2026-12-03T15:00:00.000Z'); // 18:00 in Moscow

describe('Profitbase adapter (API v4)', () => {
  let services: TestServices;
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    services = await createTestServices({ PROFITBASE_REQUESTS_PER_SECOND: '50' });
  });
  afterEach(async () => {
    nock.cleanAll();
    await services.cleanup();
  });

  const inventory = (extra: Record<string, unknown> = {}) =>
    services.inventories.connect({ system: 'profitbase', baseUrl: `${PB}${API}`, apiKey: 'app-66445500837ba', houseId: 99445, customStatuses: {}, ...extra } as never);
  const auth = () =>
    nock(PB)
      .post(`${API}/authentication`, { type: 'api-app', credentials: { pb_api_key: 'app-66445500837ba' } })
      .matchHeader('content-type', 'application/json')
      .reply(200, { access_token: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.a.b', remaining_time: 86400 });

  it('books: addPropertyDeal {dealId, propertyId}, then prolongs to the deadline in Moscow time, the token in ?access_token=', async () => {
    const scope = auth()
      .post(`${API}/crm/addPropertyDeal`, { dealId: 759, propertyId: 10301513 })
      .query({ access_token: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.a.b' })
      .reply(200, { status: 'success' })
      .patch(`${API}/reserve/prolong`, { propertyId: 10301513, date: '2026-12-03 18:00' })
      .query(true)
      .reply(200, { status: 'success' });
    expect(await inventory().book('10301513', deal, until)).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it('property_already_in_deal is a conflict naming the holding deal and until when', async () => {
    const scope = auth()
      .post(`${API}/crm/addPropertyDeal`)
      .query(true)
      .reply(400, { status: 'error', code: 'property_already_in_deal', message: 'Property 10301513 is already attached to deal 31254877' })
      .get(`${API}/property`)
      .query({ id: '10301513', full: 'true', access_token: /.+/ })
      .reply(200, { status: 'success', data: [{ id: 10301513, number: '3.1', status: 'BOOKED', houseName: 'Meltzer Hall', projectName: 'Meltzer Hall', bookedUntilDate: '2026-12-01', bookedUntilTime: '12:00' }] })
      .get(`${API}/crm/deals/property/10301513`)
      .query(true)
      .reply(200, { status: 'success', data: [{ dealId: 31254877, propertyId: 10301513 }] });
    expect(await inventory().book('10301513', deal, until)).toEqual({
      ok: false,
      conflict: { status: 'booked', heldByDeal: '31254877', bookedUntil: '2026-12-01T09:00:00.000Z' },
    });
    expect(scope.isDone()).toBe(true);
  });

  it('renews the token once on 403 and repeats the call', async () => {
    const scope = auth()
      .get(`${API}/property`)
      .query(true)
      .reply(403, { status: 'error', code: 'access_denied', message: 'Access token is invalid or expired' })
      .post(`${API}/authentication`)
      .reply(200, { access_token: 'eyJ.second.token', remaining_time: 86400 })
      .get(`${API}/property`)
      .query((q) => q.access_token === 'eyJ.second.token')
      .reply(200, { status: 'success', data: [{ id: 10301513, number: '3.1', status: 'AVAILABLE' }] });
    expect(await inventory().getUnit('10301513')).toMatchObject({ id: '10301513', number: '3.1', status: 'available' });
    expect(scope.isDone()).toBe(true);
  });

  it('a refused API key is a configuration error that says so', async () => {
    nock(PB).post(`${API}/authentication`).reply(401, { status: 'error', code: 'invalid_credentials', message: 'Invalid API key' });
    await expect(inventory().getUnit('1')).rejects.toThrow(/refused the API key/);
  });

  it('releases only a unit this deal holds (GET /property/deal/{dealId}), with removePropertyDeal {dealId}', async () => {
    const scope = auth()
      .get(`${API}/property/deal/759`)
      .query(true)
      .reply(200, { status: 'success', data: [{ id: 10301513 }] })
      .post(`${API}/crm/removePropertyDeal`, { dealId: 759 })
      .query(true)
      .reply(200, { status: 'success' })
      .get(`${API}/property/deal/759`)
      .query(true)
      .reply(200, { status: 'success', data: [] });
    const pb = inventory();
    expect(await pb.release('10301513', deal, 'lost')).toEqual({ released: true });
    expect(await pb.release('10301513', deal, 'lost')).toEqual({ released: false, why: 'not_held', heldByDeal: null });
    expect(scope.isDone()).toBe(true);
  });

  it('marks sold with status-change {status: "SOLD", customStatusId} when the account maps custom statuses', async () => {
    const scope = auth()
      .get(`${API}/property/deal/759`)
      .query(true)
      .reply(200, { status: 'success', data: [{ id: 10301513 }] })
      .post(`${API}/properties/10301513/status-change`, { status: 'SOLD', customStatusId: 123479 })
      .query(true)
      .reply(200, { status: 'success' });
    expect(await inventory({ customStatuses: { sold: 123479 } }).markSold('10301513', deal)).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it('finds «кв. 3.1» by number within the configured house, page by page', async () => {
    const scope = auth()
      .get(`${API}/property`)
      .query({ houseId: '99445', limit: '100', offset: '0', access_token: /.+/ })
      .reply(200, { status: 'success', data: [{ id: 1, number: '1.1', status: 'AVAILABLE' }, { id: 10301513, number: '3.1', status: 'AVAILABLE', houseName: 'Meltzer Hall', projectName: 'Meltzer Hall' }] });
    expect(await inventory().findUnit('кв. 3.1')).toMatchObject({ id: '10301513', house: 'Meltzer Hall', project: 'Meltzer Hall' });
    expect(scope.isDone()).toBe(true);
  });

  it('reads changes from POST /history after the cursor', async () => {
    const scope = auth()
      .post(`${API}/history`, { offset: 0, limit: 100, from: '2026-11-30 10:00:00' })
      .query(true)
      .reply(200, { status: 'success', data: [
        { id: 7, propertyId: 10301513, dealId: 31254877, oldStatus: 'AVAILABLE', newStatus: 'BOOKED', date: '2026-11-30 10:00:00' },
        { id: 8, propertyId: 10301513, dealId: 31254877, oldStatus: 'BOOKED', newStatus: 'SOLD', date: '2026-11-30 11:30:00' },
      ] });
    const page = await inventory().changesSince(JSON.stringify({ from: '2026-11-30 10:00:00', lastId: 7 }));
    expect(page.changes).toEqual([{ unitId: '10301513', from: 'booked', to: 'sold', dealId: '31254877', at: '2026-11-30T08:30:00.000Z', key: 'pb:8' }]);
    expect(JSON.parse(page.cursor)).toEqual({ from: '2026-11-30 11:30:00', lastId: 8 });
    expect(scope.isDone()).toBe(true);
  });
});

describe('1C HTTP adapter (apps/inventory-http/openapi.yaml)', () => {
  const BASE = 'https://1c.example.ru';
  const PATH = '/base/hs/reglament/v1';
  const inventory = () => new HttpInventory({ system: 'http', baseUrl: `${BASE}${PATH}`, apiKey: 'k-1', project: 'ЖК Северный' });
  const unit = { id: 'b7f3', number: '154', project: 'ЖК Северный', house: 'Корпус 1', status: 'booked', booking: { dealId: 'b24:759', expiresAt: '2026-12-03T18:00:00+03:00', paid: false }, version: 17 };
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('books with POST /units/{id}/booking, the Bearer key and an Idempotency-Key from the deal', async () => {
    const scope = nock(BASE)
      .post(`${PATH}/units/b7f3/booking`, { dealId: 'b24:759', expiresAt: '2026-12-03T15:00:00.000Z', paid: true, dealTitle: '759 / Иванов / кв. 3' })
      .matchHeader('authorization', 'Bearer k-1')
      .matchHeader('idempotency-key', `b24:759:book:b7f3:${until.getTime()}`)
      .reply(200, unit);
    expect(await inventory().book('b7f3', deal, until, { paid: true })).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it('409 is a conflict with the holding deal and until when', async () => {
    nock(BASE)
      .post(`${PATH}/units/b7f3/booking`)
      .reply(409, { code: 'UNIT_ALREADY_BOOKED', message: 'Помещение забронировано по другой сделке', holder: { status: 'booked', dealId: 'amo:31254877', expiresAt: '2026-12-01T23:59:59+03:00' } });
    expect(await inventory().book('b7f3', deal, until)).toEqual({ ok: false, conflict: { status: 'booked', heldByDeal: 'amo:31254877', bookedUntil: '2026-12-01T23:59:59+03:00' } });
  });

  it('releases with DELETE ?dealId=&reason=; a unit held by another deal is not freed', async () => {
    const scope = nock(BASE)
      .delete(`${PATH}/units/b7f3/booking`)
      .query({ dealId: 'b24:759', reason: 'expired' })
      .matchHeader('idempotency-key', 'b24:759:release:b7f3:2026-11-30T09:00:00.000Z')
      .reply(409, { code: 'BOOKING_HELD_BY_OTHER_DEAL', message: '…', holder: { status: 'booked', dealId: 'amo:1', expiresAt: null } });
    expect(await inventory().release('b7f3', deal, 'expired', { booking: '2026-11-30T09:00:00.000Z' })).toEqual({ released: false, why: 'not_held', heldByDeal: 'amo:1' });
    expect(scope.isDone()).toBe(true);
  });

  it('records the sale with POST /units/{id}/sale {dealId, stage}', async () => {
    const scope = nock(BASE).post(`${PATH}/units/b7f3/sale`, { dealId: 'b24:759', stage: 'in_execution' }).matchHeader('idempotency-key', 'b24:759:sale-in_execution:b7f3').reply(200, { ...unit, status: 'in_execution' });
    expect(await inventory().markInExecution('b7f3', deal)).toEqual({ ok: true });
    expect(scope.isDone()).toBe(true);
  });

  it('finds a unit by number within the project, and reads the change feed with its cursor', async () => {
    nock(BASE).get(`${PATH}/units`).query({ number: '154', project: 'ЖК Северный' }).reply(200, { items: [unit] });
    expect(await inventory().findUnit('№ 154')).toMatchObject({ id: 'b7f3', heldByDeal: 'b24:759', bookedUntil: '2026-12-03T18:00:00+03:00' });
    nock(BASE)
      .get(`${PATH}/changes`)
      .query({ limit: '100', cursor: '5' })
      .reply(200, { items: [{ event: 'unit.status_changed', unitId: 'b7f3', from: 'booked', to: 'sold', dealId: 'amo:2', occurredAt: '2026-11-30T10:00:00+03:00', version: 18 }], cursor: '6' })
      .get(`${PATH}/changes`)
      .query({ limit: '100', cursor: '6' })
      .reply(200, { items: [], cursor: '6' });
    expect(await inventory().changesSince('5')).toEqual({ changes: [{ unitId: 'b7f3', from: 'booked', to: 'sold', dealId: 'amo:2', at: '2026-11-30T10:00:00+03:00', key: 'b7f3:18' }], cursor: '6' });
  });

  it('a wrong key, a wrong URL and an unknown unit are told apart', async () => {
    nock(BASE).get(`${PATH}/health`).reply(401, { code: 'UNAUTHORIZED', message: 'Неверный ключ API' });
    await expect(inventory().health()).rejects.toMatchObject({ code: 'bad_key' });
    nock(BASE).get(`${PATH}/health`).reply(404, '<html>404</html>');
    await expect(inventory().health()).rejects.toMatchObject({ code: 'wrong_url' });
    nock(BASE).get(`${PATH}/units/zz`).reply(404, { code: 'UNIT_NOT_FOUND', message: 'нет' });
    expect(await inventory().getUnit('zz')).toBeNull();
    await expect(inventory().getUnit('../health')).resolves.toBeNull();
    expect(InventoryConfigError).toBeDefined();
  });
});
