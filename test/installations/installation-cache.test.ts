import type { InvalidationBus, InvalidationHandler } from '../../src/infra/invalidation-bus';
import { InstallationCache } from '../../src/installations/installation-cache';
import type { Installation } from '../../src/installations/installation';
import { documentedBitrix24Installation } from '../helpers/fixtures';

/** A bus the test drives: whether it is live, and which changes are heard. */
function fakeBus() {
  const handlers: InvalidationHandler[] = [];
  const bus = { live: true, subscribe: (_topic: string, handler: InvalidationHandler) => (handlers.push(handler), () => undefined) };
  return { bus: bus as unknown as InvalidationBus & { live: boolean }, hear: (id: string | null) => handlers.forEach((h) => h(id)) };
}

function setup(options: { ttlMs?: number; maxEntries?: number } = {}) {
  let now = 1_000;
  const stored = new Map<string, Installation>();
  const reads: string[] = [];
  const { bus, hear } = fakeBus();
  const cache = new InstallationCache(
    async (id) => {
      reads.push(id);
      return stored.get(id) ?? null;
    },
    bus,
    { ttlMs: options.ttlMs ?? 60_000, maxEntries: options.maxEntries ?? 100, now: () => now },
  );
  const install = (memberId: string) => {
    const installation = { ...documentedBitrix24Installation(), id: `b24:${memberId}`, memberId };
    stored.set(installation.id, installation);
    return installation.id;
  };
  return { cache, stored, reads, bus, hear, install, advance: (ms: number) => (now += ms) };
}

describe('InstallationCache', () => {
  it('reads an installation once while the bus is live', async () => {
    const t = setup();
    const id = t.install('a'.repeat(32));
    await t.cache.find(id);
    await t.cache.find(id);
    expect(t.reads).toEqual([id]);
  });

  it('reads again after a change to that installation is heard, not after a change to another', async () => {
    const t = setup();
    const id = t.install('a'.repeat(32));
    const other = t.install('b'.repeat(32));
    await t.cache.find(id);
    await t.cache.find(other);
    t.hear(other);
    await t.cache.find(id);
    await t.cache.find(other);
    expect(t.reads).toEqual([id, other, other]);
  });

  it('forgets everything when the bus (re)subscribes: changes may have been missed', async () => {
    const t = setup();
    const id = t.install('a'.repeat(32));
    await t.cache.find(id);
    t.hear(null);
    await t.cache.find(id);
    expect(t.reads).toEqual([id, id]);
  });

  it('neither answers from nor fills the cache while the bus is not live', async () => {
    const t = setup();
    const id = t.install('a'.repeat(32));
    await t.cache.find(id);
    t.bus.live = false;
    await t.cache.find(id);
    await t.cache.find(id);
    expect(t.reads).toEqual([id, id, id]);
  });

  it('never caches an unknown installation: it is found as soon as it is installed', async () => {
    const t = setup();
    const id = `b24:${'c'.repeat(32)}`;
    expect(await t.cache.find(id)).toBeNull();
    t.install('c'.repeat(32));
    expect(await t.cache.find(id)).not.toBeNull();
    expect(t.cache.size).toBe(1);
  });

  it('does not keep a record read before a change that arrived during the read', async () => {
    const t = setup();
    const id = t.install('a'.repeat(32));
    const reading = t.cache.find(id);
    t.hear(id); // the change lands while the read is in flight
    await reading;
    await t.cache.find(id);
    expect(t.reads).toEqual([id, id]);
  });

  it('reads again after the TTL even if nothing was heard', async () => {
    const t = setup({ ttlMs: 1000 });
    const id = t.install('a'.repeat(32));
    await t.cache.find(id);
    t.advance(1001);
    await t.cache.find(id);
    expect(t.reads).toEqual([id, id]);
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const t = setup({ maxEntries: 2 });
    const [x, y, z] = ['a', 'b', 'c'].map((c) => t.install(c.repeat(32))) as [string, string, string];
    await t.cache.find(x);
    await t.cache.find(y);
    await t.cache.find(x); // x is now the most recent
    await t.cache.find(z); // evicts y
    expect(t.cache.size).toBe(2);
    t.reads.length = 0;
    await t.cache.find(x);
    await t.cache.find(y);
    expect(t.reads).toEqual([y]);
  });
});
