import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The rating page is not public: it opens from a signed link the heads of sales receive with the
 * monthly rating (HMAC-SHA256 over installation, month and expiry, with a key derived from the
 * app's secret). A link cannot be altered to show another installation or month, and it expires.
 * Chosen over the local status page (development only) because the heads of sales open it from
 * the CRM notification on a production deployment, without an app session.
 */
export function signRatingLink(secret: Buffer, installationId: string, month: string, expiresAt: number): string {
  return createHmac('sha256', linkKey(secret)).update(`${installationId}\n${month}\n${expiresAt}`).digest('base64url');
}

export function verifyRatingLink(secret: Buffer, installationId: string, month: string, expiresAt: number, signature: string, now: number): boolean {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < now) return false;
  const expected = Buffer.from(signRatingLink(secret, installationId, month, expiresAt));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function ratingLink(publicUrl: string, secret: Buffer, installationId: string, month: string, expiresAt: number): string {
  const sig = signRatingLink(secret, installationId, month, expiresAt);
  return `${publicUrl.replace(/\/$/, '')}/rating/${encodeURIComponent(installationId)}/${month}?exp=${expiresAt}&sig=${sig}`;
}

/** A key of its own: the token-encryption key never signs anything directly. */
const linkKey = (secret: Buffer) => createHmac('sha256', secret).update('reglament rating link v1').digest();
