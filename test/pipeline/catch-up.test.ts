import { randomBytes } from 'node:crypto';
import { AmocrmChangeFeed } from '../../src/crm/amocrm/change-feed';
import { Bitrix24ChangeFeed, isoSeconds } from '../../src/crm/bitrix24/change-feed';
import type { ChangedDeal, ChangeFeed } from '../../src/crm/change-feed';
import type { AmocrmInstallation, Bitrix24Installation } from '../../src/installations/installation';
import { CatchUpQueue } from '../../src/pipeline/catch-up/catch-up-queue';
import { CatchUpState } from '../../src/pipeline/catch-up/catch-up-state';
import { OVERLAP_SECONDS, scanStart } from '../../src/pipeline/catch-up/reconcile';
import { Bitrix24PortalEmulator } from '../emulators/bitrix24-portal';
import { documentedBitrix24Installation } from '../helpers/fixtures';
import { BITRIX24_APP, startLocalStack } from '../helpers/local-stack';
import { createTestServices, eventually, redisUrl, runWorkers } from '../helpers/test-services';

type Services = Awaited<ReturnType<typeof createTestServices>>;

async function collect(feed: ChangeFeed, since: { deal: number; lead: number }, during?: (page: ChangedDeal[]) => void): Promise<ChangedDeal[]> {
  const all: ChangedDeal[] = [];
  for await (const page of feed.changedSince(since)) {
    all.push(...page);
    during?.(page);
  }
  return all;
}

describe('where a catch-up starts', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const nowS = now / 1000;
  const feed = { entities: ['deal', 'lead'] as const };
  it.each([
    ['the watermark minus the overlap', { deal: nowS - 600, lead: nowS - 30 }, '2026-01-01T00:00:00Z', { deal: nowS - 600 - OVERLAP_SECONDS, lead: nowS - 30 - OVERLAP_SECONDS }],
    ['the install time when there is no watermark yet', {}, '2026-03-01T11:50:00Z', { deal: nowS - 600, lead: nowS - 600 }],
    ['at most the first window back for an old installation', {}, '2025-01-01T00:00:00Z', { deal: nowS - 3600, lead: nowS - 3600 }],
    ['per entity: a watermark for deals only', { deal: nowS - 10 }, '2025-01-01T00:00:00Z', { deal: nowS - 10 - OVERLAP_SECONDS, lead: nowS - 3600 }],
  ])('%s', (_name, watermarks, installedAt, expected) => {
    expect(scanStart(feed, watermarks, { installedAt }, 3600, now)).toEqual(expected);
  });
});

describe('what the catch-up remembers', () => {
  let services: Services;
  let state: CatchUpState;
  const id = 'b24:0123456789abcdef0123456789abcdef';
  beforeEach(async () => {
    services = await createTestServices();
    state = new CatchUpState(services.redis, services.prefix);
  });
  afterEach(() => services.cleanup());

  it('a version read two seconds after it changed is handled; a later change is not', async () => {
    const ref = { entity: 'deal' as const, id: '7' };
    expect(await state.markHandled(id, ref, 1000, 1002_000)).toBe(true);
    const listed = (updatedAt: number): ChangedDeal => ({ ...ref, updatedAt, createdAt: null });
    expect(await state.unseen(id, [listed(1000)])).toEqual([]);
    expect(await state.unseen(id, [listed(1001)])).toEqual([listed(1001)]);
  });

  it('a version read within the second it changed is not recorded: a same-second change would look identical', async () => {
    const ref = { entity: 'lead' as const, id: '8' };
    expect(await state.markHandled(id, ref, 1000, 1000_900)).toBe(false);
    expect(await state.unseen(id, [{ ...ref, updatedAt: 1000, createdAt: null }])).toHaveLength(1);
  });

  it('the watermark only moves forward, per entity, and the lag is the time since the last finished run', async () => {
    await state.advance(id, 'deal', 500);
    await state.advance(id, 'deal', 400);
    await state.advance(id, 'lead', 300);
    expect(await state.lagSeconds(id)).toBeNull();
    await state.finishRun(id, 10_000);
    expect(await state.status(id)).toEqual({ watermarks: { deal: 500, lead: 300 }, reconciledAt: 10_000 });
    expect(await state.lagSeconds(id, 70_000)).toBe(60);
  });
});

