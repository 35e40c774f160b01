import type { Installation, TokenSet } from './installation';

/**
 * A row added to a bounded sorted set of the same installation (the settings history) in the same
 * atomic write as the record: trimmed to scores >= `keepFromScore` and the newest `keepEntries`,
 * expiring `ttlMs` after the last row.
 */
export interface BoundedLogAppend {
  key: string;
  score: number;
  member: string;
  keepFromScore: number;
  keepEntries: number;
  ttlMs: number;
}

/**
 * Where installations live. Robots never see it: the worker resolves the installation
 * and hands robots a ready CRM client (Slack's InstallationStore shape).
 */
export interface InstallationStore {
  /** Creates or replaces an installation together with its tokens. */
  save(installation: Installation, tokens: TokenSet): Promise<void>;
  find(id: string): Promise<Installation | null>;
  /** The decrypted token pair, or null once the installation is removed. */
  tokens(id: string): Promise<TokenSet | null>;
  /** Replaces the token pair in one write (the old refresh token is dead the moment the CRM issued the new one). */
  saveTokens(id: string, tokens: TokenSet): Promise<void>;
  markRevoked(id: string, reason: string): Promise<void>;
  /**
   * Changes the installation record (settings, webhook secret…) but not its tokens, computed from
   * the current record (compare-and-set: a concurrent change makes `change` run again on the newer
   * record). Returns the record as saved, or null when it does not exist; `change` returning null
   * saves nothing. `alongside` (if given, and if it returns a row) is written in the same atomic
   * step as the record: both land or neither does.
   */
  modify(id: string, change: (current: Installation) => Installation | null, alongside?: (current: Installation, next: Installation) => BoundedLogAppend | null): Promise<Installation | null>;
  /** `modify` for the settings overrides alone. */
  updateSettings(id: string, change: (current: Installation) => Installation['settings'] | null): Promise<Installation | null>;
  /** Removes the installation, its tokens and every key the app keeps for it. */
  delete(id: string): Promise<void>;
  list(): Promise<Installation[]>;
}
