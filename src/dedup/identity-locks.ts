import { createHash, randomUUID } from 'node:crypto';
import type { InstallationState } from '../app';
import { TransientError } from '../errors';

const LOCK_TTL_SECONDS = 60;
const WAIT_MS = 30_000;
const POLL_MS = 50;

/**
 * Runs `fn` holding a per-installation lock on each identity (a normalised phone, e-mail or
 * messenger id), so two requests from one person are decided one after the other. Locks are
 * taken in key order (no deadlock between two requests sharing two identities); the key is a
 * hash, so a value from the outside never becomes part of a Redis key.
 */
export async function withIdentityLocks<T>(state: InstallationState, identityKeys: string[], fn: () => Promise<T>): Promise<T> {
  const keys = [...new Set(identityKeys.map((k) => `lock:identity:${createHash('sha256').update(k).digest('hex').slice(0, 32)}`))].sort();
  const token = randomUUID();
  const held: string[] = [];
  try {
    for (const key of keys) {
      const deadline = Date.now() + WAIT_MS;
      while (!(await state.claim(key, token, LOCK_TTL_SECONDS))) {
        // The queue retries the job later; the other decision will be visible in the CRM by then.
        if (Date.now() > deadline) throw new TransientError('another request from the same person is still being decided', 'IDENTITY_LOCKED');
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      held.push(key);
    }
    return await fn();
  } finally {
    for (const key of held.reverse()) await state.release(key, token);
  }
}
