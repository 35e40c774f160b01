/**
 * A small in-process cache for data that changes rarely (funnels, field lists, users): one CRM read
 * per TTL. Keys are `<installationId>` or `<installationId>:<more>`.
 *
 * Bounded: one worker serves thousands of installations, so the least recently used entry goes
 * when `maxEntries` is reached, and an expired entry is dropped when met (no timers per entry).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; settled?: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 5000,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = load();
    const entry: { value: Promise<V>; settled?: V; until: number } = { value, until: Date.now() + this.ttlMs };
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    value.then(
      (settled) => void (entry.settled = settled),
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }

  /** The loaded, unexpired value, without loading (to notice that what a read returned is not in it). */
  peek(key: string): V | undefined {
    const hit = this.entries.get(key);
    return hit && hit.until > Date.now() ? hit.settled : undefined;
  }

  /** Forgets the entries of one installation (its key and `<id>:…` keys), or everything without an id. */
  clear(installationId?: string): void {
    if (installationId === undefined) return this.entries.clear();
    for (const key of this.entries.keys()) if (key === installationId || key.startsWith(`${installationId}:`)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
