import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { installationKey } from '../infra/keys';
import type { BoundedLogAppend } from '../installations/installation-store';

/**
 * Retention of the settings history: the newest SETTINGS_HISTORY_KEEP_ENTRIES changes, none older
 * than SETTINGS_HISTORY_KEEP_DAYS. Entries name CRM user ids, so they live per installation only
 * (uninstall removes them with the installation's other keys).
 */
export const SETTINGS_HISTORY_KEEP_ENTRIES = 200;
export const SETTINGS_HISTORY_KEEP_DAYS = 180;
const KEEP_MS = SETTINGS_HISTORY_KEEP_DAYS * 24 * 3600 * 1000;

/** Who changed the settings: a user of the CRM through a signed session, or the operator at the command line. */
export const settingsActorSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), userId: z.string().min(1).max(64), role: z.enum(['admin', 'head_of_sales']) }),
  z.strictObject({ kind: z.literal('operator') }),
]);
export type SettingsActor = z.infer<typeof settingsActorSchema>;

/** Where the change was made. */
export const settingsViaSchema = z.enum(['settings_page', 'regulation_editor', 'cli']);
export type SettingsVia = z.infer<typeof settingsViaSchema>;

/** Who and where, as each write path states it. */
export interface SettingsAuthor {
  by: SettingsActor;
  via: SettingsVia;
}

/** The operator's commands (`npm run settings`, `npm run regulation`, the demo). */
export const OPERATOR_AT_CLI: SettingsAuthor = { by: { kind: 'operator' }, via: 'cli' };

export const settingChangeSchema = z.strictObject({
  path: z.string().min(1).max(400),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});

export const settingsHistoryEntrySchema = z.strictObject({
  id: z.string().min(1).max(64),
  at: z.iso.datetime(),
  by: settingsActorSchema,
  via: settingsViaSchema,
  changes: z.array(settingChangeSchema).min(1),
});
export type SettingsHistoryEntry = z.infer<typeof settingsHistoryEntrySchema>;

/** The history key of one installation (the id validated by `installationKey`). */
export function settingsHistoryKey(prefix: string, installationId: string): string {
  return installationKey(prefix, installationId, 'settings-history');
}

/**
 * An entry as the row the store writes together with the settings (`InstallationStore.modify`'s
 * `alongside`): validated here, trimmed to the retention limits in the same atomic step.
 */
export function settingsHistoryRow(prefix: string, installationId: string, entry: SettingsHistoryEntry, nowMs: number): BoundedLogAppend {
  const row = settingsHistoryEntrySchema.parse(entry);
  return { key: settingsHistoryKey(prefix, installationId), score: Date.parse(row.at), member: JSON.stringify(row), keepFromScore: nowMs - KEEP_MS, keepEntries: SETTINGS_HISTORY_KEEP_ENTRIES, ttlMs: KEEP_MS };
}

/**
 * The settings history of each installation: a sorted set `<prefix>:i:{<id>}:settings-history`
 * scored by time, one JSON entry per saved change. Every write trims it to the retention limits in
 * the same atomic step (a MULTI here; the store's script when written with the settings, see
 * `writeSettings`), and the key expires when nothing has changed for the whole retention period.
 */
export class RedisSettingsHistory {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(installationId: string): string {
    return settingsHistoryKey(this.prefix, installationId);
  }

  async record(installationId: string, entry: Omit<SettingsHistoryEntry, 'id'> & { id?: string }, nowMs = Date.now()): Promise<SettingsHistoryEntry> {
    const row = settingsHistoryEntrySchema.parse({ ...entry, id: entry.id ?? randomUUID() });
    const key = this.key(installationId);
    const at = Date.parse(row.at);
    await this.redis
      .multi()
      .zadd(key, at, JSON.stringify(row))
      .zremrangebyscore(key, '-inf', `(${nowMs - KEEP_MS}`)
      .zremrangebyrank(key, 0, -(SETTINGS_HISTORY_KEEP_ENTRIES + 1))
      .pexpire(key, KEEP_MS)
      .exec();
    return row;
  }

  /** The newest entries first, within the retention limits; an entry that no longer parses is skipped. */
  async latest(installationId: string, limit = 50, nowMs = Date.now()): Promise<SettingsHistoryEntry[]> {
    const rows = await this.redis.zrevrangebyscore(this.key(installationId), '+inf', nowMs - KEEP_MS, 'LIMIT', 0, Math.min(Math.max(1, limit), SETTINGS_HISTORY_KEEP_ENTRIES));
    return rows.flatMap((raw) => {
      try {
        const parsed = settingsHistoryEntrySchema.safeParse(JSON.parse(raw));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }
}
