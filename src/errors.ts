import { UnrecoverableError } from 'bullmq';

/**
 * Errors carry the retry decision for the queue (BullMQ retries plain errors with
 * backoff and moves an `UnrecoverableError` straight to the failed list).
 */

/** A CRM or inventory call failed for a reason that may pass: 5xx, timeout, rate limit. Retried with backoff. */
export class TransientError extends Error {
  constructor(message: string, readonly code: string = 'TRANSIENT', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** The CRM blocked the account (amoCRM 403 after limit violations). Retried later; nothing is sent meanwhile. */
export class CrmBlockedError extends TransientError {
  constructor(message: string) {
    super(message, 'CRM_BLOCKED');
    this.name = 'CrmBlockedError';
  }
}

/** The installation's tokens were revoked or it was uninstalled: its jobs stop, no retrying forever. */
export class InstallationRevokedError extends UnrecoverableError {
  constructor(readonly installationId: string, reason: string) {
    super(`Installation ${installationId} is revoked: ${reason}`);
    this.name = 'InstallationRevokedError';
  }
}

/** A CRM answered with an error that retrying will not fix (bad request, access denied). */
export class PermanentCrmError extends UnrecoverableError {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'PermanentCrmError';
  }
}
