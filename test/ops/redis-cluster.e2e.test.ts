/**
 * The app's main scenarios on a Redis Cluster, twice: one node holding all 16384 slots reached
 * with a plain client, and three nodes reached with the Cluster client (`REDIS_CLUSTER=on`). The
 * servers judge every MULTI, Lua script and multi-key command as a cluster does, so any command
 * spanning two installations' keys, an installation's key and a shared key, or two slots of a
 * BullMQ queue, fails with CROSSSLOT and fails the scenario; on three nodes the client must also
 * follow each key to its node, and SCAN must walk every node.
 */
import { Cluster } from 'ioredis';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { connectRedis, type Redis } from '../../src/infra/redis';
import { installationKey } from '../../src/infra/keys';
import { scanKeys } from '../../src/installations/redis-installation-store';
import { setupBitrix24SalesFunnel } from '../helpers/funnels';
import { profitbaseConnection, setSetting } from '../helpers/inventory';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { PrivateRedis } from '../helpers/private-redis';
import { eventually } from '../helpers/test-services';

const MANAGER = 2;
const FLAT_3 = 10_301_003;

const TOPOLOGIES = [
  { topology: 'one node holding every slot, plain client', nodes: 1, clusterClient: false },
  { topology: 'three nodes, Cluster client', nodes: 3, clusterClient: true },
];

