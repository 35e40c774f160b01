import { AsyncLocalStorage } from 'node:async_hooks';
import { stringify } from 'qs';
import type { BucketLimits, RedisRateLimiter } from '../../infra/rate-limiter';
import type { Logger } from '../../log';

/** One REST command as callers write it. */
export interface BatchCommand {
  method: string;
  params?: Record<string, unknown>;
}

export type SubCommandError = { error: string; error_description?: string };

/** What one caller's commands came back with (keys are the caller's own). */
export interface BatchResult {
  result: Record<string, unknown>;
  errors: Record<string, SubCommandError>;
}

/** Sends one HTTP request with one access token. */
export interface BatchTransport {
  /** A `batch` request (`cmd` already `method?query` strings). */
  sendBatch(cmd: Record<string, string>): Promise<BatchResult>;
  /** A plain method call, for a call that found no company. */
  callDirect(method: string, params: Record<string, unknown>): Promise<unknown>;
}

/** The most commands Bitrix24 runs in one `batch`. */
export const MAX_BATCH = 50;
/**
 * Batches on the wire at once. More than one keeps the pipe busy while a batch runs; not many more,
 * since the shared bucket is the real pace and a queued command is better packed into the next batch.
 */
const MAX_IN_FLIGHT = 2;
/** No batch for this long: the portal is idle, and the next command goes in the next tick. */
const IDLE_AFTER_MS = 1000;
/** Commands arriving over the last PACE_MS tell the pace a batch fills at. */
const PACE_MS = 1000;
/**
 * A wait is worth it only when it gathers at least this many more commands into the batch: a job's few
 * sequential calls (read, write, comment) at a handful per second would each wait a drain step for nothing.
 */
const MIN_GAIN_COMMANDS = 10;

/**
 * The Redis bucket token a flush took before choosing its commands. The HTTP interceptor spends it
 * instead of taking another one, so the wait for the bucket *is* the batching window.
 */
export const prepaidToken = new AsyncLocalStorage<{ tokens: number }>();

interface Group {
  /** What the caller sent: sent as it is when it travels alone (same wire as without coalescing). */
  original: { call: BatchCommand } | { batch: Record<string, string> };
  /** The caller's commands, keys prefixed so they cannot meet another caller's. */
  cmd: Record<string, string>;
  prefix: string;
  keys: string[];
  /** Entities the group reads or writes (`2:15`): same-entity groups never travel in two batches at once. */
  entities: string[];
  resolve(result: BatchResult): void;
  reject(error: unknown): void;
}

export interface CoalescerDeps {
  limiter: RedisRateLimiter;
  limiterKey: string;
  limits: BucketLimits;
  log: Logger;
}

/**
 * Gathers the REST commands that concurrent jobs of one portal send into shared `batch` calls of up
 * to 50 commands. One per installation per process; every Bitrix24 client of that installation
 * sends through it.
 *
 * - Idle: a command goes in the next tick (no added latency).
 * - Busy: a flush waits for a full batch as long as the current pace needs (at most one drain step,
 *   see `gather`), then for a token of the shared Redis bucket, and only then takes what has queued up
 *   meanwhile — the busier the portal, the fuller the batch.
 *   At most MAX_IN_FLIGHT batches are on the wire; commands arriving meanwhile wait for the next one.
 * - A caller's batch stays whole inside one shared batch; its keys are prefixed and its `$result[key]`
 *   references rewritten to match.
 * - Order per deal: a group touching an entity that is in a batch on the wire waits for that batch
 *   (and so does every later group for that entity), so writes to one deal happen in the order sent.
 */
export class BatchCoalescer {
  private readonly queue: Group[] = [];
  private readonly busyEntities = new Map<string, number>();
  private inFlight = 0;
  private pumping = false;
  private lastFlushAt = -Infinity;
  private queuedCommands = 0;
  private onFull: (() => void) | null = null;
  /** [time, commands] of recent arrivals, oldest first, kept for PACE_MS. */
  private readonly arrivals: Array<[number, number]> = [];
  private sequence = 0;
  private transport: BatchTransport | null = null;
  /** Figures for benches and tests. */
  readonly stats = { batches: 0, commands: 0 };

  constructor(private readonly deps: CoalescerDeps) {}

  /** The client whose access token the next batches go with (the most recent one built). */
  useTransport(transport: BatchTransport): void {
    this.transport = transport;
  }

  /**
   * Queues one call. It resolves with its `result`; a failed command rejects, with the error of a
   * direct call when it travelled alone, else with what `failure` makes of its sub-command error.
   */
  async call(method: string, params: Record<string, unknown>, failure: (error: SubCommandError) => Error): Promise<unknown> {
    const { result, errors } = await this.enqueue({ one: { method, params } }, { call: { method, params } });
    if (errors.one) throw failure(errors.one);
    return result.one;
  }

