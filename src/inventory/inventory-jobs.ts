/**
 * The inventory's own clock: a BullMQ queue with two repeatable jobs (polling the inventory's
 * changes every minute, the nightly drift report at 03:00 Moscow time) and one job per pushed
 * 1C callback. Every job works per installation with an inventory configured.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RobotAction } from '../app';
import { localeOf } from '../app';
import type { CrmPort } from '../crm/crm-port';
import { connectRedis } from '../infra/redis';
import type { Installation } from '../installations/installation';
import { RedisInstallationState } from '../installations/installation-state';
import { bullPrefix } from '../pipeline/queues';
import type { BookingCtx } from '../robots/booking/booking-context';
import { installationHeads, syncSettingsOf } from '../robots/booking/booking-context';
import { formatDrift, inventoryDrift, type DriftReport } from '../robots/booking/drift-report';
import { handleUnitChanges } from '../robots/booking/inbound-changes';
import type { Services } from '../services';
import { UNIT_STATUSES, type InventoryPort } from './inventory-port';

export const INVENTORY_QUEUE = 'inventory';

export const unitChangeSchema = z.object({
  event: z.literal('unit.status_changed'),
  unitId: z.string().min(1).max(64),
  from: z.enum(UNIT_STATUSES).nullable(),
  to: z.enum(UNIT_STATUSES),
  dealId: z.string().regex(/^(b24|amo):[0-9]{1,20}$/).nullable(),
  occurredAt: z.string().min(1).max(64),
  version: z.number().int().nonnegative(),
});
export type PushedChange = z.infer<typeof unitChangeSchema>;

export type InventoryJob = { kind: 'poll' } | { kind: 'drift' } | { kind: 'change'; installationId: string; change: PushedChange };

export function inventoryQueue(connection: ConnectionOptions, prefix: string): Queue<InventoryJob> {
  return new Queue<InventoryJob>(INVENTORY_QUEUE, { connection, prefix: bullPrefix(prefix) });
}

/** Idempotent: every worker process may call it at start. */
export async function scheduleInventoryJobs(queue: Queue<InventoryJob>): Promise<void> {
  const opts = { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 86_400 } };
  await queue.upsertJobScheduler('inventory-poll', { every: 60_000 }, { name: 'poll', data: { kind: 'poll' }, opts });
  await queue.upsertJobScheduler('inventory-drift', { pattern: '0 3 * * *', tz: 'Europe/Moscow' }, { name: 'drift', data: { kind: 'drift' }, opts });
}

/** A context for inventory work outside a CRM event (the same shape robots get). */
export async function bookingContextFor(services: Services, installation: Installation): Promise<{ ctx: BookingCtx; inventory: InventoryPort } | null> {
  const inventory = services.inventories.forInstallation(installation);
  if (!inventory) return null;
  const crm: CrmPort = await services.clients.forInstallation(installation);
  const log = services.log.child({ installation: installation.id, robot: 'unitStatusSync' });
  const ctx: BookingCtx = {
    crm,
    state: new RedisInstallationState(services.redis, services.prefix, installation.id),
    log,
    locale: localeOf(installation),
    installation,
    inventory: () => inventory,
    timers: {
      schedule: (robot, key, delayMs, data) => services.timers.schedule({ installationId: installation.id, robot, key, data }, delayMs),
      cancel: async (robot, key) => void (await services.timers.cancel(installation.id, robot, key)),
    },
    report: async (a) => {
      const action: RobotAction = { installationId: installation.id, robot: 'unitStatusSync', target: a.target, summary: a.summary, before: a.before, after: a.after, at: new Date().toISOString() };
      log.info({ target: a.target }, a.summary);
      await services.actions.record(action);
    },
  };
  return { ctx, inventory };
}

/** Polls one installation's inventory for changes since its cursor; returns the alerts raised. */
export async function pollInventory(services: Services, installation: Installation, now = Date.now()): Promise<number> {
  const bound = await bookingContextFor(services, installation);
  if (!bound) return 0;
  const { ctx, inventory } = bound;
  const due = Number((await ctx.state.get('inventory-polled-at')) ?? 0) + syncSettingsOf(ctx).pollEvery - 1000;
  if (now < due) return 0;
  const page = await inventory.changesSince(await ctx.state.get('inventory-cursor'));
  const alerts = await handleUnitChanges(ctx, inventory, page.changes);
  await ctx.state.set('inventory-cursor', page.cursor);
  await ctx.state.set('inventory-polled-at', String(now));
  return alerts;
}

/** The drift report of one installation; sent to the heads of sales when anything needs attention. */
export async function runDriftReport(services: Services, installation: Installation, options: { fix: boolean; notify: boolean }): Promise<DriftReport | null> {
  const bound = await bookingContextFor(services, installation);
  if (!bound) return null;
  const report = await inventoryDrift(bound.ctx, options);
  if (options.notify && (report.fixed.length || report.listed.length)) {
    const text = formatDrift(report, bound.ctx.locale);
    for (const head of await installationHeads(bound.ctx)) await bound.ctx.crm.notifyUser(head, text);
  }
  return report;
}

async function forEachInventory(services: Services, run: (installation: Installation) => Promise<unknown>): Promise<void> {
  for (const installation of await services.store.list()) {
    if (installation.status !== 'active') continue;
    try {
      await run(installation);
    } catch (err) {
      // One installation's broken inventory never stops the others.
      services.log.warn({ installation: installation.id, err: (err as Error).message }, 'inventory job failed for this installation');
    }
  }
}

export function runInventoryWorker(services: Services): { close(): Promise<void> } {
  const connection: Redis = connectRedis(services.redisTarget);
  const queue = inventoryQueue(services.queueSettings.connection, services.prefix);
  const worker = new Worker<InventoryJob>(
    INVENTORY_QUEUE,
    async (job) => {
      const data = job.data;
      if (data.kind === 'poll') return forEachInventory(services, (i) => pollInventory(services, i));
      if (data.kind === 'drift') return forEachInventory(services, (i) => runDriftReport(services, i, { fix: true, notify: true }));
      const installation = await services.store.find(data.installationId);
      if (!installation || installation.status !== 'active') return;
      const bound = await bookingContextFor(services, installation);
      if (!bound) return;
      await handleUnitChanges(bound.ctx, bound.inventory, [
        { unitId: data.change.unitId, from: data.change.from, to: data.change.to, dealId: data.change.dealId, at: data.change.occurredAt, key: `${data.change.unitId}:${data.change.version}` },
      ]);
    },
    { connection, prefix: bullPrefix(services.prefix), concurrency: 1 },
  );
  worker.on('error', (err) => services.log.error({ err }, 'inventory worker error'));
  void scheduleInventoryJobs(queue).catch((err) => services.log.error({ err }, 'could not schedule the inventory jobs'));
  return {
    async close() {
      await worker.close();
      await queue.close();
      await connection.quit().catch(() => undefined);
    },
  };
}