describe.each(TOPOLOGIES)('on Redis Cluster ($topology): no command spans two slots', ({ nodes: nodeCount, clusterClient }) => {
  let nodes: PrivateRedis[];
  let stack: LocalStack;
  let admin: Redis;

  beforeAll(async () => {
    nodes = await PrivateRedis.startClusterNodes(nodeCount);
    admin = connectRedis({ url: nodes[0]!.url, cluster: clusterClient });
  });
  afterAll(async () => {
    admin.disconnect();
    await Promise.all(nodes.map((node) => node.dispose()));
  });

  beforeEach(async () => {
    stack = await startLocalStack({
      redisUrl: nodes[0]!.url,
      profitbaseMinIntervalMs: 0,
      workerConcurrency: 8,
      env: { PROFITBASE_REQUESTS_PER_SECOND: '40', BITRIX24_COALESCE_BATCHES: 'on', RECONCILE_INTERVAL_S: '300', REDIS_CLUSTER: clusterClient ? 'on' : 'off' },
    });
  });
  afterEach(() => stack.stop());

  const slotOf = async (key: string) => Number(await admin.call('CLUSTER', 'KEYSLOT', key));
  const keysOf = async () => scanKeys(admin, `${stack.services.prefix}:*`);

  async function installBoth(): Promise<{ b24: string; amo: string }> {
    setupBitrix24SalesFunnel(stack.portal);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    await stack.idle();
    const ids = (await stack.services.store.list()).map((i) => i.id);
    return { b24: ids.find((id) => id.startsWith('b24:'))!, amo: ids.find((id) => id.startsWith('amo:'))! };
  }

  it('the rig is sound: the server refuses what a cluster refuses', async () => {
    const prefix = stack.services.prefix;
    const installationRecord = installationKey(prefix, 'b24:0123456789abcdef0123456789abcdef', 'installation');
    // What saving an installation did before: its record and the shared index in one MULTI.
    await expect(admin.multi().hset(installationRecord, 'data', '{}').sadd(`${prefix}:inst-index`, 'x').exec()).rejects.toThrow(/CROSSSLOT|same slot/);
    // What the BullMQ prefix without a hash tag gave every queue script.
    await expect(admin.eval('return 1', 2, `${prefix}:bull:events:wait`, `${prefix}:bull:events:active`)).rejects.toThrow(/CROSSSLOT/);
  });

  it('installs a Bitrix24 portal and an amoCRM account: each installation in its own slot, every BullMQ key in the queues\' slot', async () => {
    const { b24, amo } = await installBoth();
    const prefix = stack.services.prefix;
    const bullSlot = await slotOf('bull');
    for (const key of await keysOf()) {
      if (key.startsWith(`${prefix}:{bull}:`)) expect(await slotOf(key)).toBe(bullSlot);
      // The event inbox, its in-flight list and the pump's lock: one slot, so the pump's scripts may touch them together.
      else if (key.startsWith(`${prefix}:{inbox}:`)) expect(await slotOf(key)).toBe(await slotOf('inbox'));
      else if (key.startsWith(`${prefix}:i:{${b24}}:`)) expect(await slotOf(key)).toBe(await slotOf(b24));
      else if (key.startsWith(`${prefix}:i:{${amo}}:`)) expect(await slotOf(key)).toBe(await slotOf(amo));
      // The only shared keys: the list of installations and the worker heartbeat.
      else expect([`${prefix}:inst-index`, `${prefix}:worker-heartbeat`]).toContain(key);
    }
    expect(await slotOf(b24)).not.toBe(await slotOf(amo));
    // On three nodes the app talks through the Cluster client (following MOVED to each key's node).
    expect(stack.services.redis instanceof Cluster).toBe(clusterClient);
  });

  it('events run through the robots on both CRMs: deals renamed once each, their echoes write nothing', async () => {
    await installBoth();
    const contacts = Array.from({ length: 12 }, (_, i) => stack.portal.userAddContact({ name: `Клиент${i}`, lastName: 'Кластеров' }));
    const deals = contacts.map((contactId, i) => stack.portal.userAddDeal({ title: `Импорт ${i}`, contactId } as never));
    const amoContact = stack.amo.userAddContact({ name: 'Петров Пётр', phones: ['+79990001122'] });
    const lead = stack.amo.userAddLead({ name: 'Заявка с сайта', contactId: amoContact });
    await stack.idle(60_000);

    deals.forEach((id, i) => expect(stack.portal.getDeal(id)?.title).toBe(`${id} / Кластеров Клиент${i}`));
    for (const id of deals) expect(stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id)).toHaveLength(1);
    expect(stack.amo.getLead(lead)?.name).toBe(`${lead} / Петров Пётр`);
    expect(stack.amo.calls.filter((c) => c.method === 'PATCH' && c.path === `/api/v4/leads/${lead}`)).toHaveLength(1);
    const failed = await stack.services.events.queue.getFailedCount();
    expect(failed).toBe(0);
  }, 90_000);

  it('a regulation, a booking in Profitbase expires by its timer (a real 2 s BullMQ delayed job); while a booking lasts, a second deal for the flat is sent back', async () => {
    const { b24 } = await installBoth();
    expect(await configureRegulations(stack.services, b24, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', settings: { headOfSalesUserIds: ['4'] } } }])).toMatchObject({ ok: true });
    await setSetting(stack.services, b24, 'unitStatusSync.inventory', profitbaseConnection(stack));
    await setSetting(stack.services, b24, 'bookingReleaser.duration', '2s');
    const dealAtBooking = async (by: number) => {
      const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'UC_MEETING', categoryId: 0, assignedById: by, ufCrmMeetingAt: '2026-11-25T15:00:00+03:00', ufCrmMeetingResult: 'выбрали квартиру', ufCrmUnit: 'кв. 3' } as never, by);
      await stack.idle();
      stack.portal.userMoveDeal(id, 'UC_BOOKING', by);
      await stack.idle();
      return id;
    };
    // The real 2 s delayed job first: a booking expires on its own (no second deal racing a 2 s clock).
    const expiring = await dealAtBooking(MANAGER);
    await eventually(() => expect(stack.portal.getDeal(expiring)?.stageId).toBe('UC_EXPIRED'), 15_000, 100);
    await stack.idle();
    expect(stack.pb.unit(FLAT_3)!.status).toBe('AVAILABLE');

    // Then a booking that lasts: a second deal for the same flat is sent back.
    await setSetting(stack.services, b24, 'bookingReleaser.duration', '1h');
    const holder = await dealAtBooking(MANAGER);
    const second = await dealAtBooking(3);
    expect(stack.pb.dealOf(FLAT_3)).toBe(holder);
    expect(stack.portal.getDeal(second)?.stageId).toBe('UC_MEETING');
    expect(await stack.services.timers.queue.getFailedCount()).toBe(0);
  }, 90_000);

  it('uninstalling one installation removes its keys and jobs and leaves the other\'s', async () => {
    const { b24, amo } = await installBoth();
    const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов' });
    stack.portal.userAddDeal({ title: 'Сделка', contactId } as never);
    await stack.idle();
    const prefix = stack.services.prefix;
    const ofInstallation = (id: string) => keysOf().then((keys) => keys.filter((k) => k.startsWith(`${prefix}:i:{${id}}:`)));
    expect((await ofInstallation(b24)).length).toBeGreaterThan(0);
    const amoKeysBefore = await ofInstallation(amo);

    await stack.portal.uninstall();
    await stack.idle();

    expect(await stack.services.store.find(b24)).toBeNull();
    expect(await ofInstallation(b24)).toEqual([]);
    expect((await stack.services.store.list()).map((i) => i.id)).toEqual([amo]);
    expect((await ofInstallation(amo)).sort()).toEqual(expect.arrayContaining(amoKeysBefore.filter((k) => !k.endsWith(':rate')).sort()));
    expect(await stack.services.events.queue.getFailedCount()).toBe(0);
  });
});
