import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * amoCRM's disposable token for integrations: what the widget's `self.$authorizedAjax()` sends
 * in `X-Auth-Token` (amoCRM/Kommo docs "One-time tokens"; claims as amocrm-api-php's
 * DisposableTokenModel reads them). A JWT signed HS256 with the integration's secret key:
 * iss = the account's address, aud = the base of the integration's redirect_uri, jti, iat, nbf,
 * exp, account_id, subdomain, client_uuid (the integration id), user_id, is_admin. Pure: the
 * caller passes the secret, the expected audience and integration id, and the clock.
 */
const claimsSchema = z.object({
  iss: z.string().min(1),
  aud: z.string().min(1),
  jti: z.string().min(1),
  iat: z.number().int(),
  nbf: z.number().int(),
  exp: z.number().int(),
  account_id: z.coerce.number().int().positive(),
  subdomain: z.string().regex(/^[a-z0-9-]+$/i),
  client_uuid: z.string().min(1),
  user_id: z.coerce.number().int().positive(),
  is_admin: z.boolean().optional(),
});

export interface WidgetUser {
  accountId: string;
  subdomain: string;
  userId: string;
  isAdmin: boolean;
  tokenId: string;
  expiresAt: number;
}

export type WidgetTokenCheck = { ok: true; user: WidgetUser } | { ok: false; reason: WidgetTokenRefusal };
export type WidgetTokenRefusal =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'bad_signature'
  | 'bad_claims'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_integration'
  | 'wrong_issuer'
  | 'wrong_account';

export interface WidgetTokenPolicy {
  /** The integration's secret key (AMOCRM_CLIENT_SECRET). */
  clientSecret: string;
  /** The integration id (AMOCRM_CLIENT_ID), which the token names as client_uuid. */
  clientId: string;
  /** The base address of the integration's redirect_uri (scheme://host), which the token names as aud. */
  audience: string;
  /** Unix seconds. */
  now: number;
  /** When the request is about one account (e.g. a page of amo:<id>), the token must be that account's. */
  accountId?: string;
  /** Clock skew allowed on nbf/exp, seconds (default 60). */
  leewaySeconds?: number;
}

const AMOCRM_HOST = /^([a-z0-9-]+)\.(amocrm\.ru|amocrm\.com|kommo\.com)$/i;

export function verifyWidgetToken(token: string, policy: WidgetTokenPolicy): WidgetTokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return refuse('malformed');
  const header = decodeJson(parts[0]!);
  if (!header || (header.typ !== undefined && header.typ !== 'JWT')) return refuse('malformed');
  // Only HS256: a token saying "none" or an RSA algorithm is refused before any key is used.
  if (header.alg !== 'HS256') return refuse('unsupported_algorithm');
  const expected = createHmac('sha256', policy.clientSecret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse('bad_signature');
  const claims = claimsSchema.safeParse(decodeJson(parts[1]!));
  if (!claims.success) return refuse('bad_claims');
  const c = claims.data;
  const leeway = policy.leewaySeconds ?? 60;
  if (c.exp + leeway <= policy.now) return refuse('expired');
  if (c.nbf - leeway > policy.now) return refuse('not_yet_valid');
  if (baseOf(c.aud) !== baseOf(policy.audience)) return refuse('wrong_audience');
  if (c.client_uuid !== policy.clientId) return refuse('wrong_integration');
  // The issuer is the account's own address, and it must be the subdomain the token names.
  const issuer = URL.canParse(c.iss) ? new URL(c.iss).hostname : c.iss;
  const host = AMOCRM_HOST.exec(issuer);
  if (!host || host[1]!.toLowerCase() !== c.subdomain.toLowerCase()) return refuse('wrong_issuer');
  if (policy.accountId !== undefined && String(c.account_id) !== policy.accountId) return refuse('wrong_account');
  return {
    ok: true,
    user: { accountId: String(c.account_id), subdomain: c.subdomain, userId: String(c.user_id), isAdmin: c.is_admin === true, tokenId: c.jti, expiresAt: c.exp },
  };
}

const refuse = (reason: WidgetTokenRefusal): WidgetTokenCheck => ({ ok: false, reason });

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** scheme://host[:port] of an address (the docs: "the base address formed from redirect_uri"). */
function baseOf(address: string): string {
  return URL.canParse(address) ? new URL(address).origin.toLowerCase() : address.replace(/\/+$/, '').toLowerCase();
}
