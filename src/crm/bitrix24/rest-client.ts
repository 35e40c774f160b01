import { ApiVersion, B24OAuth, EnumAppStatus } from '@bitrix24/b24jssdk';
import { stringify } from 'qs';
import { InstallationRevokedError, PermanentCrmError, TransientError } from '../../errors';
import type { BucketLimits, RedisRateLimiter } from '../../infra/rate-limiter';
import type { Bitrix24Installation, TokenSet } from '../../installations/installation';
import type { TokenRefresher } from '../../installations/token-refresher';
import type { Logger } from '../../log';
import { callStatus, crmCallSeconds, crmCalls } from '../../observability/metrics';
import { type BatchCoalescer, type BatchCommand, type BatchResult, type BatchTransport, MAX_BATCH, isQuerySafe, prepaidToken } from './batch-coalescer';

export interface Bitrix24ClientDeps {
  installation: Bitrix24Installation;
  tokens: TokenSet;
  refresher: TokenRefresher;
  limiter: RedisRateLimiter;
  limiterKey: string;
  limits: BucketLimits;
  clientId: string;
  clientSecret: string;
  log: Logger;
  /** The installation's shared coalescer: calls and batches of concurrent jobs travel in shared batches. */
  coalescer?: BatchCoalescer;
}

export type { BatchResult } from './batch-coalescer';

const LIMIT_RETRIES = 3;

/**
 * Bitrix24 REST through the official SDK (`B24OAuth`), with what a multi-process app adds:
 * - every HTTP request first takes a token from the per-portal leaky bucket kept in Redis
 *   (the SDK's own limiter is per process; Bitrix24 counts per portal);
 * - token refresh goes through the cross-process single-flight refresher;
 * - retries are the queue's job (the SDK tries once), except a QUERY_LIMIT_EXCEEDED, which
 *   fills the shared bucket and waits for it to drain.
 */
export class Bitrix24RestClient implements BatchTransport {
  private readonly sdk: B24OAuth;
  private accessToken: string;

  constructor(private readonly deps: Bitrix24ClientDeps) {
    const { installation, tokens } = deps;
    this.accessToken = tokens.accessToken;
    this.sdk = new B24OAuth(
      {
        applicationToken: '',
        userId: Number(installation.userId ?? 0),
        memberId: installation.memberId,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expires: Math.floor(tokens.expiresAt / 1000),
        expiresIn: 3600,
        scope: 'crm,im,user_brief',
        domain: installation.domain,
        clientEndpoint: installation.clientEndpoint,
        serverEndpoint: installation.serverEndpoint,
        status: EnumAppStatus.Local,
      },
      { clientId: deps.clientId, clientSecret: deps.clientSecret },
      {
        restrictionParams: {
          // The shared Redis bucket is the limiter; the SDK's in-memory one would only add a second, wrong count.
          rateLimit: { burstLimit: 1_000_000, drainRate: 1_000_000, adaptiveEnabled: false },
          adaptiveConfig: { enabled: false, thresholdPercent: 80, coefficient: 0.01, maxDelay: 0 },
          maxRetries: 1,
          retryOnNetworkError: false,
        },
      },
    );
    this.sdk.setCustomRefreshAuth(async () => {
      const next = await deps.refresher.refresh(installation.id, this.accessToken);
      this.accessToken = next.accessToken;
      return {
        access_token: next.accessToken,
        refresh_token: next.refreshToken,
        expires: String(Math.floor(next.expiresAt / 1000)),
        expires_in: String(Math.max(1, Math.round((next.expiresAt - Date.now()) / 1000))),
        client_endpoint: installation.clientEndpoint,
        server_endpoint: installation.serverEndpoint,
        member_id: installation.memberId,
        scope: 'crm,im,user_brief',
        status: EnumAppStatus.Local,
        domain: installation.domain,
      };
    });
    // One Redis bucket token per HTTP request, whatever the SDK sends (including its retry after a refresh).
    const http = this.sdk.getHttpClient(ApiVersion.v2).ajaxClient;
    const sentAt = new WeakMap<object, number>();
    http.interceptors.request.use(async (config) => {
      // A coalesced batch took its token before choosing its commands; a retry after a refresh takes a new one.
      const prepaid = prepaidToken.getStore();
      if (prepaid && prepaid.tokens > 0) prepaid.tokens--;
      else await deps.limiter.acquire(deps.limiterKey, deps.limits, 1, 'bitrix24');
      sentAt.set(config, performance.now());
      return config;
    });
    // Every HTTP request is counted by REST method (a batch is `batch`) and status.
    const observe = (config: { url?: string } | undefined, status: number | undefined) => {
      crmCalls.inc({ crm: 'bitrix24', method: restMethodOf(config?.url), status: callStatus(status) });
      const started = config ? sentAt.get(config) : undefined;
      if (started !== undefined) crmCallSeconds.observe({ crm: 'bitrix24' }, (performance.now() - started) / 1000);
    };
    http.interceptors.response.use(
      (response) => {
        observe(response.config, response.status);
        return response;
      },
      (error: { config?: { url?: string }; response?: { status?: number } }) => {
        observe(error?.config, error?.response?.status);
        return Promise.reject(error);
      },
    );
  }

