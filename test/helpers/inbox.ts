import { InboxPump } from '../../src/pipeline/inbox-pump';
import type { Services } from '../../src/services';

/**
 * What a worker's inbox pump does, once: moves every event the edge accepted into the events
 * queue (for tests that look at the queue without running workers). Returns how many it moved.
 */
export function drainInbox(services: Services): Promise<number> {
  return new InboxPump({ redis: services.redis, prefix: services.prefix, events: services.events, log: services.log }).drain();
}
