import { Redis } from 'ioredis';

/** What changed: an installation record, or the CRM catalog (users, fields, funnels) of an installation. */
export type InvalidationTopic = 'installation' | 'catalog';

/** `installationId`, or null: "anything may have changed" (this process missed messages while disconnected). */
export type InvalidationHandler = (installationId: string | null) => void;

export const invalidationChannel = (prefix: string) => `${prefix}:invalidate`;

/** The message every process receives: `<topic> <installationId>` (ids never contain a space). */
export const invalidationMessage = (topic: InvalidationTopic, installationId: string) => `${topic} ${installationId}`;

/**
 * Tells every process sharing Redis that something one of them caches changed, over Redis
 * pub/sub (one channel per app prefix; PUBLISH reaches every node's subscribers on a cluster too).
 *
 * Pub/sub delivers at most once: a process whose subscriber connection drops misses messages.
 * So a cache may trust its entries only while `live` is true, and every handler is called with
 * null when the subscription (re)starts: entries kept from before may be stale.
 *
 * The subscriber connection opens on the first `subscribe`, so processes that cache nothing
 * (scripts, most tests) open none.
 */
export class InvalidationBus {
  private subscriber: Redis | null = null;
  private subscribed = false;
  private readonly handlers = new Map<InvalidationTopic, Set<InvalidationHandler>>();

  constructor(
    /** Any connection of the app: PUBLISH is an ordinary command. */
    private readonly publisher: Redis,
    private readonly redisUrl: string,
    private readonly prefix: string,
  ) {}

  /** True while this process is subscribed and so hears every change: only then may caches answer. */
  get live(): boolean {
    return this.subscribed;
  }

  async publish(topic: InvalidationTopic, installationId: string): Promise<void> {
    await this.publisher.publish(invalidationChannel(this.prefix), invalidationMessage(topic, installationId));
  }

  subscribe(topic: InvalidationTopic, handler: InvalidationHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    this.connect();
    return () => void set.delete(handler);
  }

  /** Resolves once this process hears changes (tests; the edge does not wait: it reads Redis until then). */
  async ready(timeoutMs = 5000): Promise<void> {
    this.connect();
    const until = Date.now() + timeoutMs;
    while (!this.subscribed) {
      if (Date.now() > until) throw new Error('invalidation subscriber not ready');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    this.subscribed = false;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private connect(): void {
    if (this.subscriber) return;
    // Retries forever with a short backoff: a cache stays bypassed (not wrong) while it is away.
    const subscriber = new Redis(this.redisUrl, { maxRetriesPerRequest: null, autoResubscribe: false, retryStrategy: (times) => Math.min(times * 200, 2000) });
    this.subscriber = subscriber;
    const channel = invalidationChannel(this.prefix);
    subscriber.on('error', () => {}); // the 'close' below is what matters; the app's own connections log outages
    subscriber.on('close', () => {
      if (!this.subscribed) return;
      this.subscribed = false;
      this.notifyAll(null);
    });
    subscriber.on('ready', () => {
      subscriber
        .subscribe(channel)
        .then(() => {
          if (this.subscriber !== subscriber) return;
          // Whatever changed before this moment was not heard: start from empty caches.
          this.notifyAll(null);
          this.subscribed = true;
        })
        .catch(() => subscriber.disconnect(true));
    });
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      const space = message.indexOf(' ');
      if (space < 0) return;
      const topic = message.slice(0, space) as InvalidationTopic;
      const id = message.slice(space + 1);
      for (const handler of this.handlers.get(topic) ?? []) handler(id);
    });
  }

  private notifyAll(id: string | null): void {
    for (const set of this.handlers.values()) for (const handler of set) handler(id);
  }
}
