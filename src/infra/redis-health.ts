import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { redisUp } from '../observability/metrics';

/** Redis did not answer in time; the edge answers 503 so the CRM retries (amoCRM) or catch-up finds it (Bitrix24). */
export class RedisUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

/** What ioredis and BullMQ say when the server is refused, gone, or frozen (timeouts). */
const UNAVAILABLE = /command timed out|stream isn't writeable|connection is closed|econnrefused|econnreset|etimedout|ehostunreach|enotfound|max retries per request|reached the max retries/i;

export function isRedisUnavailable(err: unknown): boolean {
  if (err instanceof RedisUnavailableError) return true;
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || UNAVAILABLE.test(err.message) || (err.cause !== undefined && err.cause !== err && isRedisUnavailable(err.cause));
}

/** Rejects with RedisUnavailableError when `work` has not settled within `ms` (its result is then ignored). */
export async function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`${what}: Redis did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One line when Redis becomes unreachable and one when it is back, however many connections
 * and commands fail in between (ioredis would otherwise print "Unhandled error event" to stderr
 * for every reconnect attempt). While it is down, a PING every second notices the return: a
 * frozen server that thaws emits no event of its own.
 */
export class RedisOutage {
  private since: number | null = null;
  private failures = 0;
  private probe: NodeJS.Timeout | undefined;
  /** Set when the process closes its connections: what they say while closing is no outage. */
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly probeConnection: Redis,
    private readonly probeEveryMs = 1000,
  ) {}

  get down(): boolean {
    return this.since !== null;
  }

  /** Every connection of the process goes through here, so none prints raw errors. */
  watch<R extends Pick<Redis, 'on'>>(connection: R, name: string): R {
    connection.on('error', (err: Error) => this.failed(name, err));
    connection.on('ready', () => {
      if (this.since === null) redisUp.set(1);
      this.recovered();
    });
    return connection;
  }

  /** An `error` listener for BullMQ queues and workers: outages go through here, anything else is logged as is. */
  errorHandler(source: string): (err: Error) => void {
    return (err) => {
      if (isRedisUnavailable(err)) this.failed(source, err);
      else this.log.error({ err, source }, `${source} error`);
    };
  }

  failed(source: string, err: unknown): void {
    if (this.closed) return;
    this.failures++;
    if (this.since !== null) return;
    this.since = Date.now();
    redisUp.set(0);
    this.log.error({ redis: source, err: err instanceof Error ? err.message : String(err) }, 'Redis is unreachable: the edge answers 503 and jobs wait until it is back');
    this.probe = setInterval(() => void this.ping(), this.probeEveryMs);
    this.probe.unref();
  }

  recovered(): void {
    if (this.since === null) return;
    this.log.info({ downMs: Date.now() - this.since, failures: this.failures }, 'Redis is back');
    this.since = null;
    this.failures = 0;
    this.stop();
    redisUp.set(1);
  }

  /** The process is closing its connections on purpose. */
  close(): void {
    this.closed = true;
    this.stop();
  }

  stop(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
  }

  private async ping(): Promise<void> {
    try {
      if ((await this.probeConnection.ping()) === 'PONG') this.recovered();
    } catch {
      // still down; counted, not logged
      this.failures++;
    }
  }
}
