import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';

/**
 * Every Prometheus metric of the app, in one registry. Labels stay low-cardinality: CRM, robot,
 * method, reason, queue — never an installation, deal or user id (thousands of portals would
 * make thousands of series per metric).
 *
 * One registry per process: `npm start` (web + worker in one process) shows everything on the
 * web port's `/metrics`; a separate worker process serves its own on METRICS_PORT.
 */
export const registry = new Registry();
registry.setDefaultLabels({ app: 'reglament' });
collectDefaultMetrics({ register: registry, prefix: 'reglament_' });

export const edgeEventsAccepted = new Counter({
  name: 'reglament_edge_events_accepted_total',
  help: 'CRM events the HTTP edge verified and enqueued (one amoCRM POST may carry several)',
  labelNames: ['crm'] as const,
  registers: [registry],
});

export const edgeEventsRefused = new Counter({
  name: 'reglament_edge_events_refused_total',
  help: 'Webhook requests the HTTP edge refused, by the error it answered (malformed, unknown installation, forged token, Redis unavailable…)',
  labelNames: ['crm', 'reason'] as const,
  registers: [registry],
});

export const jobsFinished = new Counter({
  name: 'reglament_jobs_total',
  help: 'Queue jobs finished by the worker: done, failed (will retry) or failed for good (attempts exhausted or unrecoverable)',
  labelNames: ['queue', 'outcome'] as const,
  registers: [registry],
});

export const robotRuns = new Counter({
  name: 'reglament_robot_runs_total',
  help: 'Robot handler runs by robot and outcome (done / failed)',
  labelNames: ['robot', 'outcome'] as const,
  registers: [registry],
});

export const robotActions = new Counter({
  name: 'reglament_robot_actions_total',
  help: 'What robots did in the CRM (ctx.report), by robot and kind of action',
  labelNames: ['robot', 'kind'] as const,
  registers: [registry],
});

export const crmCalls = new Counter({
  name: 'reglament_crm_calls_total',
  help: 'HTTP calls to a CRM by CRM, method (Bitrix24 REST method, "batch" for a batch; amoCRM HTTP method and path with ids as :id) and status',
  labelNames: ['crm', 'method', 'status'] as const,
  registers: [registry],
});

