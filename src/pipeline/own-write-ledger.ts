import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DealRef } from '../crm/crm-port';
import { installationKey } from '../infra/keys';

/** Long enough for any webhook echo to come back (amoCRM retries within the hour are rare; Bitrix24 does not retry). */
const ECHO_WINDOW_SECONDS = 15 * 60;
/**
 * How much later than an event's stamps the write it answers may have been recorded: the CRM stamps
 * `ts` in whole seconds (floored), and the portal, the edge and the worker each read their own clock.
 */
const CLOCK_SKEW_MS = 2000;

/*
 * KEYS[1] the deal's expected echoes (a sorted set: member = one write, score = when it was recorded, epoch ms).
 * ARGV: from, to (epoch ms), keep (ms). Takes the oldest write recorded within [from, to] and removes it:
 * one write answers one event, however many workers ask. Marks older than `from - keep` are dropped.
 */
const CONSUME_ECHO = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. tostring(tonumber(ARGV[1]) - tonumber(ARGV[3])))
local hit = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, 1)
if #hit == 0 then return 0 end
redis.call('ZREM', KEYS[1], hit[1])
return 1
`;

/** The fields an amoCRM webhook carries that the app may also write: compared with what the ledger recorded. */
export type LedgerField = 'title' | 'stage';

/**
 * The app's own writes come back as webhooks. Robots write only when a value differs,
 * and this ledger lets the worker tell "the CRM shows our write" from "a person changed it":
 * we record the value we are about to write; a later event whose current value equals it is ours.
 *
 * Bitrix24 events carry no values (only the id), so for them the ledger also keeps one expected
 * echo per write (`expectEcho` / `consumeEcho`); see `process-event.ts` for when that is trusted.
 */
export class OwnWriteLedger {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(installationId: string, ref: DealRef, field: string) {
    return installationKey(this.prefix, installationId, 'own', ref.entity, ref.id, field);
  }

  private echoKey(installationId: string, ref: DealRef) {
    return installationKey(this.prefix, installationId, 'own', ref.entity, ref.id, 'echoes');
  }

  async record(installationId: string, ref: DealRef, field: string, value: string): Promise<void> {
    await this.redis.set(this.key(installationId, ref, field), value, 'EX', ECHO_WINDOW_SECONDS);
  }

  /** True when the current value is the one the app wrote (the echo of its own write). */
  async isOwn(installationId: string, ref: DealRef, field: string, currentValue: string): Promise<boolean> {
    return (await this.redis.get(this.key(installationId, ref, field))) === currentValue;
  }

  /** What the app last wrote to each of these fields (null: nothing within the echo window). */
  async recorded(installationId: string, ref: DealRef, fields: readonly LedgerField[]): Promise<Array<string | null>> {
    if (!fields.length) return [];
    return this.redis.mget(...fields.map((f) => this.key(installationId, ref, f)));
  }

  /**
   * A write of the deal that will raise exactly one update event is about to be sent. Returns the
   * write's mark, to withdraw with `withdrawEcho` when the write fails (no echo will come).
   */
  async expectEcho(installationId: string, ref: DealRef, atMs = Date.now()): Promise<string> {
    const mark = `${atMs}:${randomUUID()}`;
    const key = this.echoKey(installationId, ref);
    await this.redis.multi().zadd(key, atMs, mark).expire(key, ECHO_WINDOW_SECONDS).exec();
    return mark;
  }

  async withdrawEcho(installationId: string, ref: DealRef, mark: string): Promise<void> {
    await this.redis.zrem(this.echoKey(installationId, ref), mark);
  }

  /**
   * True when an event is taken as the echo of a write recorded at most `windowMs` before the CRM raised
   * it (`occurredAtMs`, else when it was received) and not after it was received; that write's mark is
   * consumed atomically, so it answers one event only.
   */
  async consumeEcho(installationId: string, ref: DealRef, event: { receivedAt: number; occurredAt?: number }, windowMs: number): Promise<boolean> {
    const raised = event.occurredAt ?? event.receivedAt;
    const from = raised - windowMs;
    const to = Math.min(raised, event.receivedAt) + CLOCK_SKEW_MS;
    const taken = await this.redis.eval(CONSUME_ECHO, 1, this.echoKey(installationId, ref), from, to, ECHO_WINDOW_SECONDS * 1000);
    return Number(taken) === 1;
  }
}