  /** Queues a caller's commands (≤ 50, sent together) and resolves with their own results and errors. */
  submit(commands: Record<string, BatchCommand>): Promise<BatchResult> {
    return this.enqueue(commands, null);
  }

  private enqueue(commands: Record<string, BatchCommand>, call: { call: BatchCommand } | null): Promise<BatchResult> {
    const keys = Object.keys(commands);
    if (keys.length > MAX_BATCH) return Promise.reject(new Error(`A Bitrix24 batch takes at most ${MAX_BATCH} commands, got ${keys.length}`));
    if (!keys.length) return Promise.resolve({ result: {}, errors: {} });
    const prefix = `q${(this.sequence++).toString(36)}_`;
    const own = new Set(keys);
    const cmd = Object.fromEntries(
      keys.map((k) => [`${prefix}${k}`, `${commands[k]!.method}?${stringify(rewriteRefs(commands[k]!.params ?? {}, own, prefix))}`]),
    );
    const entities = [...new Set(keys.map((k) => entityOf(commands[k]!)).filter((e): e is string => e !== null))];
    const original = call ?? { batch: Object.fromEntries(keys.map((k) => [k, `${commands[k]!.method}?${stringify(commands[k]!.params ?? {})}`])) };
    return new Promise<BatchResult>((resolve, reject) => {
      this.queue.push({ original, cmd, prefix, keys, entities, resolve, reject });
      this.queuedCommands += keys.length;
      this.arrivals.push([performance.now(), keys.length]);
      if (this.queuedCommands >= MAX_BATCH) this.onFull?.();
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pumping || this.inFlight >= MAX_IN_FLIGHT || !this.queue.length) return;
    this.pumping = true;
    // setImmediate: the commands issued in this tick by concurrent jobs travel together.
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      while (this.inFlight < MAX_IN_FLIGHT && this.sendable()) {
        await this.gather();
        await this.deps.limiter.acquire(this.deps.limiterKey, this.deps.limits, 1, 'bitrix24');
        // Nothing but new commands joins the queue meanwhile, so what was sendable still is.
        const groups = this.take();
        this.lastFlushAt = performance.now();
        this.inFlight++;
        void this.send(groups, { tokens: 1 }).finally(() => {
          this.inFlight--;
          for (const e of groups.flatMap((g) => g.entities)) this.release(e);
          this.schedule();
        });
      }
    } catch (err) {
      // The bucket itself failed (Redis down): every waiting caller learns it, as a direct call would.
      for (const group of this.queue.splice(0)) group.reject(err);
      this.queuedCommands = 0;
    } finally {
      this.pumping = false;
      if (this.inFlight < MAX_IN_FLIGHT && this.sendable()) this.schedule();
    }
  }

