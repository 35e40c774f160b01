import { randomUUID } from 'node:crypto';
import type { InstallationState } from '../app';
import { TransientError } from '../errors';

/** Runs `fn` while holding the installation's lock `name` (a fixed name of ours, never an outside value). */
export type InstallationLock = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

const LOCK_TTL_SECONDS = 60;
const WAIT_MS = 30_000;
const POLL_MS = 50;

/**
 * A per-installation lock on the installation's state: one worker at a time does what must
 * happen once (e.g. creating an amoCRM loss reason the account lacks). A worker that waits too
 * long gives up with a transient error; the queue retries the job.
 */
export function installationLock(state: Pick<InstallationState, 'claim' | 'release'>): InstallationLock {
  return async (name, fn) => {
    const key = `lock:${name}`;
    const token = randomUUID();
    const deadline = Date.now() + WAIT_MS;
    while (!(await state.claim(key, token, LOCK_TTL_SECONDS))) {
      if (Date.now() > deadline) throw new TransientError(`the installation's lock "${name}" is held by another worker`, 'INSTALLATION_LOCKED');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    try {
      return await fn();
    } finally {
      await state.release(key, token);
    }
  };
}
