import { randomUUID } from 'node:crypto';
import type { Installation } from '../installations/installation';
import type { InstallationStore } from '../installations/installation-store';
import type { Logger } from '../log';
import { diffSettings, type SettingChange } from './settings-diff';
import { settingsHistoryRow, type SettingsAuthor, type SettingsHistoryEntry } from './settings-history';

/** What a settings write needs: the store (which writes the history row with the record) and the key prefix. */
export interface SettingsWriteDeps {
  store: Pick<InstallationStore, 'modify'>;
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
 * change and where — in the same atomic Redis step as the settings (`modify`'s `alongside`), so a
 * process dying mid-write leaves both or neither. A write that changes nothing records nothing.
 */
export async function writeSettings(
  deps: SettingsWriteDeps,
  installationId: string,
  author: SettingsAuthor,
  change: (current: Installation) => Record<string, unknown> | null,
): Promise<SettingsWriteOutcome> {
  const now = deps.now?.() ?? new Date();
  let changes: SettingChange[] = [];
  let entry: SettingsHistoryEntry | null = null;
  const saved = await deps.store.modify(
    installationId,
    (current) => {
      // Run again on a newer record after a concurrent change: nothing from the last attempt is kept.
      changes = [];
      entry = null;
      const next = change(current);
      return next === null ? null : { ...current, settings: next };
    },
    (current, next) => {
      changes = diffSettings(current.settings, next.settings);
      if (!changes.length) return null;
      entry = { id: randomUUID(), at: now.toISOString(), by: author.by, via: author.via, changes };
      return settingsHistoryRow(deps.prefix, installationId, entry, now.getTime());
    },
  );
  if (!saved) return { installation: null, changes: [], entry: null };
  if (entry) deps.log?.info({ installation: installationId, by: author.by, via: author.via, changed: changes.map((c) => c.path) }, 'settings changed');
  return { installation: saved, changes, entry };
}