describe('Bitrix24 change feed (crm.item.list by updatedTime, in batch)', () => {
  let services: Services;
  let portal: Bitrix24PortalEmulator;
  // A frozen portal clock (near the real one: the SDK checks token expiry against real time).
  let clock = 0;
  beforeEach(async () => {
    clock = Math.floor(Date.now() / 1000) * 1000;
    services = await createTestServices({ BITRIX24_RATE_BURST: '1000', BITRIX24_RATE_PER_SECOND: '100' });
    portal = await Bitrix24PortalEmulator.start({ ...BITRIX24_APP, clock: () => clock, rateLimit: { burst: 100_000, drainPerSecond: 1000 } });
  });
  afterEach(async () => {
    await portal.stop();
    await services.cleanup();
  });

  async function feed(): Promise<Bitrix24ChangeFeed> {
    const issued = portal.issueTokens();
    const installation: Bitrix24Installation = {
      ...documentedBitrix24Installation(),
      id: `b24:${portal.memberId}`,
      memberId: portal.memberId,
      domain: portal.domain,
      clientEndpoint: portal.clientEndpoint,
      serverEndpoint: portal.serverEndpoint,
    };
    const rest = await services.clients.bitrix24Rest(installation, { accessToken: issued.accessToken, refreshToken: issued.refreshToken ?? 'r', expiresAt: issued.expires * 1000 });
    return new Bitrix24ChangeFeed(rest);
  }

  it('finds every deal and lead changed since a second, oldest first, across pages of one second', async () => {
    const before = portal.userAddDeal({ title: 'до' } as never);
    clock += 10_000;
    const from = Math.floor(clock / 1000);
    const sameSecond = Array.from({ length: 120 }, (_, i) => portal.userAddDeal({ title: `d${i}` } as never));
    const leads = Array.from({ length: 30 }, (_, i) => portal.userAddLead({ title: `l${i}` }));
    clock += 3_000;
    portal.userUpdateDeal(before, { title: 'изменена' } as never);

    const found = await collect(await feed(), { deal: from, lead: from });
    const deals = found.filter((c) => c.entity === 'deal');
    expect(deals.map((c) => Number(c.id))).toEqual([...sameSecond, before]);
    expect(found.filter((c) => c.entity === 'lead').map((c) => Number(c.id))).toEqual(leads);
    expect(deals[0]).toEqual({ entity: 'deal', id: String(sameSecond[0]), updatedAt: from, createdAt: from });
    // Pages travel in batches: deals and leads side by side, 50 rows per page.
    const lists = portal.calls.filter((c) => c.method === 'crm.item.list');
    expect(portal.calls.filter((c) => c.method === 'batch').length).toBe(Math.ceil(121 / 50));
    expect(lists[0]!.params.filter).toEqual({ '>=updatedTime': isoSeconds(from) });
    expect(lists[0]!.params.order).toEqual({ updatedTime: 'ASC', id: 'ASC' });
  });

  it('a deal edited during the scan makes no other deal slip past it (pages by key, not by offset)', async () => {
    const from = Math.floor(clock / 1000);
    const ids = Array.from({ length: 100 }, (_, i) => portal.userAddDeal({ title: `d${i}` } as never));
    let edited = false;
    const found = await collect(await feed(), { deal: from, lead: from }, () => {
      if (edited) return;
      edited = true;
      clock += 2_000;
      portal.userUpdateDeal(ids[3]!, { title: 'правка во время чтения' } as never); // moves to the end of the order
    });
    const seen = new Set(found.filter((c) => c.entity === 'deal').map((c) => Number(c.id)));
    for (const id of ids) expect(seen.has(id)).toBe(true);
  });
});

describe('amoCRM change feed (GET /api/v4/leads by updated_at)', () => {
  it('finds every lead changed since a second, across more than one page of 250', async () => {
    const stack = await startLocalStack({ redisUrl: redisUrl(), env: { RECONCILE_INTERVAL_S: '0' }, prefix: `reglament-test-${randomBytes(4).toString('hex')}` });
    try {
      expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
      await stack.stopApp(); // the app's own renames would change updated_at under the test
      await stack.startApp({ RECONCILE_INTERVAL_S: '0' });
      await stack.stopWeb();
      const from = Math.floor(stack.amo.now() / 1000);
      const ids = Array.from({ length: 260 }, (_, i) => stack.amo.userAddLead({ name: `Заявка ${i}` }));
      const installation = (await stack.services.store.list())[0] as AmocrmInstallation;
      const tokens = (await stack.services.store.tokens(installation.id))!;
      const found = await collect(new AmocrmChangeFeed(stack.services.clients.amocrmRest(installation, tokens)), { deal: from, lead: from });
      expect(new Set(found.map((c) => Number(c.id)))).toEqual(new Set(ids));
      const times = found.map((c) => c.updatedAt);
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      const listing = stack.amo.calls.filter((c) => c.method === 'GET' && c.path === '/api/v4/leads');
      expect(listing[0]!.query).toMatchObject({ filter: { updated_at: { from: String(from) } }, order: { updated_at: 'asc' }, limit: '250', page: '1' });
      expect(listing.length).toBeGreaterThanOrEqual(2);
    } finally {
      await stack.stop();
    }
  });
});

describe('when the catch-up runs', () => {
  it('two workers share one schedule; RECONCILE_INTERVAL_S=0 removes it', async () => {
    const first = await createTestServices({ RECONCILE_INTERVAL_S: '300' });
    const second = await createTestServices({ RECONCILE_INTERVAL_S: '300', REDIS_PREFIX: first.prefix });
    const queue = new CatchUpQueue(first.queueSettings);
    try {
      const workers = [runWorkers(first, 1), runWorkers(second, 1)];
      await eventually(async () => expect(await queue.queue.getJobSchedulers()).toEqual([expect.objectContaining({ every: 300_000 })]));
      await Promise.all(workers.map((w) => w.close()));
      const off = await createTestServices({ RECONCILE_INTERVAL_S: '0', REDIS_PREFIX: first.prefix });
      await runWorkers(off, 1).close();
      expect(await queue.queue.getJobSchedulers()).toEqual([]);
      await off.close();
    } finally {
      await queue.close();
      await second.close();
      await first.cleanup();
    }
  });
});
