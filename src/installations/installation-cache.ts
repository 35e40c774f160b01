import type { InvalidationBus } from '../infra/invalidation-bus';
import type { Installation } from './installation';

export interface InstallationCacheOptions {
  /** How long an entry answers without Redis, even if no change was heard (a safety net, not the mechanism). */
  ttlMs: number;
  /** Bounded: one process serves thousands of portals; the least recently used entry goes first. */
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  installation: Installation;
  until: number;
}

/**
 * The HTTP edge's view of installation records: finding the installation of every webhook in Redis
 * (a round trip and a schema parse) was a fifth of the edge's time per request.
 *
 * Sound because every change to a record (install, reinstall, secret rotation, settings,
 * revocation, uninstall) is published by the store on the invalidation bus after it is written, and
 * every process drops the entry when it hears it. The cache answers only while the bus is live
 * (subscribed): while disconnected it may have missed a change, so it reads Redis and keeps nothing.
 * Unknown ids are never cached: forged ids cannot fill it, and a fresh install is seen at once.
 */
export class InstallationCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation, so a read that started before a change does not store the old record. */
  private generation = 0;
  private readonly now: () => number;

  constructor(
    private readonly load: (id: string) => Promise<Installation | null>,
    private readonly bus: InvalidationBus,
    private readonly options: InstallationCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
    bus.subscribe('installation', (id) => this.forget(id));
  }

  async find(id: string): Promise<Installation | null> {
    if (this.bus.live) {
      const hit = this.entries.get(id);
      if (hit && hit.until > this.now()) {
        // Re-inserted: Map order is the recency order the eviction below relies on.
        this.entries.delete(id);
        this.entries.set(id, hit);
        return hit.installation;
      }
    }
    const generation = this.generation;
    const installation = await this.load(id);
    if (installation && this.bus.live && generation === this.generation) this.remember(id, installation);
    return installation;
  }

  get size(): number {
    return this.entries.size;
  }

  private remember(id: string, installation: Installation): void {
    this.entries.delete(id);
    this.entries.set(id, { installation, until: this.now() + this.options.ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  private forget(id: string | null): void {
    this.generation++;
    if (id === null) this.entries.clear();
    else this.entries.delete(id);
  }
}