  /**
   * The adaptive window. Every HTTP call costs a token of a bucket that refills at `perSecond`, so a
   * token spent on a near-empty batch during a burst is one missing later. Busy, a flush waits for a
   * full batch as long as it takes to fill one at the current pace — at most one drain step (the
   * bucket's pace anyway). It does not wait at all when the portal was idle (the first command goes in
   * the next tick), when commands come no faster than the bucket lets calls go (batching would
   * save nothing), or when the window would gather fewer than MIN_GAIN_COMMANDS (a single job's
   * sequential calls: waiting would only add latency).
   */
  private async gather(): Promise<void> {
    const now = performance.now();
    if (now - this.lastFlushAt > IDLE_AFTER_MS || this.queuedCommands >= MAX_BATCH) return;
    while (this.arrivals.length && this.arrivals[0]![0] < now - PACE_MS) this.arrivals.shift();
    const perSecond = (this.arrivals.reduce((sum, [, n]) => sum + n, 0) * 1000) / PACE_MS;
    if (perSecond <= this.deps.limits.perSecond) return;
    const windowMs = Math.min(1000 / this.deps.limits.perSecond, ((MAX_BATCH - this.queuedCommands) / perSecond) * 1000);
    if ((perSecond * windowMs) / 1000 < MIN_GAIN_COMMANDS) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, windowMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.onFull = done;
    });
    this.onFull = null;
  }

  private sendable(): boolean {
    return this.queue.some((g) => !g.entities.some((e) => this.busyEntities.has(e)));
  }

  /** Up to 50 commands, oldest first, skipping (and keeping in order) groups for an entity on the wire. */
  private take(): Group[] {
    const taken: Group[] = [];
    const blocked = new Set([...this.busyEntities.keys()]);
    let room = MAX_BATCH;
    for (let i = 0; i < this.queue.length && room > 0; ) {
      const group = this.queue[i]!;
      if (group.entities.some((e) => blocked.has(e)) || group.keys.length > room) {
        // A later group for the same entity must not overtake this one.
        for (const e of group.entities) blocked.add(e);
        if (group.keys.length > room) break;
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.queuedCommands -= group.keys.length;
      taken.push(group);
      room -= group.keys.length;
    }
    for (const e of taken.flatMap((g) => g.entities)) this.busyEntities.set(e, (this.busyEntities.get(e) ?? 0) + 1);
    return taken;
  }

  private release(entity: string): void {
    const left = (this.busyEntities.get(entity) ?? 1) - 1;
    if (left > 0) this.busyEntities.set(entity, left);
    else this.busyEntities.delete(entity);
  }

  private async send(groups: Group[], prepaid: { tokens: number }): Promise<void> {
    if (groups.length === 1) return this.sendAlone(groups[0]!, prepaid);
    const cmd = Object.assign({}, ...groups.map((g) => g.cmd)) as Record<string, string>;
    this.stats.batches++;
    this.stats.commands += Object.keys(cmd).length;
    try {
      if (!this.transport) throw new Error('No Bitrix24 client registered for this installation');
      const answer = await prepaidToken.run(prepaid, () => this.transport!.sendBatch(cmd));
      for (const group of groups) group.resolve(ownPart(answer, group));
    } catch (err) {
      // The whole request failed (network, token, limit after retries): each caller's job retries.
      for (const group of groups) group.reject(err);
    }
  }

  /** A caller with no company goes as it came: its own call, or its own batch under its own keys. */
  private async sendAlone(group: Group, prepaid: { tokens: number }): Promise<void> {
    this.stats.batches++;
    this.stats.commands += group.keys.length;
    try {
      if (!this.transport) throw new Error('No Bitrix24 client registered for this installation');
      const transport = this.transport;
      const { original } = group;
      if ('call' in original) {
        const result = await prepaidToken.run(prepaid, () => transport.callDirect(original.call.method, original.call.params ?? {}));
        group.resolve({ result: { one: result }, errors: {} });
      } else {
        group.resolve(await prepaidToken.run(prepaid, () => transport.sendBatch(original.batch)));
      }
    } catch (err) {
      group.reject(err);
    }
  }
}

function ownPart(answer: BatchResult, group: Group): BatchResult {
  const result: Record<string, unknown> = {};
  const errors: Record<string, SubCommandError> = {};
  for (const key of group.keys) {
    const wire = `${group.prefix}${key}`;
    if (wire in answer.result) result[key] = answer.result[wire];
    if (wire in answer.errors) errors[key] = answer.errors[wire]!;
  }
  return { result, errors };
}

const REF = /\$(result_total|result_next|result_error|result)\[([^\][]*)\]/g;

/** `$result[item][…]` → `$result[q1_item][…]` for the caller's own keys. */
function rewriteRefs(value: unknown, own: ReadonlySet<string>, prefix: string): unknown {
  if (typeof value === 'string') return value.replace(REF, (match, kind: string, key: string) => (own.has(key) ? `$${kind}[${prefix}${key}]` : match));
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, own, prefix));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteRefs(v, own, prefix)]));
  return value;
}

/** The CRM entity a command reads or writes, when it names one (`crm.item.*`, timeline comments). */
function entityOf(command: BatchCommand): string | null {
  const p = command.params ?? {};
  if (command.method.startsWith('crm.item.') && p.entityTypeId !== undefined && p.id !== undefined && !String(p.id).startsWith('$')) {
    return `${String(p.entityTypeId)}:${String(p.id)}`;
  }
  const fields = p.fields as Record<string, unknown> | undefined;
  if (command.method === 'crm.timeline.comment.add' && fields?.ENTITY_ID !== undefined) {
    const type = { lead: 1, deal: 2, contact: 3 }[String(fields.ENTITY_TYPE)] ?? String(fields.ENTITY_TYPE);
    return `${type}:${String(fields.ENTITY_ID)}`;
  }
  return null;
}

/**
 * Whether params survive the `method?query` form of a batch command unchanged: empty arrays/objects,
 * null and booleans do not (a query has no empty list, no null, no type), so such a call goes alone.
 */
export function isQuerySafe(value: unknown): boolean {
  if (typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.length > 0 && value.every(isQuerySafe);
  if (value && typeof value === 'object') {
    const entries = Object.values(value);
    return entries.length > 0 && entries.every(isQuerySafe);
  }
  return false;
}
