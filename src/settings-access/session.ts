import { z } from 'zod';
import { installationIdSchema } from '../installations/installation';
import { SignedTokens, type TokenCheck } from './signed-token';

/**
 * The settings page's session: a short-lived token the page sends in a header (`Authorization:
 * Bearer …`) with every API call. Not a cookie: inside the CRM's iframe the app is a third party,
 * and browsers drop or partition third-party cookies.
 *
 * Signed with a key derived from the CRM app's client secret (`signed-token.ts`), so a token signed
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

export type SessionCheck = TokenCheck<SessionClaims>;

export class SessionSigner {
  private readonly tokens: SignedTokens<SessionClaims>;

  /** `appSecret`: the CRM app's client secret. */
  constructor(appSecret: string) {
    this.tokens = new SignedTokens(appSecret, 'settings session', sessionClaimsSchema);
  }

  issue(claims: Omit<SessionClaims, 'v' | 'expiresAt'>, nowMs: number, ttlSeconds = SESSION_TTL_SECONDS): { token: string; claims: SessionClaims } {
    const full: SessionClaims = { v: 1, ...claims, expiresAt: Math.floor(nowMs / 1000) + ttlSeconds };
    return { token: this.tokens.seal(full), claims: full };
  }

  verify(token: string, nowMs: number): SessionCheck {
    return this.tokens.open(token, nowMs);
  }
}
