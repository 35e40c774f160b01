import type { Redis } from 'ioredis';
import { CrmBlockedError, InstallationRevokedError, PermanentCrmError, TransientError } from '../../errors';
import { installationKey } from '../../infra/keys';
import type { BucketLimits, RedisRateLimiter } from '../../infra/rate-limiter';
import type { AmocrmInstallation, TokenSet } from '../../installations/installation';
import type { TokenRefresher } from '../../installations/token-refresher';
import type { Logger } from '../../log';
import { amocrmPathLabel, callStatus, crmCallSeconds, crmCalls } from '../../observability/metrics';

export interface AmoClientDeps {
  installation: AmocrmInstallation;
  tokens: TokenSet;
  refresher: TokenRefresher;
  limiter: RedisRateLimiter;
  limits: BucketLimits;
  redis: Redis;
  prefix: string;
  log: Logger;
}

export interface AmoRequest {
  query?: Record<string, string | number | Array<string | number>>;
  body?: unknown;
  /** The caller already took this request's token from the shared bucket (`acquireSlot`); a retry takes a new one. */
  prepaid?: boolean;
}

/** One element's errors in a 400 `validation-errors` answer; `request_id` names the element of an array request. */
export interface AmoValidationGroup {
  request_id: string;
  errors: Array<{ code: string; path: string; detail: string }>;
}

/** amoCRM refused the request's content (400 with `validation-errors`): the groups say which elements. */
export class AmoValidationError extends PermanentCrmError {
  constructor(message: string, readonly groups: AmoValidationGroup[]) {
    super(message, 'HTTP_400');
    this.name = 'AmoValidationError';
  }
}

const TIMEOUT_MS = 15_000;
/** amoCRM access tokens live 24 h; refreshing an hour early keeps calls from meeting an expired one. */
const REFRESH_AHEAD_MS = 60 * 60 * 1000;
/** After a 403 block nobody calls the account for this long (only amoCRM support lifts a block). */
const BLOCK_PAUSE_SECONDS = 15 * 60;
const LIMIT_RETRIES = 3;

/**
 * A thin typed client for amoCRM API v4 (see README: why not amocrm-js). It adds what the
 * platform demands: the shared 7 req/s bucket, single-flight token refresh, 204 = empty,
 * non-JSON 429 bodies, and a circuit breaker on the 403 account block.
 */
export class AmoRestClient {
  private tokens: TokenSet;

  constructor(private readonly deps: AmoClientDeps) {
    this.tokens = deps.tokens;
  }

  get<T>(path: string, query?: AmoRequest['query']): Promise<T | null> {
    return this.request<T>('GET', path, { query });
  }

  patch<T>(path: string, body: unknown): Promise<T | null> {
    return this.request<T>('PATCH', path, { body });
  }

  post<T>(path: string, body: unknown): Promise<T | null> {
    return this.request<T>('POST', path, { body });
  }

  delete<T>(path: string, body: unknown): Promise<T | null> {
    return this.request<T>('DELETE', path, { body });
  }

