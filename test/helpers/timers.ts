import type { LocalStack } from './local-stack';

/**
 * Timers in end-to-end tests: the app's clock is `services.now` (the working-time arithmetic
 * reads it); a delayed BullMQ timer is inspected (its `dueAt`) and fired early with `promote`,
 * so a one-day limit is tested in milliseconds through the real queue and worker.
 */
export async function pendingTimer(stack: LocalStack, installationId: string, robot: string, key: string) {
  const job = await stack.services.timers.pending(installationId, robot, key);
  if (!job) return null;
  return { dueAt: String((job.data.data as { dueAt?: string }).dueAt), data: job.data.data, job };
}

/** Sets the app's clock to `at` and fires the timer now (as if its delay had passed). */
export async function fireTimerAt(stack: LocalStack, installationId: string, robot: string, key: string, at: Date): Promise<void> {
  const timer = await pendingTimer(stack, installationId, robot, key);
  if (!timer) throw new Error(`no pending timer ${robot}/${key}`);
  stack.services.now = () => at;
  await timer.job.promote();
  await stack.idle();
}

/** Waits for a condition that a real (short) timer makes true. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}
