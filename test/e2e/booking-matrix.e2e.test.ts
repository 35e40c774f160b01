import { installationKey } from '../../src/infra/keys';
/**
 * The other two pairings (Bitrix24 with 1C, amoCRM with Profitbase), the releaser without any
 * inventory, polling Profitbase's history, and the drift report — on the full local stack.
 */
import { configureRegulations } from '../../src/installations/configure-regulations';
import { pollInventory, runDriftReport } from '../../src/inventory/inventory-jobs';
import { TimerQueue } from '../../src/pipeline/queues';
import { setupAmoSalesPipeline, setupBitrix24SalesFunnel } from '../helpers/funnels';
import { onecConnection, profitbaseConnection, setSetting } from '../helpers/inventory';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

const MANAGER = 2;
const HEAD_OF_SALES = '4';

describe('Bitrix24 deals', () => {
  let stack: LocalStack;
  let installationId: string;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), profitbaseMinIntervalMs: 0, env: { PROFITBASE_REQUESTS_PER_SECOND: '40' } });
    setupBitrix24SalesFunnel(stack.portal);
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    installationId = (await stack.services.store.list())[0]!.id;
    await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', settings: { headOfSalesUserIds: [HEAD_OF_SALES] } } }]);
  });
  afterEach(() => stack.stop());

  const notified = (userId: number | string) => stack.portal.notifications.filter((n) => String(n.userId) === String(userId)).map((n) => n.message).join('\n');
  async function booked(unit: string, fields: Record<string, unknown> = {}): Promise<number> {
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'UC_MEETING', categoryId: 0, assignedById: MANAGER, ufCrmMeetingAt: '2026-11-25T15:00:00+03:00', ufCrmMeetingResult: 'да', ufCrmUnit: unit, ...fields } as never, MANAGER);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'UC_BOOKING', MANAGER);
    await stack.idle();
    return id;
  }
  /** The event that would have told the app is lost (Bitrix24 never resends). */
  async function moveUnseen(id: number, stageId: string) {
    await stack.services.events.queue.pause();
    stack.portal.userMoveDeal(id, stageId, MANAGER);
    await stack.portal.settle();
    await eventually(async () => expect(await stack.services.events.queue.count()).toBeGreaterThan(0));
    await stack.services.events.queue.drain();
    await stack.services.events.queue.resume();
  }

  it('with a 1C service: «Бронь» books the unit, the manager and the head of sales are warned, and a 3 s booking expires and frees it', async () => {
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', onecConnection(stack));
    await setSetting(stack.services, installationId, 'bookingReleaser.duration', '3s');
    await setSetting(stack.services, installationId, 'bookingReleaser.warnBefore', '2s');
    const id = await booked('5-101');
    expect(stack.onec.unit('5-101')).toMatchObject({ status: 'booked', booking: { dealId: `b24:${id}` } });
    await eventually(() => expect(notified(HEAD_OF_SALES)).toMatch(/Бронь по сделке «.+» \(объект 5-101\) истекает \d{2}\.\d{2}\.\d{4}/), 15_000, 100);
    expect(notified(MANAGER)).toContain('истекает');
    await eventually(() => expect(stack.portal.getDeal(id)?.stageId).toBe('UC_EXPIRED'), 15_000, 100);
    await stack.idle();
    expect(stack.onec.unit('5-101')).toMatchObject({ status: 'available', booking: null });
  });

  it('a paid booking in a project with its own terms lasts that project\'s paid term, and 1C is told it is paid', async () => {
    stack.portal.addUserField(2, { fieldName: 'UF_CRM_PAID_BOOKING', title: 'Платная бронь', type: 'boolean' });
    stack.services.clients.invalidate(installationId); // the field list is cached five minutes
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', onecConnection(stack));
    await setSetting(stack.services, installationId, 'bookingReleaser.paidField', { bitrix24: 'UF_CRM_PAID_BOOKING', amocrm: 'Платная бронь' });
    await setSetting(stack.services, installationId, 'bookingReleaser.byProject', { 'ЖК Северный': { paidDuration: '30d' } });
    const before = Date.now();
    const id = await booked('5-103', { ufCrmPaidBooking: 'Y' });
    const unit = stack.onec.unit('5-103')!;
    expect(unit.booking).toMatchObject({ dealId: `b24:${id}`, paid: true });
    expect(Date.parse(unit.booking!.expiresAt!)).toBeGreaterThanOrEqual(before + 30 * 86_400_000 - 1000);
    expect(stack.portal.comments('deal', id).map((c) => String((c as { comment?: string }).comment)).join('\n')).toContain('(30 дн.)');
  });

  it('a deal created straight in «Бронь» is booked and its clock starts', async () => {
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', onecConnection(stack));
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'UC_BOOKING', categoryId: 0, assignedById: MANAGER, ufCrmUnit: '5-102' } as never, MANAGER);
    await stack.idle();
    expect(stack.onec.unit('5-102')).toMatchObject({ status: 'booked', booking: { dealId: `b24:${id}` } });
    expect(await stack.services.timers.queue.getJob(TimerQueue.jobId(installationId, 'bookingReleaser', `expire:deal:${id}`))).toBeTruthy();
  });

  it('without an inventory the releaser still expires the booking and tells people; the sync only logs', async () => {
    await setSetting(stack.services, installationId, 'bookingReleaser.duration', '2s');
    const id = await booked('кв. 3');
    await eventually(() => expect(stack.portal.getDeal(id)?.stageId).toBe('UC_EXPIRED'), 15_000, 100);
    await stack.idle();
    expect(notified(MANAGER)).toContain('Бронь истекла по сделке');
    expect(notified(HEAD_OF_SALES)).toContain('Бронь истекла по сделке');
    expect(stack.pb.calls).toHaveLength(0);
    expect(stack.onec.calls).toHaveLength(0);
    expect(Number(await stack.services.redis.get(installationKey(stack.services.prefix, installationId, 'state', 'inventory-missing-logged')))).toBeGreaterThan(1);
  });

  it('a flat sold by hand in Profitbase while a deal holds it: the next poll of POST /history alerts the manager and the head of sales', async () => {
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', profitbaseConnection(stack));
    const installation = () => stack.services.store.find(installationId).then((i) => i!);
    await pollInventory(stack.services, await installation(), Date.now() + 120_000); // the first poll sets the cursor
    const id = await booked('кв. 3');
    stack.pb.setUnitStatus(10_301_003, 'SOLD');
    expect(await pollInventory(stack.services, await installation(), Date.now() + 240_000)).toBe(1);
    expect(notified(HEAD_OF_SALES)).toContain(`забронированный по сделке «${stack.portal.getDeal(id)!.title}», продан в Profitbase`);
    expect(notified(MANAGER)).toContain('продан в Profitbase');
    expect(await pollInventory(stack.services, await installation(), Date.now() + 360_000)).toBe(0);
  });

  it('the drift report frees a flat still booked for a lost deal and lists a flat freed by hand', async () => {
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', profitbaseConnection(stack));
    const lost = await booked('кв. 3', { ufCrmLossReason: 'передумал' });
    const kept = await booked('кв. 5');
    await moveUnseen(lost, 'LOSE');
    stack.pb.setUnitStatus(10_301_005, 'AVAILABLE');
    expect(stack.pb.unit(10_301_003)!.status).toBe('BOOKED');
    const report = await runDriftReport(stack.services, (await stack.services.store.find(installationId))!, { fix: true, notify: true });
    expect(report).toMatchObject({
      checked: 2,
      fixed: [{ unitId: '10301003', dealId: String(lost) }],
      listed: [{ unitId: '10301005', dealId: String(kept), problem: 'в CRM «бронь», в системе учёта «свободно»' }],
    });
    expect(stack.pb.unit(10_301_003)!.status).toBe('AVAILABLE');
    expect(notified(HEAD_OF_SALES)).toContain('Сверка объектов: проверено 2, исправлено 1, требуют внимания 1.');
  });
});