  /** Returns the parsed body, or null for 204 No Content (amoCRM's empty list). */
  async request<T>(method: string, path: string, req: AmoRequest = {}): Promise<T | null> {
    const { installation } = this.deps;
    const blockKey = installationKey(this.deps.prefix, installation.id, 'amocrm-blocked');
    // A prepaid request was checked before its token was taken (see acquireSlot).
    if (!req.prepaid) await this.refuseIfBlocked(blockKey);
    if (this.tokens.expiresAt - Date.now() < REFRESH_AHEAD_MS) await this.refresh();
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (!(req.prepaid && attempt === 1)) await this.takeToken();
      const response = await this.send(method, path, req);
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        await this.refresh();
        continue;
      }
      if (response.status === 429 && attempt < LIMIT_RETRIES) {
        this.deps.log.warn({ path, attempt }, 'amoCRM 429: backing off through the shared bucket');
        // amoCRM counts a sliding second: after a 429 nobody sends for a full second.
        await this.deps.limiter.penalize(installationKey(this.deps.prefix, installation.id, 'rate'), this.deps.limits, 1000);
        continue;
      }
      return this.interpret<T>(response, method, path, blockKey);
    }
  }

  /**
   * For the request merger, which takes a token before choosing what to send: the block check first,
   * then the token, so nothing but the send lies between admission and the wire. A Redis round trip
   * there let requests admitted apart arrive together, and amoCRM counts them on arrival.
   */
  async acquireSlot(): Promise<void> {
    await this.refuseIfBlocked(installationKey(this.deps.prefix, this.deps.installation.id, 'amocrm-blocked'));
    await this.takeToken();
  }

  private takeToken(): Promise<void> {
    return this.deps.limiter.acquire(installationKey(this.deps.prefix, this.deps.installation.id, 'rate'), this.deps.limits, 1, 'amocrm');
  }

  private async refuseIfBlocked(blockKey: string): Promise<void> {
    if (await this.deps.redis.exists(blockKey)) {
      throw new CrmBlockedError(`amoCRM account ${this.deps.installation.accountId} is blocked for API calls; paused`);
    }
  }

  private async refresh(): Promise<void> {
    this.tokens = await this.deps.refresher.refresh(this.deps.installation.id, this.tokens.accessToken);
  }

  private async send(method: string, path: string, req: AmoRequest): Promise<Response> {
    const url = new URL(path, this.deps.installation.baseUrl);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(Array.isArray(v) ? `${k}[]` : k, String(item));
    }
    const method_ = `${method} ${amocrmPathLabel(path)}`;
    const started = performance.now();
    try {
      const response = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.tokens.accessToken}`,
          ...(req.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      crmCalls.inc({ crm: 'amocrm', method: method_, status: callStatus(response.status) });
      return response;
    } catch (err) {
      crmCalls.inc({ crm: 'amocrm', method: method_, status: callStatus(undefined) });
      throw new TransientError(`amoCRM ${method} ${path}: ${(err as Error).message}`, 'NETWORK', { cause: err });
    } finally {
      crmCallSeconds.observe({ crm: 'amocrm' }, (performance.now() - started) / 1000);
    }
  }

  private async interpret<T>(response: Response, method: string, path: string, blockKey: string): Promise<T | null> {
    const text = await response.text();
    const what = `amoCRM ${method} ${path} → ${response.status}`;
    if (response.status === 204) return null;
    if (response.ok) return (text ? JSON.parse(text) : null) as T | null;
    if (response.status === 403) {
      await this.deps.redis.set(blockKey, '1', 'EX', BLOCK_PAUSE_SECONDS);
      this.deps.log.fatal(
        { installation: this.deps.installation.id, account: this.deps.installation.accountId },
        'amoCRM answered 403: the account is blocked for API calls (limit violations). All calls to it are paused; contact amoCRM support to lift the block.',
      );
      throw new CrmBlockedError(what);
    }
    if (response.status === 401) throw new InstallationRevokedError(this.deps.installation.id, `${what} after a token refresh`);
    if (response.status === 429 || response.status >= 500) throw new TransientError(what, `HTTP_${response.status}`);
    const groups = response.status === 400 ? validationGroups(text) : [];
    if (groups.length) throw new AmoValidationError(`${what}: ${problemDetail(text)}`, groups);
    throw new PermanentCrmError(`${what}: ${problemDetail(text)}`, `HTTP_${response.status}`);
  }
}

/** The human part of an application/problem+json body (validation errors included). */
function problemDetail(text: string): string {
  try {
    const problem = JSON.parse(text) as { detail?: string; title?: string; 'validation-errors'?: unknown };
    const validation = problem['validation-errors'] ? ` ${JSON.stringify(problem['validation-errors'])}` : '';
    return `${problem.title ?? ''} ${problem.detail ?? ''}${validation}`.trim();
  } catch {
    return text.slice(0, 200);
  }
}

function validationGroups(text: string): AmoValidationGroup[] {
  try {
    const groups = (JSON.parse(text) as { 'validation-errors'?: unknown })['validation-errors'];
    return Array.isArray(groups) ? groups.map((g: { request_id?: unknown; errors?: unknown }) => ({ request_id: String(g.request_id ?? ''), errors: Array.isArray(g.errors) ? g.errors : [] })) : [];
  } catch {
    return [];
  }
}
