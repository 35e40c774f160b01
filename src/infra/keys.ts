/**
 * Redis key layout. Everything the app keeps about one installation sits under
 * `<prefix>:i:<installationId>:` so that uninstalling removes it with one scan.
 */
export function installationKey(prefix: string, installationId: string, ...parts: Array<string | number>): string {
  return [prefix, 'i', installationId, ...parts].join(':');
}
