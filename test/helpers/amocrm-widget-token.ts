import { createHmac, randomUUID } from 'node:crypto';
import type { LocalStack } from './local-stack';

/** An HS256 JWT as amoCRM signs the widget's disposable token (X-Auth-Token of $authorizedAjax). */
export function signWidgetToken(claims: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The claims amoCRM puts in a widget token for a user of the stack's emulated account. */
export function widgetTokenClaims(stack: LocalStack, over: Record<string, unknown> = {}): Record<string, unknown> {
  const config = stack.services.config;
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://developer.amocrm.ru', aud: new URL(config.AMOCRM_REDIRECT_URI ?? config.PUBLIC_URL).origin, jti: randomUUID(), iat: now, nbf: now, exp: now + 600,
    account_id: stack.amo.accountId, subdomain: 'developer', client_uuid: config.AMOCRM_CLIENT_ID, user_id: 1, is_admin: true, ...over,
  };
}
