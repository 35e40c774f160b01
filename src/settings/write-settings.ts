import type { Redis } from 'ioredis';
import type { Installation } from '../installations/installation';
import type { InstallationStore } from '../installations/installation-store';
import type { Logger } from '../log';
import { diffSettings, type SettingChange } from './settings-diff';
import { RedisSettingsHistory, type SettingsAuthor, type SettingsHistoryEntry } from './settings-history';

/** What a settings write needs: the store, and Redis for the history next to it. */
export interface SettingsWriteDeps {
  store: Pick<InstallationStore, 'modify'>;
  redis: Redis;
  prefix: string;
  log?: Logger;
  now?: () => Date;
}

export interface SettingsWriteOutcome {
  /** The record as saved (or as it is, when nothing changed); null when the installation does not exist. */
  installation: Installation | null;
  /** What changed, secrets masked; empty when the write changed nothing. */
  changes: SettingChange[];
  entry: SettingsHistoryEntry | null;
}

/**
 * The one way `installation.settings` changes — the settings page, the regulation editor and its
 * dry run's «switch on», and the operator's commands all write through here: `change` computes the
 * new settings from the current record (compare-and-set in the store; `null` saves nothing), and
 * whatever actually changed is recorded in the installation's settings history with who made the
 * change and where. A write that changes nothing records nothing.
 *
 * The history entry is written right after the settings (two keys, one installation's slot); a
 * process dying between the two keeps the change and loses its history line.
 */
export async function writeSettings(
  deps: SettingsWriteDeps,
  installationId: string,
  author: SettingsAuthor,
  change: (current: Installation) => Record<string, unknown> | null,
): Promise<SettingsWriteOutcome> {
  let before: Record<string, unknown> = {};
  let wrote = false;
  const saved = await deps.store.modify(installationId, (current) => {
    before = current.settings;
    const next = change(current);
    wrote = next !== null;
    return next === null ? null : { ...current, settings: next };
  });
  if (!saved || !wrote) return { installation: saved, changes: [], entry: null };
  const changes = diffSettings(before, saved.settings);
  if (!changes.length) return { installation: saved, changes, entry: null };
  const at = (deps.now?.() ?? new Date()).toISOString();
  const entry = await new RedisSettingsHistory(deps.redis, deps.prefix).record(installationId, { at, by: author.by, via: author.via, changes }, Date.parse(at));
  deps.log?.info({ installation: installationId, by: author.by, via: author.via, changed: changes.map((c) => c.path) }, 'settings changed');
  return { installation: saved, changes, entry };
}