describe('amoCRM deals with Profitbase', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), profitbaseMinIntervalMs: 0, env: { PROFITBASE_REQUESTS_PER_SECOND: '40' } });
  });
  afterEach(() => stack.stop());

  it('«Бронь» attaches the flat to the lead, the contract makes it EXECUTION, a second lead on it goes back', async () => {
    const { stage, pipelineId } = setupAmoSalesPipeline(stack.amo);
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    const installationId = (await stack.services.store.list())[0]!.id;
    await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-sales-004' }]);
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', profitbaseConnection(stack));
    const lead = async (by: number) => {
      const id = stack.amo.userAddLead({ name: 'Покупатель', pipeline_id: pipelineId, status_id: stage('Встреча состоялась'), responsible_user_id: by, custom_fields_values: [{ field_id: stack.amo.leadFieldId('Объект'), values: [{ value: '7' }] }] }, by);
      await stack.idle();
      stack.amo.userMoveLead(id, stage('Бронь'), by);
      await stack.idle();
      return id;
    };
    const first = await lead(MANAGER);
    expect(stack.pb.dealOf(10_301_007)).toBe(first);
    expect(stack.pb.unit(10_301_007)!.status).toBe('BOOKED');
    const second = await lead(3);
    expect(stack.amo.getLead(second)?.status_id).toBe(stage('Встреча состоялась'));
    expect(stack.amo.notes(second).map((n) => String((n.params as { text?: string }).text)).join('\n')).toContain(`Объект 7 уже занят: сделка №${first}`);
    stack.amo.userMoveLead(first, stage('Договор'), MANAGER);
    await stack.idle();
    expect(stack.pb.unit(10_301_007)!.status).toBe('EXECUTION');
  });
});
