/**
 * Robots 5 and 6 end to end on amoCRM with a 1C-style inventory service (the OpenAPI contract of
 * apps/inventory-http/openapi.yaml on its emulator): booking, conflicts, expiry, extension by the
 * head of sales, signed push callbacks.
 */
import { createHmac } from 'node:crypto';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupAmoSalesPipeline } from '../helpers/funnels';
import { onecConnection, setSetting } from '../helpers/inventory';
import { ONEC_CALLBACK_SECRET, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

const MANAGER = 2;
const OTHER_MANAGER = 3;
const HEAD_OF_SALES = 4;

describe('booking and unit statuses on amoCRM with a 1C inventory service', () => {
  let stack: LocalStack;
  let installationId: string;
  let stage: (name: string) => number;
  let pipelineId: number;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    ({ stage, pipelineId } = setupAmoSalesPipeline(stack.amo));
    stack.amo.addLeadCustomField({ name: 'Бронь до', type: 'date' });
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    installationId = (await stack.services.store.list())[0]!.id;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-sales-004', overrides: { settings: { headOfSalesUserIds: [HEAD_OF_SALES] } } }])).toMatchObject({ ok: true });
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', onecConnection(stack, { callbacks: true }));
    stack.onec.callbackUrl = `${stack.appUrl}/inventory/callbacks/${installationId}`;
  });
  afterEach(() => stack.stop());

  const unitField = (value: string) => [{ field_id: stack.amo.leadFieldId('Объект'), values: [{ value }] }];
  const notes = (id: number) => stack.amo.notes(id).map((n) => String((n.params as { text?: string } | undefined)?.text ?? ''));
  const tasksFor = (userId: number) => stack.amo.tasks.filter((t) => t.responsible_user_id === userId).map((t) => t.text);
  const statusOf = (id: number) => stack.amo.getLead(id)?.status_id;
  const writes = (method: string) => stack.onec.calls.filter((c) => c.method === method && c.path.includes('/units/'));

  async function lead(unit: string, by = MANAGER): Promise<number> {
    const id = stack.amo.userAddLead({ name: `Покупатель / ${unit}`, pipeline_id: pipelineId, status_id: stage('Встреча состоялась'), responsible_user_id: by, custom_fields_values: unitField(unit) }, by);
    await stack.idle();
    return id;
  }
  async function move(id: number, to: string | number, by = MANAGER) {
    stack.amo.userMoveLead(id, typeof to === 'number' ? to : stage(to), by);
    await stack.idle();
  }

  it('«Бронь» books the flat in 1C with an Idempotency-Key from the deal, and contract → won make it in execution → sold', async () => {
    const id = await lead('5-103');
    await move(id, 'Бронь');
    const unit = stack.onec.unit('5-103')!;
    expect(unit).toMatchObject({ status: 'booked', booking: { dealId: `amo:${id}`, paid: false } });
    expect(Date.parse(unit.booking!.expiresAt!)).toBeGreaterThan(Date.now() + 3 * 86_400_000 - 120_000);
    const [book] = writes('POST');
    expect(book!.headers['idempotency-key']).toMatch(new RegExp(`^amo:${id}:book:u1003:\\d+$`));
    expect(book!.headers.authorization).toBe('Bearer onec-local-key-3f9a');
    expect(notes(id).join('\n')).toContain('Объект 5-103 забронирован в 1С');
    await move(id, 'Договор');
    expect(stack.onec.unit('5-103')!.status).toBe('in_execution');
    await move(id, 'Регистрация');
    await move(id, 142);
    expect(stack.onec.unit('5-103')).toMatchObject({ status: 'sold', booking: { dealId: `amo:${id}` } });
  });

  it('two deals cannot book one flat: the second lead goes back to «Встреча состоялась» naming the holder', async () => {
    const first = await lead('5-104');
    await move(first, 'Бронь');
    const second = await lead('5-104', OTHER_MANAGER);
    await move(second, 'Бронь', OTHER_MANAGER);
    expect(statusOf(second)).toBe(stage('Встреча состоялась'));
    expect(stack.onec.unit('5-104')!.booking!.dealId).toBe(`amo:${first}`);
    const note = notes(second).join('\n');
    expect(note).toContain(`Объект 5-104 уже занят: сделка №${first} «${stack.amo.getLead(first)!.name}»`);
    expect(note).toMatch(/бронь до \d{2}\.\d{2}\.\d{4}/);
    expect(tasksFor(OTHER_MANAGER).join('\n')).toContain('уже занят');
  });

  it('a lost deal frees only its own flat', async () => {
    const holder = await lead('5-105');
    await move(holder, 'Бронь');
    const other = await lead('5-105', OTHER_MANAGER);
    await move(other, 143, OTHER_MANAGER);
    expect(stack.onec.unit('5-105')!.status).toBe('booked');
    expect(writes('DELETE')).toHaveLength(0);
    await move(holder, 143);
    expect(stack.onec.unit('5-105')!.status).toBe('available');
  });

  it('a booking past its term moves to «Бронь истекла» and frees the flat; the head of sales is told (a real 2 s timer)', async () => {
    await setSetting(stack.services, installationId, 'bookingReleaser.duration', '2s');
    const id = await lead('5-106');
    await move(id, 'Бронь');
    await eventually(() => expect(statusOf(id)).toBe(stage('Бронь истекла')), 15_000, 100);
    await stack.idle();
    expect(stack.onec.unit('5-106')).toMatchObject({ status: 'available', booking: null });
    expect(notes(id).join('\n')).toContain('Бронь истекла');
    expect(tasksFor(HEAD_OF_SALES).join('\n')).toContain('Бронь истекла по сделке');
    expect(stack.onec.calls.filter((c) => c.method === 'DELETE')[0]!.query).toMatchObject({ dealId: `amo:${id}`, reason: 'expired' });
  });

  it('the head of sales extends a booking with «Бронь до»; a manager cannot', async () => {
    await setSetting(stack.services, installationId, 'bookingReleaser.extendField', { bitrix24: 'UF_CRM_BOOKED_UNTIL', amocrm: 'Бронь до' });
    const id = await lead('5-107');
    await move(id, 'Бронь');
    const until = Math.floor(Date.now() / 1000) + 10 * 86_400;
    const extendField = (value: number) => [{ field_id: stack.amo.leadFieldId('Бронь до'), values: [{ value }] }];
    stack.amo.userUpdateLead(id, { custom_fields_values: extendField(until) }, MANAGER);
    await stack.idle();
    expect(notes(id).join('\n')).toContain('Продлить бронь может только руководитель отдела продаж');
    expect(Date.parse(stack.onec.unit('5-107')!.booking!.expiresAt!)).toBeLessThan(Date.now() + 4 * 86_400_000);
    stack.amo.userUpdateLead(id, { custom_fields_values: extendField(until + 60) }, HEAD_OF_SALES);
    await stack.idle();
    expect(notes(id).join('\n')).toContain('Бронь продлена до');
    expect(Date.parse(stack.onec.unit('5-107')!.booking!.expiresAt!)).toBe((until + 60) * 1000);
    expect(stack.onec.calls.filter((c) => c.method === 'PATCH')).toHaveLength(1);
  });

  it('a flat sold in 1C for another deal while this deal holds it alerts the manager and the head of sales, naming both deals (signed push)', async () => {
    const id = await lead('5-108');
    await move(id, 'Бронь');
    stack.onec.setByHand('5-108', 'sold', 'amo:99999');
    await stack.onec.settle();
    expect(stack.onec.deliveries.at(-1)?.status).toBe(202);
    await eventually(() => expect(tasksFor(HEAD_OF_SALES).join('\n')).toContain(`Объект 5-108, забронированный по сделке «${stack.amo.getLead(id)!.name}», продан в 1С (сделка №99999)`), 10_000, 100);
    expect(tasksFor(MANAGER).join('\n')).toContain('продан в 1С');
    // The same change delivered again (at least once) alerts once.
    const body = JSON.stringify(stack.onec.changes.at(-1));
    const signature = `sha256=${createHmac('sha256', ONEC_CALLBACK_SECRET).update(body).digest('hex')}`;
    const again = await fetch(`${stack.appUrl}/inventory/callbacks/${installationId}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Reglament-Signature': signature }, body });
    expect(again.status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(tasksFor(HEAD_OF_SALES).filter((t) => t.includes('продан в 1С'))).toHaveLength(1);
  });

  it('a forged or malformed callback is refused and changes nothing', async () => {
    const body = JSON.stringify({ event: 'unit.status_changed', unitId: 'u1001', from: 'available', to: 'sold', dealId: null, occurredAt: new Date().toISOString(), version: 9 });
    const post = (headers: Record<string, string>, payload = body, id = installationId) => fetch(`${stack.appUrl}/inventory/callbacks/${id}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: payload });
    expect((await post({ 'X-Reglament-Signature': `sha256=${'0'.repeat(64)}` })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect((await post({ 'X-Reglament-Signature': `sha256=${createHmac('sha256', ONEC_CALLBACK_SECRET).update(body).digest('hex')}` }, body, 'amo:1')).status).toBe(401);
    expect((await post({}, body, 'amo:1*')).status).toBe(400);
    const bad = JSON.stringify({ event: 'unit.status_changed', unitId: 'u1001', to: 'gone' });
    expect((await post({ 'X-Reglament-Signature': `sha256=${createHmac('sha256', ONEC_CALLBACK_SECRET).update(bad).digest('hex')}` }, bad)).status).toBe(400);
    expect(await stack.services.inventoryJobs.getJobCounts('waiting', 'delayed', 'active', 'completed')).toMatchObject({ waiting: 0, active: 0 });
  });
});
