import type { Installation, TokenSet } from './installation';

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
  /** Replaces the installation record and keeps its tokens (a refresh may be under way); false once it is gone. */
  update(installation: Installation): Promise<boolean>;
  markRevoked(id: string, reason: string): Promise<void>;
  /** Removes the installation, its tokens and every key the app keeps for it. */
  delete(id: string): Promise<void>;
  list(): Promise<Installation[]>;
}
