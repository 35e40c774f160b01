import type { Redis } from 'ioredis';
import { robotActionSchema } from '../app';
import { escapeGlob, installationKey } from '../infra/keys';
import type { Logger } from '../log';
import { isInstallationId } from './installation';
import { scanKeys } from './redis-installation-store';

/**
 * Moves data written by versions before the hash-tagged layout to the current one, once, at
 * worker start (idempotent: a second run finds nothing to move):
 * - `<prefix>:inst:<id>` → `<prefix>:i:{<id>}:installation`;
 * - `<prefix>:i:<id>:<rest>` → `<prefix>:i:{<id>}:<rest>` (stage tracker, own-write ledger, state…);
 * - per-installation action lists become the retained sorted set; the shared cross-installation
 *   `<prefix>:actions` list (contact names of every tenant) is deleted.
 * An indexed id that is not a valid installation id is left alone and reported: it can only come
 * from a crafted install, and the operator decides (`redis-cli` shows it under `inst-index`).
 */
export async function migrateLegacyKeyLayout(redis: Redis, prefix: string, log: Logger): Promise<{ moved: number; refused: string[] }> {
  let moved = 0;
  const refused: string[] = [];
  for (const id of await redis.smembers(`${prefix}:inst-index`)) {
    if (!isInstallationId(id)) {
      refused.push(id);
      continue;
    }
    const legacyRecord = `${prefix}:inst:${id}`;
    if (await redis.exists(legacyRecord)) {
      moved += await redis.renamenx(legacyRecord, installationKey(prefix, id, 'installation'));
    }
    for (const key of await scanKeys(redis, `${escapeGlob(prefix)}:i:${escapeGlob(id)}:*`)) {
      const rest = key.slice(`${prefix}:i:${id}:`.length);
      moved += rest === 'actions' ? await migrateActions(redis, key, installationKey(prefix, id, 'actions')) : await redis.renamenx(key, installationKey(prefix, id, rest));
    }
  }
  moved += await redis.del(`${prefix}:actions`);
  if (moved) log.info({ moved }, 'moved keys to the per-installation hash-tagged layout');
  if (refused.length) log.error({ ids: refused }, 'installations with invalid ids left untouched in inst-index; remove them by hand');
  return { moved, refused };
}

async function migrateActions(redis: Redis, legacyList: string, target: string): Promise<number> {
  if ((await redis.type(legacyList)) !== 'list') return 0;
  const rows = await redis.lrange(legacyList, 0, -1);
  const multi = redis.multi();
  for (const row of rows) {
    const parsed = robotActionSchema.safeParse(JSON.parse(row));
    if (parsed.success) multi.zadd(target, Date.parse(parsed.data.at) || Date.now(), JSON.stringify(parsed.data));
  }
  multi.del(legacyList);
  await multi.exec();
  return 1;
}
