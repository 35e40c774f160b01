/**
 * Webhook delivery of the emulated amoCRM account (research amocrm.md §2.2–2.3).
 *
 * - Items produced within `batchMs` for one destination are sent together in one POST
 *   (`leads[update][0]`, `leads[status][0]`, `leads[update][1]`, … in one body).
 * - amoCRM waits ≤ 2 s; only HTTP 100–299 is success. Anything else (or a timeout/refused
 *   connection) is a failure and is retried on `retryDelaysMs` (real: 5 min, 15 min, 15 min, 1 h).
 *   Attempts 2–3 follow any failure; attempts 4–5 only follow 499/5xx (a timeout counts as 499).
 * - More than `disableAfterInvalid` invalid answers within 2 h (the last one invalid) disables
 *   the webhook (`disabled: true` in `GET /api/v4/webhooks`); nothing is sent to it afterwards.
 */
import { toPhpForm } from '../form-encode';
import type { AmoStore } from './store';
import type { AmoWebhook, HookItem } from './types';
import { buildHookBody } from './v2-hooks';

export interface DeliveryRecord {
  webhookId: number;
  destination: string;
  /** HTTP status of the answer; 0 when there was none (timeout, connection refused). */
  status: number;
  /** Raw `application/x-www-form-urlencoded` body that was POSTed. */
  body: string;
  /** 1 for the first attempt, 2.. for retries of the same body. */
  attempt: number;
  at: number;
  durationMs: number;
  ok: boolean;
  error?: string;
}

export interface DispatcherOptions {
  batchMs: number;
  timeoutMs: number;
  retryDelaysMs: number[];
  disableAfterInvalid: number;
  disableWindowMs: number;
  userAgent: string;
}

interface Batch {
  items: HookItem[];
  timer: NodeJS.Timeout;
}

interface ScheduledRetry {
  timer: NodeJS.Timeout;
  run: () => void;
}

export class WebhookDispatcher {
  readonly deliveries: DeliveryRecord[] = [];
  private batches = new Map<number, Batch>();
  private retries = new Set<ScheduledRetry>();
  private inFlight = 0;
  private stopped = false;

  constructor(
    private readonly store: AmoStore,
    private readonly opts: DispatcherOptions,
  ) {}

  /** Queues an item for every enabled webhook subscribed to its setting. */
  enqueue(item: HookItem): void {
    if (this.stopped) return;
    for (const hook of this.store.webhooks) {
      if (hook.disabled || !hook.settings.includes(item.setting)) continue;
      let batch = this.batches.get(hook.id);
      if (!batch) {
        const hookId = hook.id;
        batch = { items: [], timer: setTimeout(() => this.flush(hookId), this.opts.batchMs) };
        this.batches.set(hook.id, batch);
      }
      batch.items.push(item);
    }
  }

  private flush(hookId: number): void {
    const batch = this.batches.get(hookId);
    this.batches.delete(hookId);
    const hook = this.store.webhooks.find((w) => w.id === hookId);
    if (!batch || !hook || hook.disabled || batch.items.length === 0) return;
    const body = toPhpForm(buildHookBody(this.store, batch.items));
    void this.deliver(hook, body, 1);
  }

  private async deliver(hook: AmoWebhook, body: string, attempt: number): Promise<void> {
    this.inFlight++;
    const started = Date.now();
    let status = 0;
    let error: string | undefined;
    let timedOut = false;
    try {
      const res = await fetch(hook.destination, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': this.opts.userAgent },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string }; message?: string };
      timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      error = timedOut ? 'timeout' : (e.cause?.code ?? e.message ?? 'network error');
      status = 0;
    } finally {
      this.inFlight--;
    }
    const ok = status >= 100 && status <= 299;
    this.deliveries.push({
      webhookId: hook.id,
      destination: hook.destination,
      status,
      body,
      attempt,
      at: started,
      durationMs: Date.now() - started,
      ok,
      ...(error !== undefined ? { error } : {}),
    });
    if (ok || this.stopped) return;

    // auto-disable bookkeeping (emulator clock, so tests can advance time)
    const now = this.store.now();
    hook.invalidAt = hook.invalidAt.filter((t) => t > now - this.opts.disableWindowMs);
    hook.invalidAt.push(now);
    if (hook.invalidAt.length > this.opts.disableAfterInvalid) {
      hook.disabled = true;
      return;
    }

    const retryIndex = attempt - 1;
    const delay = this.opts.retryDelaysMs[retryIndex];
    const serverSide = timedOut || status === 499 || status >= 500;
    if (delay === undefined || (retryIndex >= 2 && !serverSide)) return;
    const retry: ScheduledRetry = {
      timer: setTimeout(() => retry.run(), delay),
      run: () => {
        clearTimeout(retry.timer);
        if (!this.retries.delete(retry)) return;
        const current = this.store.webhooks.find((w) => w.id === hook.id);
        if (!current || current.disabled || this.stopped) return;
        void this.deliver(current, body, attempt + 1);
      },
    };
    this.retries.add(retry);
  }

  /** Runs every scheduled retry now (for demos with the real, long schedule). */
  runRetriesNow(): void {
    for (const r of [...this.retries]) r.run();
  }

  pending(includeRetries: boolean): number {
    let n = this.inFlight;
    for (const b of this.batches.values()) n += b.items.length > 0 ? 1 : 0;
    if (includeRetries) n += this.retries.size;
    return n;
  }

  async settle(includeRetries: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Let synchronous state changes made right before settle() enqueue their items first.
    await new Promise((r) => setImmediate(r));
    while (this.pending(includeRetries) > 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `amoCRM emulator: webhooks did not settle within ${timeoutMs} ms (in flight ${this.inFlight}, batches ${this.batches.size}, retries ${this.retries.size})`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const b of this.batches.values()) clearTimeout(b.timer);
    this.batches.clear();
    for (const r of this.retries) clearTimeout(r.timer);
    this.retries.clear();
  }
}
