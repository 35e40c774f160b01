import type { Redis } from 'ioredis';
import type { AppConfig } from '../config';
import type { RedisRateLimiter } from '../infra/rate-limiter';
import type { Installation } from '../installations/installation';
import type { Logger } from '../log';
import { effectiveSettings, isPlainObject } from '../settings/installation-settings';
import { inventoryConnectionSchema, type InventoryConnection } from './connection-settings';
import { HttpInventory } from './http/http-inventory';
import { InventoryConfigError, type InventoryPort } from './inventory-port';
import { ProfitbaseClient } from './profitbase/profitbase-client';
import { ProfitbaseInventory } from './profitbase/profitbase-adapter';

export interface InventoriesDeps {
  redis: Redis;
  prefix: string;
  limiter: RedisRateLimiter;
  config: Pick<AppConfig, 'NODE_ENV' | 'PROFITBASE_REQUESTS_PER_SECOND'>;
  log: Logger;
}

/** The installation's inventory connection (`unitStatusSync.inventory`), or null when none is set. */
export function inventoryConnectionOf(installation: Pick<Installation, 'settings'>): InventoryConnection | null {
  const block = effectiveSettings(installation.settings).unitStatusSync;
  const raw = isPlainObject(block) ? block.inventory : undefined;
  if (raw === undefined || raw === null) return null;
  const parsed = inventoryConnectionSchema.safeParse(raw);
  if (!parsed.success) throw new InventoryConfigError(`unitStatusSync.inventory is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'refused');
  return parsed.data;
}

/** Builds the InventoryPort of an installation from its settings: one adapter per system. */
export class Inventories {
  constructor(private readonly deps: InventoriesDeps) {}

  forInstallation(installation: Pick<Installation, 'id' | 'settings'>): InventoryPort | null {
    const connection = inventoryConnectionOf(installation);
    return connection ? this.connect(connection) : null;
  }

  connect(connection: InventoryConnection): InventoryPort {
    // Keys and contracts travel only over https in production; the app never calls an http inventory there.
    if (this.deps.config.NODE_ENV === 'production' && new URL(connection.baseUrl).protocol !== 'https:') {
      throw new InventoryConfigError(`the inventory base URL must be https in production (got ${connection.baseUrl})`, 'insecure_url');
    }
    if (connection.system === 'http') return new HttpInventory(connection);
    const client = new ProfitbaseClient({
      baseUrl: connection.baseUrl,
      apiKey: connection.apiKey,
      redis: this.deps.redis,
      limiter: this.deps.limiter,
      prefix: this.deps.prefix,
      log: this.deps.log,
      requestsPerSecond: this.deps.config.PROFITBASE_REQUESTS_PER_SECOND,
    });
    return new ProfitbaseInventory(client, connection);
  }
}
