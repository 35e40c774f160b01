import type { Redis } from 'ioredis';
import type { DealRef } from '../crm/crm-port';
import { installationKey } from '../infra/keys';

/** Long enough for any webhook echo to come back (amoCRM retries within the hour are rare; Bitrix24 does not retry). */
const ECHO_WINDOW_SECONDS = 15 * 60;

/**
 * The app's own writes come back as webhooks. Robots write only when a value differs,
 * and this ledger lets the worker tell "the CRM shows our write" from "a person changed it":
 * we record the value we are about to write; a later event whose current value equals it is ours.
 */
export class OwnWriteLedger {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(installationId: string, ref: DealRef, field: string) {
    return installationKey(this.prefix, installationId, 'own', ref.entity, ref.id, field);
  }

  async record(installationId: string, ref: DealRef, field: string, value: string): Promise<void> {
    await this.redis.set(this.key(installationId, ref, field), value, 'EX', ECHO_WINDOW_SECONDS);
  }

  /** True when the current value is the one the app wrote (the echo of its own write). */
  async isOwn(installationId: string, ref: DealRef, field: string, currentValue: string): Promise<boolean> {
    return (await this.redis.get(this.key(installationId, ref, field))) === currentValue;
  }
}
