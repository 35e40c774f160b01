/**
 * The 1C-style inventory emulator over real HTTP: what the contract promises about keys,
 * idempotency, conflicts and the change feed.
 */
import { InventoryHttpEmulator } from './inventory-http-service';

describe('InventoryHttpEmulator (apps/inventory-http/openapi.yaml)', () => {
  let onec: InventoryHttpEmulator;
  beforeEach(async () => {
    onec = await InventoryHttpEmulator.start({ apiKey: 'k' });
  });
  afterEach(() => onec.stop());

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${onec.url}${path}`, { method, headers: { Authorization: 'Bearer k', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const booking = (dealId: string) => ({ dealId, expiresAt: '2026-12-03T18:00:00+03:00' });

  it('refuses a wrong key with 401 and a write without Idempotency-Key with 400', async () => {
    expect((await call('GET', '/health', undefined, { Authorization: 'Bearer x' })).status).toBe(401);
    expect((await call('POST', '/units/u1001/booking', booking('b24:1'))).status).toBe(400);
  });

  it('a repeated Idempotency-Key answers the first answer and changes nothing; reused with another body it is 422', async () => {
    const first = await call('POST', '/units/u1001/booking', booking('b24:1'), { 'Idempotency-Key': 'a' });
    expect(first.status).toBe(200);
    const version = onec.unit('u1001')!.version;
    const again = await call('POST', '/units/u1001/booking', booking('b24:1'), { 'Idempotency-Key': 'a' });
    expect(again).toEqual(first);
    expect(onec.unit('u1001')!.version).toBe(version);
    expect((await call('POST', '/units/u1001/booking', booking('b24:2'), { 'Idempotency-Key': 'a' })).status).toBe(422);
  });

  it('first deal wins; the holder may book again; only the holder releases', async () => {
    await call('POST', '/units/u1001/booking', booking('b24:1'), { 'Idempotency-Key': '1' });
    const conflict = await call('POST', '/units/u1001/booking', booking('amo:7'), { 'Idempotency-Key': '2' });
    expect(conflict).toEqual({ status: 409, body: { code: 'UNIT_ALREADY_BOOKED', message: expect.any(String), holder: { status: 'booked', dealId: 'b24:1', expiresAt: '2026-12-03T18:00:00+03:00' } } });
    expect((await call('POST', '/units/u1001/booking', { ...booking('b24:1'), expiresAt: '2026-12-05T18:00:00+03:00' }, { 'Idempotency-Key': '3' })).body.booking.expiresAt).toBe('2026-12-05T18:00:00+03:00');
    expect((await call('DELETE', '/units/u1001/booking?dealId=amo:7&reason=lost', undefined, { 'Idempotency-Key': '4' })).body.code).toBe('BOOKING_HELD_BY_OTHER_DEAL');
    expect((await call('DELETE', '/units/u1001/booking?dealId=b24:1&reason=lost', undefined, { 'Idempotency-Key': '5' })).body.status).toBe('available');
    expect((await call('DELETE', '/units/u1001/booking?dealId=b24:1&reason=lost', undefined, { 'Idempotency-Key': '6' })).status).toBe(200);
  });

  it('the change feed starts from now and pages by cursor', async () => {
    const start = await call('GET', '/changes');
    expect(start.body).toEqual({ items: [], cursor: '0' });
    await call('POST', '/units/u1002/booking', booking('b24:1'), { 'Idempotency-Key': 'x' });
    onec.setByHand('u1002', 'sold', 'amo:9');
    const page = await call('GET', `/changes?cursor=${start.body.cursor}`);
    expect(page.body.items.map((c: { to: string; dealId: string }) => [c.to, c.dealId])).toEqual([['booked', 'b24:1'], ['sold', 'amo:9']]);
    expect(page.body.cursor).toBe('2');
  });
});
