import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { installationIdSchema } from '../installations/installation';

/**
 * The settings page's session: a short-lived token the page sends in a header (`Authorization:
 * Bearer …`) with every API call. Not a cookie: inside the CRM's iframe the app is a third party,
 * and browsers drop or partition third-party cookies.
 *
 * Format: `<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`. The key is derived from the CRM
 * app's client secret (a secret only the app and the CRM's OAuth server know), so a token signed
 * for one CRM's app is never valid for the other's.
 */
export const sessionClaimsSchema = z.object({
  v: z.literal(1),
  /** The installation this session may configure, and no other. */
  installationId: installationIdSchema,
  /** The CRM user who opened the page (for the audit log and the access rule). */
  userId: z.string().regex(/^\d{1,20}$/),
  /** Why the user was let in: a portal/account administrator, or a listed head of sales. */
  role: z.enum(['admin', 'head_of_sales']),
  /** Epoch seconds. */
  expiresAt: z.number().int().positive(),
});
export type SessionClaims = z.infer<typeof sessionClaimsSchema>;

/** Half an hour: long enough to fill a form, short enough that a leaked header is soon useless. */
export const SESSION_TTL_SECONDS = 30 * 60;

export type SessionCheck = { ok: true; claims: SessionClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export class SessionSigner {
  private readonly key: Buffer;

  /** `appSecret`: the CRM app's client secret; an empty secret would make tokens forgeable, so it is refused. */
  constructor(appSecret: string) {
    if (!appSecret) throw new Error('the settings session needs the app client secret (BITRIX24_CLIENT_SECRET / AMOCRM_CLIENT_SECRET)');
    // A key of its own: the raw client secret is used elsewhere (OAuth); a derived key keeps uses apart.
    this.key = createHmac('sha256', appSecret).update('reglament settings session v1').digest();
  }

  issue(claims: Omit<SessionClaims, 'v' | 'expiresAt'>, nowMs: number, ttlSeconds = SESSION_TTL_SECONDS): { token: string; claims: SessionClaims } {
    const full: SessionClaims = { v: 1, ...claims, expiresAt: Math.floor(nowMs / 1000) + ttlSeconds };
    const body = Buffer.from(JSON.stringify(full), 'utf8').toString('base64url');
    return { token: `${body}.${this.sign(body)}`, claims: full };
  }

  verify(token: string, nowMs: number): SessionCheck {
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
    const claims = sessionClaimsSchema.safeParse(raw);
    if (!claims.success) return { ok: false, reason: 'malformed' };
    if (claims.data.expiresAt * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    return { ok: true, claims: claims.data };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
