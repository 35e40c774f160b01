import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The amoCRM Digital Pipeline action's key. amoCRM signs nothing it sends to a DP webhook_url, so
 * the proof travels in the action's own settings: when an account administrator places the action,
 * the widget asks the app for this account's key (with amoCRM's disposable widget token, checked
 * like the settings session) and stores it in the action's hidden `reglament_key` field; amoCRM
 * then sends it back with every DP event. The key is HMAC-SHA256 of the installation id, with a
 * key of its own derived from the app's secret (TOKEN_ENCRYPTION_KEY): one account's key is
 * worthless for another account, and nothing needs storing. Changing TOKEN_ENCRYPTION_KEY
 * invalidates every placed action (the admin opens and saves it again).
 */
export function dpKeyFor(appSecret: Buffer, installationId: string): string {
  return createHmac('sha256', dpKeyKey(appSecret)).update(installationId).digest('base64url');
}

/** Constant-time check of a presented key; anything that is not a string of the right length is false. */
export function matchesDpKey(appSecret: Buffer, installationId: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || !presented) return false;
  const expected = Buffer.from(dpKeyFor(appSecret, installationId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A key of its own: the token-encryption key never signs anything directly. */
const dpKeyKey = (secret: Buffer) => createHmac('sha256', secret).update('reglament amocrm dp key v1').digest();
