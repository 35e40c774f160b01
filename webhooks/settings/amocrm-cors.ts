import type { Request, Response } from 'express';

const AMOCRM_HOSTS = /^[a-z0-9-]+\.(amocrm\.ru|amocrm\.com|kommo\.com)$/i;

/**
 * The widget asks for a session with `self.$authorizedAjax()`, which adds the one-time token in the
 * `X-Auth-Token` header from the account's own page — a cross-origin request, so the server must
 * allow the account's origin (Kommo docs: one-time tokens). Before the token is checked only the
 * shape of the origin is known; after, it must be the installation's own account.
 */
export function isAmocrmOrigin(origin: string | undefined, insecureHosts: readonly string[]): boolean {
  if (!origin) return false;
  try {
    const url = new URL(origin);
    if (url.protocol === 'https:' && AMOCRM_HOSTS.test(url.hostname)) return true;
    return url.protocol === 'http:' && insecureHosts.includes(url.hostname);
  } catch {
    return false;
  }
}

export function allowOrigin(res: Response, origin: string): void {
  res.set({
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'POST',
    'Access-Control-Allow-Headers': 'X-Auth-Token, Content-Type',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  });
}

/** The one-time token: the `X-Auth-Token` header ($authorizedAjax), or `{"token": …}` in the body. */
export function widgetToken(req: Request): unknown {
  return req.get('x-auth-token') ?? (req.body as { token?: unknown } | undefined)?.token;
}
