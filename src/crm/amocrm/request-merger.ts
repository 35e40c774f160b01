import { PermanentCrmError } from '../../errors';
import { LANES, type HttpCall, type LaneItem, type LaneName } from './merge-lanes';
import { AmoValidationError, type AmoRestClient } from './rest-client';

/** What the merger needs of an amoCRM client: one request, and a token of the shared bucket. */
export type MergeTransport = Pick<AmoRestClient, 'request' | 'acquireSlot'>;

interface Queued extends LaneItem {
  lane: LaneName;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

/**
 * Requests on the wire at once. amoCRM answers in a few hundred ms and the bucket lets ~6 go per
 * second: three keep the pipe busy; more would only take elements that could have shared the next one.
 */
const MAX_IN_FLIGHT = 3;

/**
 * Merges the amoCRM requests that concurrent jobs of one account send into the list endpoints:
 * lead and contact reads into `filter[id][]` lists, lead and contact edits into array PATCHes,
 * notes, tasks and links into array POSTs. One per installation per process, used by every job's
 * adapter of that account.
 *
 * - Idle: a request goes in the next tick, alone, on the same wire as without merging.
 * - Backlog: a flush first waits for a token of the shared Redis bucket and only then takes what
 *   queued up meanwhile (the oldest element's lane, up to its limit): the busier the account, the
 *   fuller the request, and the bucket stays the one pace for every process.
 * - Results go back by `request_id` (writes) or id (reads). A 400 that names bad elements fails
 *   only their callers and the rest is sent again; one that names none, or a 504, is split in two.
 *   429 is retried whole by the client, after the bucket's pause.
 * - Order per entity: an element about an entity that is on the wire, or queued earlier and not
 *   taken, waits; two elements about one entity never share a request.
 */
export class AmoRequestMerger {
  private readonly queue: Queued[] = [];
  private readonly busy = new Map<string, number>();
  private inFlight = 0;
  private pumping = false;
  private transport: MergeTransport | null = null;
  /** Figures for benches and tests. */
  readonly stats = { requests: 0, elements: 0 };

  /** The client whose access token the next requests go with (the most recent one built). */
  useTransport(transport: MergeTransport): void {
    this.transport = transport;
  }

  /** Queues one element; resolves with its part of the answer (null: a read found nothing). */
  submit(lane: LaneName, item: LaneItem): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...item, lane, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pumping || this.inFlight >= MAX_IN_FLIGHT || !this.sendable()) return;
    this.pumping = true;
    // setImmediate: what concurrent jobs send in this tick travels together.
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      while (this.inFlight < MAX_IN_FLIGHT && this.sendable()) {
        if (!this.transport) throw new Error('No amoCRM client registered for this installation');
        await this.transport.acquireSlot();
        // Only new elements join meanwhile, so what was sendable still is.
        const items = this.take();
        this.inFlight++;
        void this.send(items, true).finally(() => {
          this.inFlight--;
          for (const item of items) this.release(item.entity);
          this.schedule();
        });
      }
    } catch (err) {
      // The bucket itself failed (Redis down): every waiting caller learns it, as a direct call would.
      for (const item of this.queue.splice(0)) item.reject(err);
    } finally {
      this.pumping = false;
      this.schedule();
    }
  }

  private sendable(): boolean {
    return this.queue.some((item) => !this.busy.has(item.entity));
  }

  /** The oldest sendable element's lane: its elements in order, up to the lane's limit, one per entity. */
  private take(): Queued[] {
    const blocked = new Set(this.busy.keys());
    const lane = this.queue.find((item) => !blocked.has(item.entity))!.lane;
    const max = LANES[lane].max;
    const taken: Queued[] = [];
    for (let i = 0; i < this.queue.length && taken.length < max; ) {
      const item = this.queue[i]!;
      if (item.lane !== lane || blocked.has(item.entity)) {
        // Whatever is left behind holds its entity: a later element about it must not overtake.
        blocked.add(item.entity);
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      taken.push(item);
      blocked.add(item.entity);
    }
    for (const item of taken) this.busy.set(item.entity, (this.busy.get(item.entity) ?? 0) + 1);
    return taken;
  }

  private release(entity: string): void {
    const left = (this.busy.get(entity) ?? 1) - 1;
    if (left > 0) this.busy.set(entity, left);
    else this.busy.delete(entity);
  }

  private async send(items: Queued[], prepaid: boolean): Promise<void> {
    const transport = this.transport!;
    const lane = LANES[items[0]!.lane];
    this.stats.requests++;
    this.stats.elements += items.length;
    if (items.length === 1) {
      const item = items[0]!;
      const http = lane.one(item);
      try {
        item.resolve(lane.pickOne(await call(transport, http, prepaid, http.method === 'GET')));
      } catch (err) {
        item.reject(err);
      }
      return;
    }
    try {
      const answer = await call(transport, lane.many(items), prepaid, false);
      lane.pick(answer, items).forEach((result, n) => items[n]!.resolve(result));
    } catch (err) {
      await this.recover(items, err);
    }
  }

  /** A refused shared request: bad elements fail alone, the rest go again; other failures reach every caller. */
  private async recover(items: Queued[], err: unknown): Promise<void> {
    if (err instanceof AmoValidationError) {
      const named = new Map(err.groups.map((g) => [g.request_id, g]));
      const bad = items.filter((_item, n) => named.has(String(n)));
      if (bad.length) {
        for (const [n, item] of items.entries()) {
          const group = named.get(String(n));
          if (group) item.reject(new AmoValidationError(`amoCRM refused ${item.entity} in a shared ${item.lane} request: ${JSON.stringify(group.errors)}`, [{ ...group, request_id: '0' }]));
        }
        const rest = items.filter((item) => !bad.includes(item));
        if (rest.length) await this.send(rest, false);
        return;
      }
    }
    if ((err instanceof PermanentCrmError || isGatewayTimeout(err)) && items.length > 1) {
      // Nothing says which element: halves until the culprit travels alone (504: the request was too big).
      const half = Math.ceil(items.length / 2);
      await Promise.all([this.send(items.slice(0, half), false), this.send(items.slice(half), false)]);
      return;
    }
    for (const item of items) item.reject(err);
  }
}

async function call(transport: MergeTransport, http: HttpCall, prepaid: boolean, missingAsNull: boolean): Promise<unknown> {
  try {
    return await transport.request(http.method, http.path, { query: http.query, body: http.body, prepaid });
  } catch (err) {
    // A single read of a missing entity: amoCRM answers 204 (null), some installations 404.
    if (missingAsNull && err instanceof PermanentCrmError && err.code === 'HTTP_404') return null;
    throw err;
  }
}

function isGatewayTimeout(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'HTTP_504';
}
