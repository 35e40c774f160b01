import { installationKey } from '../../src/infra/keys';
/**
 * Robots 5 and 6 end to end on Bitrix24 with Profitbase: the seed 004 deal funnel, the app's
 * real pipeline, Profitbase's API v4 on its emulator.
 */
import { configureRegulations } from '../../src/installations/configure-regulations';
import { TimerQueue } from '../../src/pipeline/queues';
import { setupBitrix24SalesFunnel } from '../helpers/funnels';
import { profitbaseConnection, setSetting } from '../helpers/inventory';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

const MANAGER = 2;
const OTHER_MANAGER = 3;
const HEAD_OF_SALES = '4';
const FLAT_3 = 10_301_003;

describe('booking and unit statuses on Bitrix24 with Profitbase', () => {
  let stack: LocalStack;
  let installationId: string;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), profitbaseMinIntervalMs: 0, env: { PROFITBASE_REQUESTS_PER_SECOND: '40' } });
    setupBitrix24SalesFunnel(stack.portal);
    await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    installationId = (await stack.services.store.list())[0]!.id;
    const configured = await configureRegulations(stack.services, installationId, [
      { preset: 'bitrix24-deals-004', overrides: { funnelId: '0', settings: { headOfSalesUserIds: [HEAD_OF_SALES] } } },
    ]);
    expect(configured).toMatchObject({ ok: true });
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', profitbaseConnection(stack));
  });
  afterEach(() => stack.stop());

  const comments = (id: number) => stack.portal.comments('deal', id).map((c) => String((c as { comment?: string; COMMENT?: string }).comment ?? (c as { COMMENT?: string }).COMMENT));
  const notified = (userId: number | string) => stack.portal.notifications.filter((n) => String(n.userId) === String(userId)).map((n) => n.message);
  const pbWrites = (path: string) => stack.pb.calls.filter((c) => c.path.endsWith(path));

  async function dealAt(stageId: string, fields: Record<string, unknown> = {}, by = MANAGER): Promise<number> {
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'UC_MEETING', categoryId: 0, assignedById: by, ufCrmMeetingAt: '2026-11-25T15:00:00+03:00', ufCrmMeetingResult: 'выбрали квартиру', ...fields } as never, by);
    await stack.idle();
    if (stageId !== 'UC_MEETING') await move(id, stageId, by);
    return id;
  }
  async function move(id: number, stageId: string, by = MANAGER) {
    stack.portal.userMoveDeal(id, stageId, by);
    await stack.idle();
  }
  const stageOf = (id: number) => stack.portal.getDeal(id)?.stageId;

  it('«Бронь» books the flat in Profitbase until now + 3 days, and the card says until when', async () => {
    const before = Date.now();
    const id = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' });
    const unit = stack.pb.unit(FLAT_3)!;
    expect(unit.status).toBe('BOOKED');
    expect(stack.pb.dealOf(FLAT_3)).toBe(id);
    const until = Date.parse(`${unit.bookedUntilDate}T${unit.bookedUntilTime}:00+03:00`);
    expect(until).toBeGreaterThanOrEqual(before + 3 * 86_400_000 - 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 3 * 86_400_000);
    expect(comments(id).join('\n')).toMatch(/Бронь до \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} \(3 дн\.\)\. Объект кв\. 3 забронирован в Profitbase\./);
    const timer = await stack.services.timers.queue.getJob(TimerQueue.jobId(installationId, 'bookingReleaser', `expire:deal:${id}`));
    expect(timer?.opts.delay).toBeGreaterThan(3 * 86_400_000 - 60_000);
    // Inventory calls of one booking: find the flat, attach it to the deal, set the deadline.
    expect(stack.pb.calls.filter((c) => c.path !== '/api/v4/json/authentication').map((c) => `${c.method} ${c.path.replace('/api/v4/json', '')}`)).toEqual([
      'GET /property',
      'POST /crm/addPropertyDeal',
      'PATCH /reserve/prolong',
    ]);
  });

  it('a booking past its term moves to «Бронь истекла» and frees the flat (a real 2 s timer)', async () => {
    await setSetting(stack.services, installationId, 'bookingReleaser.duration', '2s');
    const id = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' });
    expect(stack.pb.unit(FLAT_3)!.status).toBe('BOOKED');
    await eventually(() => expect(stageOf(id)).toBe('UC_EXPIRED'), 15_000, 100);
    await stack.idle();
    expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');
    expect(stack.pb.dealOf(FLAT_3)).toBeUndefined();
    expect(comments(id).join('\n')).toContain('сделка переведена на этап «Бронь истекла», объект кв. 3 снова свободен');
    expect(notified(MANAGER).join('\n')).toContain('Бронь истекла по сделке');
    expect(notified(HEAD_OF_SALES).join('\n')).toContain('Бронь истекла по сделке');
    // One move by the app, one release.
    expect(pbWrites('/crm/removePropertyDeal')).toHaveLength(1);
  });

  it('a deal that left «Бронь» before expiry is never touched by its old timer', async () => {
    await setSetting(stack.services, installationId, 'bookingReleaser.duration', '2s');
    const id = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' });
    await move(id, 'EXECUTING');
    await new Promise((r) => setTimeout(r, 2500));
    await stack.idle();
    expect(stageOf(id)).toBe('EXECUTING');
    expect(stack.pb.unit(FLAT_3)!.status).toBe('EXECUTION');
    expect(stack.pb.dealOf(FLAT_3)).toBe(id);
  });

  it('two deals cannot book one flat: the second goes back, the card names the holder and until when', async () => {
    const first = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3', title: 'Иванов / кв. 3' });
    const second = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' }, OTHER_MANAGER);
    expect(stageOf(second)).toBe('UC_MEETING');
    expect(stack.pb.dealOf(FLAT_3)).toBe(first);
    const note = comments(second).join('\n');
    expect(note).toContain(`Объект кв. 3 уже занят: сделка №${first}`);
    expect(note).toMatch(/бронь до \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}/);
    expect(note).toContain('Сделка возвращена на этап «Встреча состоялась»');
    expect(notified(OTHER_MANAGER).join('\n')).toContain('уже занят');
    const stageWrites = stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === second && (c.params.fields as Record<string, unknown>)?.stageId);
    expect(stageWrites).toHaveLength(1);
  });

  it('with the booking queue on, the refused deal waits in Profitbase\'s queue and the card says its place', async () => {
    await setSetting(stack.services, installationId, 'unitStatusSync.inventory', { ...profitbaseConnection(stack), bookingQueue: true });
    const first = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' });
    const second = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' }, OTHER_MANAGER);
    expect(stageOf(second)).toBe('UC_MEETING');
    expect(stack.pb.dealOf(FLAT_3)).toBe(first);
    expect(stack.pb.queueOf(FLAT_3)).toEqual([second]);
    expect(comments(second).join('\n')).toContain('Сделка в очереди на бронь этого объекта в Profitbase, позиция 1.');
  });

  it('a lost deal frees only its own flat', async () => {
    const holder = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' });
    const other = await dealAt('UC_MEETING', { ufCrmUnit: 'кв. 3', ufCrmLossReason: 'дорого' }, OTHER_MANAGER);
    await move(other, 'LOSE', OTHER_MANAGER);
    expect(stack.pb.unit(FLAT_3)!.status).toBe('BOOKED');
    expect(stack.pb.dealOf(FLAT_3)).toBe(holder);
    expect(pbWrites('/crm/removePropertyDeal')).toHaveLength(0);
    stack.portal.userUpdateDeal(holder, { ufCrmLossReason: 'передумал' } as never, MANAGER);
    await stack.idle();
    await move(holder, 'LOSE');
    expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');
  });

  it('the flat becomes sold when the contract is signed (onContract = "sold"), and stays sold when the deal is won', async () => {
    await setSetting(stack.services, installationId, 'unitStatusSync.onContract', 'sold');
    const id = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' });
    await move(id, 'EXECUTING');
    expect(stack.pb.unit(FLAT_3)!.status).toBe('SOLD');
    const changes = pbWrites(`/properties/${FLAT_3}/status-change`).length;
    await move(id, 'FINAL_INVOICE');
    await move(id, 'WON');
    expect(stack.pb.unit(FLAT_3)!.status).toBe('SOLD');
    expect(pbWrites(`/properties/${FLAT_3}/status-change`)).toHaveLength(changes);
  });

  it('a new flat in the field of a booked deal frees the old one and books the new one', async () => {
    const id = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' });
    stack.portal.userUpdateDeal(id, { ufCrmUnit: 'кв. 5' } as never, MANAGER);
    await stack.idle();
    expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');
    expect(stack.pb.unit(10_301_005)!.status).toBe('BOOKED');
    expect(stack.pb.dealOf(10_301_005)).toBe(id);
  });

  it('a crash after Profitbase booked the flat but before the app recorded it: judging the deal again keeps one booking', async () => {
    const id = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' });
    // What the app knew about the hold is lost (the process died right after Profitbase answered).
    expect(await stack.services.redis.del(installationKey(stack.services.prefix, installationId, 'state', `unit-hold:deal:${id}`))).toBe(1);
    await stack.services.events.enqueue({ installationId, crm: 'bitrix24', kind: 'updated', entity: 'deal', entityId: String(id), receivedAt: Date.now() });
    await stack.idle();
    expect(stack.pb.dealOf(FLAT_3)).toBe(id);
    expect(stack.pb.unit(FLAT_3)!.status).toBe('BOOKED');
    expect(stack.portal.getDeal(id)?.stageId).toBe('UC_BOOKING');
    expect(comments(id).join('\n')).not.toContain('уже занят');
    // …and the record is whole again: losing the deal frees the flat.
    stack.portal.userUpdateDeal(id, { ufCrmLossReason: 'передумал' } as never, MANAGER);
    await stack.idle();
    await move(id, 'LOSE');
    expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');
  });

  it('a repeated webhook books nothing twice; a lost release is repaired by judging the deal again', async () => {
    const id = await dealAt('UC_BOOKING', { ufCrmUnit: 'кв. 3' });
    await stack.services.events.enqueue({ installationId, crm: 'bitrix24', kind: 'updated', entity: 'deal', entityId: String(id), receivedAt: Date.now() });
    await stack.idle();
    expect(pbWrites('/crm/addPropertyDeal')).toHaveLength(1);

    // The crash: the deal is «Бронь истекла» in the CRM, but the event that would free the flat is lost.
    await stack.services.events.queue.pause();
    stack.portal.userMoveDeal(id, 'UC_EXPIRED', MANAGER);
    await stack.portal.settle();
    await eventually(async () => expect(await stack.services.events.queue.count()).toBeGreaterThan(0));
    await stack.services.events.queue.drain();
    await stack.services.events.queue.resume();
    expect(stack.pb.unit(FLAT_3)!.status).toBe('BOOKED');

    // The reconciliation re-enqueues the deal; the sync judges its current state and converges.
    await stack.services.events.enqueue({ installationId, crm: 'bitrix24', kind: 'updated', entity: 'deal', entityId: String(id), receivedAt: Date.now() });
    await stack.idle();
    expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');
    await stack.services.events.enqueue({ installationId, crm: 'bitrix24', kind: 'updated', entity: 'deal', entityId: String(id), receivedAt: Date.now() });
    await stack.idle();
    expect(pbWrites('/crm/removePropertyDeal')).toHaveLength(1);
  });
});