export const crmCallSeconds = new Histogram({
  name: 'reglament_crm_call_duration_seconds',
  help: 'Duration of one HTTP call to a CRM (after the rate limiter let it go)',
  labelNames: ['crm'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
  registers: [registry],
});

export const rateLimiterWaitSeconds = new Histogram({
  name: 'reglament_rate_limiter_wait_seconds',
  help: 'Time a CRM call waited for the shared per-installation leaky bucket',
  labelNames: ['crm'] as const,
  buckets: [0, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
  registers: [registry],
});

/** Worst reconciliation lag per installation, kept here and reported per CRM (the maximum). */
const reconcileLags = new Map<string, { crm: string; seconds: number }>();

export const reconcileLagSeconds = new Gauge({
  name: 'reglament_reconcile_lag_seconds',
  help: 'How far behind the CRM the catch-up is: the worst installation per CRM (now minus the watermark of the last change it saw)',
  labelNames: ['crm'] as const,
  registers: [registry],
  collect() {
    this.reset();
    const worst = new Map<string, number>();
    for (const { crm, seconds } of reconcileLags.values()) worst.set(crm, Math.max(worst.get(crm) ?? 0, seconds));
    for (const [crm, seconds] of worst) this.set({ crm }, seconds);
  },
});

/**
 * Called by the reconciliation after each pass of an installation (`b24:…` / `amo:…`), or with
 * a CRM name directly. Only the worst lag per CRM is exported.
 */
export function observeReconcileLag(installationIdOrCrm: string, seconds: number): void {
  const crm = crmOf(installationIdOrCrm);
  reconcileLags.set(installationIdOrCrm, { crm, seconds: Math.max(0, seconds) });
}

/** An uninstalled installation no longer counts towards the worst lag. */
export function forgetReconcileLag(installationId: string): void {
  reconcileLags.delete(installationId);
}

function crmOf(id: string): string {
  if (id === 'bitrix24' || id.startsWith('b24:')) return 'bitrix24';
  if (id === 'amocrm' || id.startsWith('amo:')) return 'amocrm';
  return 'other';
}

/** Queues whose depth and oldest waiting job are read on each scrape (not on every job). */
const watchedQueues = new Set<Queue>();

export function watchQueue(queue: Queue): () => void {
  watchedQueues.add(queue);
  return () => void watchedQueues.delete(queue);
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;

export const queueJobs = new Gauge({
  name: 'reglament_queue_jobs',
  help: 'Jobs in a queue by state, read from BullMQ at scrape time',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const queue of watchedQueues) {
      const counts = await queue.getJobCounts(...QUEUE_STATES).catch(() => null);
      if (!counts) continue;
      for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
    }
  },
});

export const queueOldestWaitingSeconds = new Gauge({
  name: 'reglament_queue_oldest_waiting_seconds',
  help: 'Age of the oldest job waiting for a worker (0 when none waits), read at scrape time',
  labelNames: ['queue'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const queue of watchedQueues) {
      const oldest = await oldestWaitingTimestamp(queue);
      this.set({ queue: queue.name }, oldest !== null ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
    }
  },
});

/**
 * The oldest of: the head of the wait list (FIFO) and both ends of the prioritized set. Event jobs
 * are prioritized per installation (src/pipeline/fair-priority.ts), ordered by priority, not age:
 * its two ends are the next job to run and the back of the noisiest backlog, which is the oldest
 * there as long as an installation's events keep their arrival order. Three reads, not a scan.
 */
async function oldestWaitingTimestamp(queue: Queue): Promise<number | null> {
  const ends = await Promise.all([
    queue.getJobs(['waiting'], 0, 0, true), // asc: the job that has waited longest
    queue.getJobs(['prioritized'], 0, 0, true),
    queue.getJobs(['prioritized'], 0, 0, false),
  ]).catch(() => []);
  const stamps = ends.flat().flatMap((job) => (job ? [job.timestamp] : []));
  return stamps.length ? Math.min(...stamps) : null;
}

export const redisUp = new Gauge({
  name: 'reglament_redis_up',
  help: '1 when this process reaches Redis, 0 during an outage',
  registers: [registry],
});

/** The `status` label of a CRM call: the HTTP status, or what failed before one arrived. */
export function callStatus(status: number | undefined, fallback = 'network_error'): string {
  return status && status > 0 ? String(status) : fallback;
}

/** amoCRM paths carry ids (`/api/v4/leads/123`): as a label they become `/api/v4/leads/:id`. */
export function amocrmPathLabel(path: string): string {
  return path.split('?')[0]!.replace(/\/\d+(?=\/|$)/g, '/:id');
}

/** Zeroes every metric (tests). Default process metrics keep counting. */
export function resetMetrics(): void {
  registry.resetMetrics();
  reconcileLags.clear();
}

/** The event inbox between the edge and the events queue (src/pipeline/event-inbox.ts); set by services. */
let watchedInbox: { depth(): Promise<number>; oldestAppendedAt(): Promise<number | null> } | null = null;

export function watchInbox(inbox: NonNullable<typeof watchedInbox>): () => void {
  watchedInbox = inbox;
  return () => {
    if (watchedInbox === inbox) watchedInbox = null;
  };
}

export const inboxEntries = new Gauge({
  name: 'reglament_event_inbox_entries',
  help: 'Events the edge accepted that the inbox pump has not yet moved into the events queue (read at scrape time)',
  registers: [registry],
  async collect() {
    const depth = await watchedInbox?.depth().catch(() => null);
    if (typeof depth === 'number') this.set(depth);
  },
});

export const inboxOldestSeconds = new Gauge({
  name: 'reglament_event_inbox_oldest_seconds',
  help: 'Age of the oldest event waiting in the inbox (0 when empty): grows when no inbox pump runs',
  registers: [registry],
  async collect() {
    const at = await watchedInbox?.oldestAppendedAt().catch(() => undefined);
    if (at !== undefined) this.set(at === null ? 0 : Math.max(0, (Date.now() - at) / 1000));
  },
});

export const inboxPumped = new Counter({
  name: 'reglament_event_inbox_pumped_total',
  help: 'Inbox entries the inbox pump added to the events queue',
  registers: [registry],
});
