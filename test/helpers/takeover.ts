import { robots } from '../../src/robots';
import { changeSetting } from '../../src/settings/installation-settings';
import type { Services } from '../../src/services';

/** Sets installation settings exactly as `npm run settings -- set` does (validated by the robots' schemas). */
export async function setSettings(services: Services, installationId: string, values: Record<string, unknown>): Promise<void> {
  const saved = await services.store.updateSettings(installationId, (current) => {
    let settings = current.settings;
    for (const [path, value] of Object.entries(values)) {
      const change = changeSetting(settings, path, value, robots);
      if (!change.ok) throw new Error(`${path}: ${change.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`);
      settings = change.settings;
    }
    return settings;
  });
  if (!saved) throw new Error(`no installation ${installationId}`);
}

/** The pending takeover timer of a deal/lead, if any. */
export async function takeoverTimerOf(services: Services, installationId: string, key: string) {
  const pending = (await services.timers.queue.getJobs(['delayed'])).filter(
    (job) => job && job.data.installationId === installationId && job.data.robot === 'takeoverTimer' && job.data.key.startsWith(`${key}:`),
  );
  if (pending.length > 1) throw new Error(`${pending.length} takeover timers pending for ${key}`);
  const job = pending[0];
  return job ? { delayMs: job.opts.delay ?? 0, dueAt: String(job.data.data.dueAt), seq: Number(job.data.data.seq) } : null;
}