  /**
   * Calls one REST method and returns its `result`. With a coalescer the call travels as one command
   * of a shared batch (a sub-command error fails this call only), unless its params would not survive
   * the query form of a batch command.
   */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const { coalescer } = this.deps;
    if (!coalescer || method === 'batch' || !(Object.keys(params).length === 0 || isQuerySafe(params))) return this.callDirect<T>(method, params);
    return (await coalescer.call(method, params, (error) => subCommandFailure(method, error))) as T;
  }

  /** One plain REST call (HTTP request) now. */
  async callDirect<T>(method: string, params: Record<string, unknown>): Promise<T> {
    const answer = await this.withLimitRetry(method, () => this.sdk.actions.v2.call.make({ method, params }));
    if (!answer.isSuccess) {
      throw new PermanentCrmError(`Bitrix24 ${method} failed: ${answer.getErrorMessages().join('; ')}`, 'BITRIX24_ERROR');
    }
    return (answer.getData() as { result: T }).result;
  }

  /**
   * Several commands that belong together (≤ 50), sent together. Commands may reference earlier
   * results (`$result[deal][item][contactId]`). Sub-command errors are returned, not thrown:
   * Bitrix24 answers a batch with HTTP 200 whatever its commands did. With a coalescer they share
   * a batch with other jobs' commands, still whole and in order.
   */
  async batch(commands: Record<string, BatchCommand>): Promise<BatchResult> {
    const keys = Object.keys(commands);
    if (keys.length > MAX_BATCH) throw new Error(`A Bitrix24 batch takes at most ${MAX_BATCH} commands, got ${keys.length}`);
    if (this.deps.coalescer) return this.deps.coalescer.submit(commands);
    const cmd = Object.fromEntries(keys.map((k) => [k, `${commands[k]!.method}?${stringify(commands[k]!.params ?? {})}`]));
    return this.sendBatch(cmd);
  }

  /** One `batch` HTTP request (the coalescer's transport). */
  async sendBatch(cmd: Record<string, string>): Promise<BatchResult> {
    const result = await this.callDirect<{ result?: Record<string, unknown> | unknown[]; result_error?: Record<string, unknown> | unknown[] }>('batch', { halt: 0, cmd });
    return {
      result: asRecord(result.result),
      errors: asRecord(result.result_error) as BatchResult['errors'],
    };
  }

  private async withLimitRetry<T>(method: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        const failure = classify(err, method, this.deps.installation.id);
        if (failure instanceof LimitExceeded && attempt < LIMIT_RETRIES) {
          this.deps.log.warn({ method, attempt }, 'Bitrix24 QUERY_LIMIT_EXCEEDED: waiting for the shared bucket to drain');
          await this.deps.limiter.penalize(this.deps.limiterKey, this.deps.limits);
          continue;
        }
        throw failure;
      }
    }
  }
}

class LimitExceeded extends TransientError {}

/** A failed sub-command, as the same call sent alone would have failed. */
function subCommandFailure(method: string, error: { error: string; error_description?: string }): Error {
  const code = String(error.error ?? 'UNKNOWN');
  const text = `Bitrix24 ${method}: ${code} ${error.error_description ?? ''}`.trim();
  if (code === 'QUERY_LIMIT_EXCEEDED' || code === 'OPERATION_TIME_LIMIT' || code === 'INTERNAL_SERVER_ERROR') return new TransientError(text, code);
  return new PermanentCrmError(text, code);
}

interface SdkFailure {
  code?: unknown;
  status?: unknown;
  message?: string;
  originalError?: unknown;
}

/** Maps an SDK/axios failure to the app's retry decision. */
function classify(err: unknown, method: string, installationId: string): Error {
  if (err instanceof InstallationRevokedError || err instanceof TransientError) return err;
  const failure = (err ?? {}) as SdkFailure;
  if (failure.originalError instanceof InstallationRevokedError || failure.originalError instanceof TransientError) return failure.originalError;
  const code = String(failure.code ?? 'UNKNOWN');
  const status = Number(failure.status ?? 0);
  const text = `Bitrix24 ${method}: ${code} ${failure.message ?? ''}`.trim();
  if (code === 'QUERY_LIMIT_EXCEEDED') return new LimitExceeded(text, code);
  if (code === 'OPERATION_TIME_LIMIT' || status === 429) return new TransientError(text, code);
  if (status >= 500 || status === 0 || code === 'REQUEST_TIMEOUT' || code === 'NETWORK_ERROR') return new TransientError(text, code);
  if (status === 401 && (code === 'NO_AUTH_FOUND' || code === 'invalid_token' || code === 'expired_token')) {
    return new InstallationRevokedError(installationId, `${code} after a token refresh`);
  }
  return new PermanentCrmError(text, code);
}

/** The SDK posts to `<client_endpoint>/<method>?…`: the method name, or `other` for anything unexpected. */
function restMethodOf(url: string | undefined): string {
  const segment = decodeURIComponent(new URL(url ?? '/', 'http://x').pathname.split('/').pop() ?? '').replace(/\.json$/, '');
  return /^[a-z0-9_.]{1,64}$/i.test(segment) ? segment.toLowerCase() : 'other';
}

function asRecord(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
