import { InvalidInstallationIdError, isInstallationId } from '../installations/installation';

/**
 * Redis key layout. Everything the app keeps about one installation sits under
 * `<prefix>:i:{<installationId>}:`.
 *
 * - The id is validated here, the one place keys are built from it: only `b24:<32 hex>` and
 *   `amo:<digits>` pass, so no id carries a glob character or a brace.
 * - The braces are a Redis Cluster hash tag: an installation's keys share one slot, so its
 *   multi-key commands work on a cluster too.
 * - The closing `}` ends the id: no pattern built from `b24:abc` can reach the keys of
 *   `b24:abcd`, and no id can reach another installation's keys (see `installationKeysPattern`).
 */
export function installationKey(prefix: string, installationId: string, ...parts: Array<string | number>): string {
  return [installationRoot(prefix, installationId), ...parts].join(':');
}

/** `<prefix>:i:{<id>}`: the root every key of one installation starts with. */
export function installationRoot(prefix: string, installationId: string): string {
  if (!isInstallationId(installationId)) throw new InvalidInstallationIdError(installationId);
  return `${prefix}:i:{${installationId}}`;
}

/** A SCAN pattern matching exactly the keys of one installation, with every interpolated part escaped. */
export function installationKeysPattern(prefix: string, installationId: string): string {
  if (!isInstallationId(installationId)) throw new InvalidInstallationIdError(installationId);
  return `${escapeGlob(prefix)}:i:\\{${escapeGlob(installationId)}\\}:*`;
}

/** Escapes Redis glob metacharacters (`* ? [ ] \`), so the text matches only itself in SCAN/KEYS patterns. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
