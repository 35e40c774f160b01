import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

/** Claims every signed token carries: the format version and its expiry (epoch seconds). */
interface ExpiringClaims {
  expiresAt: number;
}

export type TokenCheck<C> = { ok: true; claims: C } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/**
 * A short-lived bearer token: `<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`, its claims
 * checked by a zod schema when opened. The key is derived from the CRM app's client secret and a
 * purpose label, so tokens of one purpose (settings, card) never open the other, and an empty
 * secret (which would make tokens forgeable) is refused.
 */
export class SignedTokens<C extends ExpiringClaims> {
  private readonly key: Buffer;

  constructor(appSecret: string, purpose: string, private readonly schema: z.ZodType<C>) {
    if (!appSecret) throw new Error(`the ${purpose} needs the app client secret (BITRIX24_CLIENT_SECRET / AMOCRM_CLIENT_SECRET)`);
    // A key of its own: the raw client secret is used elsewhere (OAuth); a derived key keeps uses apart.
    this.key = createHmac('sha256', appSecret).update(`reglament ${purpose} v1`).digest();
  }

  seal(claims: C): string {
    const body = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  open(token: string, nowMs: number): TokenCheck<C> {
    const [body, signature, ...rest] = token.split('.');
    if (!body || !signature || rest.length || token.length > 2048) return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.sign(body), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad_signature' };
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const claims = this.schema.safeParse(raw);
    if (!claims.success) return { ok: false, reason: 'malformed' };
    if (claims.data.expiresAt * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    return { ok: true, claims: claims.data };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
