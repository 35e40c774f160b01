import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { installationIdSchema } from '../installations/installation';

/**
 * The card's session (the robot log in a deal's / lead's card): like the settings session a short-lived
 * bearer token, but scoped to one deal or lead, and also issued to users who may only read (`viewer`).
 * Its own derived key: a card token never opens the settings, a settings token never the card.
 */
export const cardClaimsSchema = z.object({
  v: z.literal(1),
  scope: z.literal('card'),
  installationId: installationIdSchema,
  userId: z.string().regex(/^\d{1,20}$/),
  /** Admins and listed heads of sales may undo; anyone who can open the card may read. */
  role: z.enum(['admin', 'head_of_sales', 'viewer']),
  entity: z.enum(['deal', 'lead']),
  dealId: z.string().regex(/^\d{1,20}$/),
  expiresAt: z.number().int().positive(),
});
export type CardClaims = z.infer<typeof cardClaimsSchema>;

export const CARD_SESSION_TTL_SECONDS = 30 * 60;

export type CardSessionCheck = { ok: true; claims: CardClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export class CardSessionSigner {
  private readonly key: Buffer;

  constructor(appSecret: string) {
    if (!appSecret) throw new Error('the card session needs the app client secret');
    this.key = createHmac('sha256', appSecret).update('reglament card session v1').digest();
  }

  issue(claims: Omit<CardClaims, 'v' | 'scope' | 'expiresAt'>, nowMs: number): { token: string; claims: CardClaims } {
    const full: CardClaims = { v: 1, scope: 'card', ...claims, expiresAt: Math.floor(nowMs / 1000) + CARD_SESSION_TTL_SECONDS };
    const body = Buffer.from(JSON.stringify(full), 'utf8').toString('base64url');
    return { token: `${body}.${this.sign(body)}`, claims: full };
  }

  verify(token: string, nowMs: number): CardSessionCheck {
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
    const claims = cardClaimsSchema.safeParse(raw);
    if (!claims.success) return { ok: false, reason: 'malformed' };
    if (claims.data.expiresAt * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    return { ok: true, claims: claims.data };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
