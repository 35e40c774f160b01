import { z } from 'zod';
import { installationIdSchema } from '../installations/installation';
import { SignedTokens, type TokenCheck } from './signed-token';

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

export type CardSessionCheck = TokenCheck<CardClaims>;

export class CardSessionSigner {
  private readonly tokens: SignedTokens<CardClaims>;

  constructor(appSecret: string) {
    this.tokens = new SignedTokens(appSecret, 'card session', cardClaimsSchema);
  }

  issue(claims: Omit<CardClaims, 'v' | 'scope' | 'expiresAt'>, nowMs: number): { token: string; claims: CardClaims } {
    const full: CardClaims = { v: 1, scope: 'card', ...claims, expiresAt: Math.floor(nowMs / 1000) + CARD_SESSION_TTL_SECONDS };
    return { token: this.tokens.seal(full), claims: full };
  }

  verify(token: string, nowMs: number): CardSessionCheck {
    return this.tokens.open(token, nowMs);
  }
}
