import type { Logger } from '../log';

/**
 * At most one line per key and period, carrying how many were suppressed since the previous
 * one: a flood of forged or malformed webhooks leaves a trace without drowning the log.
 */
export class RateLimitedLog {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly periodMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns true when the line was written. Keys must be few (e.g. CRM × reason), never ids from outside. */
  warn(key: string, fields: Record<string, unknown>, message: string): boolean {
    const at = this.now();
    const last = this.seen.get(key);
    if (last && at - last.at < this.periodMs) {
      last.suppressed++;
      return false;
    }
    this.log.warn({ ...fields, suppressedSinceLast: last?.suppressed ?? 0 }, message);
    this.seen.set(key, { at, suppressed: 0 });
    return true;
  }
}
