import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TransientError } from '../../errors';
import type { BucketLimits, RedisRateLimiter } from '../../infra/rate-limiter';
import { sleep } from '../../infra/sleep';
import type { Logger } from '../../log';
import { InventoryConfigError } from '../inventory-port';

/**
 * HTTP client of one Profitbase account (API v4). What the platform demands (research
 * inventory.md §1): `POST /authentication` with the API key for a token, the token in
 * `?access_token=`, JSON bodies, **at most one request per second per account** — faster traffic
 * gets the sender IP blocked — so every request of every process waits for the shared Redis bucket
 * first. A 403 with a JSON body means the token expired: one re-authentication, then the call again.
 */
export interface ProfitbaseClientDeps {
  baseUrl: string;
  apiKey: string;
  redis: Redis;
  limiter: RedisRateLimiter;
  /** Key prefix of the app; token and bucket are per Profitbase account (its base URL). */
  prefix: string;
  log: Logger;
  /** ≤ 1 request/s; below 1 leaves room for network jitter. */
  requestsPerSecond: number;
  timeoutMs?: number;
}

export interface PbResponse {
  status: number;
  body: unknown;
}

const TIMEOUT_MS = 15_000;

export class ProfitbaseClient {
  private readonly limits: BucketLimits;
  private readonly account: string;

  constructor(private readonly deps: ProfitbaseClientDeps) {
    this.limits = { burst: 1, perSecond: deps.requestsPerSecond };
    this.account = new URL(deps.baseUrl).host;
  }

  private get rateKey() {
    return `${this.deps.prefix}:profitbase:${this.account}:rate`;
  }

  /** Per account and key: a token got with the old key never answers for a new one (a key change, "test connection"). */
  private get tokenKey() {
    const key = createHash('sha256').update(this.deps.apiKey).digest('hex').slice(0, 16);
    return `${this.deps.prefix}:profitbase:${this.account}:token:${key}`;
  }

  async request(method: string, path: string, options: { query?: Record<string, string | number>; body?: unknown } = {}): Promise<PbResponse> {
    let token = await this.token();
    for (let renewed = false; ; renewed = true) {
      const response = await this.send(method, path, options, token);
      if (response.status === 403 && isJsonError(response.body) && !renewed) {
        // The token expired (Profitbase answers 403): renew once.
        await this.deps.redis.del(this.tokenKey);
        token = await this.token();
        continue;
      }
      return response;
    }
  }

  /**
   * A cached token (shared by every process through Redis), or a new one. One process at a time
   * authenticates (a Redis lock); the others wait for its token: each authentication spends a
   * second of the account's 1 request/s.
   */
  private async token(): Promise<string> {
    const lockKey = `${this.tokenKey}:lock`;
    for (let waited = 0; waited < 30_000; waited += 100) {
      const cached = await this.deps.redis.get(this.tokenKey);
      if (cached) return cached;
      if (await this.deps.redis.set(lockKey, '1', 'PX', 20_000, 'NX')) {
        try {
          return await this.authenticate();
        } finally {
          await this.deps.redis.del(lockKey);
        }
      }
      await sleep(100);
    }
    throw new TransientError('Profitbase authentication by another process did not finish in 30 s', 'PROFITBASE_AUTH');
  }

  private async authenticate(): Promise<string> {
    const response = await this.send('POST', '/authentication', { body: { type: 'api-app', credentials: { pb_api_key: this.deps.apiKey } } }, null);
    const body = response.body as { access_token?: unknown; remaining_time?: unknown } | null;
    if (response.status === 401 || response.status === 400 || (response.status === 403 && isJsonError(response.body))) {
      throw new InventoryConfigError(`Profitbase refused the API key (${response.status} ${errorText(response.body)}): check unitStatusSync.inventory.apiKey and that the «API Profitbase» app is active`, 'bad_key');
    }
    if (response.status !== 200 || typeof body?.access_token !== 'string') {
      throw new TransientError(`Profitbase authentication failed: ${response.status} ${errorText(response.body)}`, 'PROFITBASE_AUTH');
    }
    const ttl = typeof body.remaining_time === 'number' && body.remaining_time > 120 ? body.remaining_time - 60 : 60;
    await this.deps.redis.set(this.tokenKey, body.access_token, 'EX', Math.floor(ttl));
    return body.access_token;
  }

  private async send(method: string, path: string, options: { query?: Record<string, string | number>; body?: unknown }, token: string | null): Promise<PbResponse> {
    const url = new URL(this.deps.baseUrl.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, String(v));
    if (token) url.searchParams.set('access_token', token);
    await this.deps.limiter.acquire(this.rateKey, this.limits);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      // Unreachable may be a restart of the service as well as a wrong URL: retried, and `npm run inventory -- test` shows it.
      if (cause === 'ENOTFOUND' || cause === 'ECONNREFUSED') throw new TransientError(`Profitbase is not reachable at ${this.deps.baseUrl} (${cause}): check unitStatusSync.inventory.baseUrl`, 'INVENTORY_UNREACHABLE', { cause: err });
      throw new TransientError(`Profitbase ${method} ${path}: ${(err as Error).message}`, 'PROFITBASE_NETWORK', { cause: err });
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* HTML (nginx 403/429/5xx pages) stays text */
    }
    if (res.status === 429) {
      // The account is over 1 request/s (another app on the same key?): everyone waits a few seconds.
      await this.deps.limiter.penalize(this.rateKey, this.limits, 5000);
      throw new TransientError(`Profitbase 429 on ${method} ${path}`, 'PROFITBASE_RATE');
    }
    if (res.status === 403 && !isJsonError(body)) {
      this.deps.log.fatal({ account: this.account }, 'Profitbase blocked this IP (403 without an API error body): only Profitbase support lifts it; check that nothing else calls this account faster than 1 request/s');
      await this.deps.limiter.penalize(this.rateKey, this.limits, 60_000);
      throw new TransientError(`Profitbase blocked the IP (403 HTML) on ${method} ${path}`, 'PROFITBASE_BLOCKED');
    }
    if (res.status >= 500) throw new TransientError(`Profitbase ${res.status} on ${method} ${path}`, 'PROFITBASE_5XX');
    if (res.status === 404 && typeof body === 'string') throw new InventoryConfigError(`Profitbase answered 404 for ${path}: ${this.deps.baseUrl} does not look like an API v4 base URL (…/api/v4/json)`, 'wrong_url');
    return { status: res.status, body };
  }
}

function isJsonError(body: unknown): boolean {
  return typeof body === 'object' && body !== null;
}

/** The error code Profitbase gives (`{status:'error', code, message}`; other shapes tolerated). */
export function errorCode(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  const code = b.code ?? (b.error as Record<string, unknown> | undefined)?.code ?? b.error;
  return typeof code === 'string' ? code : null;
}

export function errorText(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 120);
  const b = (body ?? {}) as Record<string, unknown>;
  return [errorCode(body), typeof b.message === 'string' ? b.message : null].filter(Boolean).join(': ') || JSON.stringify(body)?.slice(0, 120) || '';
}
