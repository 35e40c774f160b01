import { createHmac } from 'node:crypto';
import { verifyWidgetToken, type WidgetTokenPolicy } from '../../src/installations/amocrm-widget-token';

const SECRET = 'amocrm-integration-secret';
const CLIENT_ID = '5a0c2d8e-1f3b-4c7a-9e21-reglament-local';
const NOW = 1_764_500_000;
const policy: WidgetTokenPolicy = { clientSecret: SECRET, clientId: CLIENT_ID, audience: 'https://reglament.example.ru/amocrm/oauth/callback', now: NOW };

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A token as amoCRM issues it (HS256 over header.payload with the integration's secret). */
function token(claims: Record<string, unknown> = {}, options: { header?: Record<string, unknown>; secret?: string } = {}): string {
  const header = b64(options.header ?? { typ: 'JWT', alg: 'HS256' });
  const payload = b64({
    iss: 'https://developer.amocrm.ru',
    aud: 'https://reglament.example.ru',
    jti: '0e8b1f40-5a8e-4a4d-9a52-1c6a5f0b7a11',
    iat: NOW - 10,
    nbf: NOW - 10,
    exp: NOW + 1800,
    account_id: 29876543,
    subdomain: 'developer',
    client_uuid: CLIENT_ID,
    user_id: 8123456,
    is_admin: true,
    ...claims,
  });
  const signature = createHmac('sha256', options.secret ?? SECRET).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

describe("the widget's disposable token (X-Auth-Token)", () => {
  it('a token amoCRM signed for this integration names the account and the user', () => {
    expect(verifyWidgetToken(token(), policy)).toEqual({
      ok: true,
      user: { accountId: '29876543', subdomain: 'developer', userId: '8123456', isAdmin: true, tokenId: '0e8b1f40-5a8e-4a4d-9a52-1c6a5f0b7a11', expiresAt: NOW + 1800 },
    });
    expect(verifyWidgetToken(token({ iss: 'https://developer.kommo.com', is_admin: false }), { ...policy, accountId: '29876543' })).toMatchObject({ ok: true, user: { isAdmin: false } });
  });

  it.each([
    ['not a JWT', 'abc', 'malformed'],
    ['signed with another secret', token({}, { secret: 'someone-else' }), 'bad_signature'],
    ['its payload changed after signing', (() => { const [h, , s] = token().split('.'); return `${h}.${b64({ account_id: 1 })}.${s}`; })(), 'bad_signature'],
    ['"alg": "none"', `${b64({ alg: 'none' })}.${token().split('.')[1]}.`, 'malformed'],
    ['"alg": "none" with a signature', `${b64({ alg: 'none' })}.${token().split('.')[1]}.${token().split('.')[2]}`, 'unsupported_algorithm'],
    ['RS256 in the header', token({}, { header: { alg: 'RS256', typ: 'JWT' } }), 'unsupported_algorithm'],
    ['expired half an hour ago', token({ exp: NOW - 1800 }), 'expired'],
    ['valid only from the future', token({ nbf: NOW + 600 }), 'not_yet_valid'],
    ["issued for another integration's redirect address", token({ aud: 'https://evil.example' }), 'wrong_audience'],
    ['naming another integration', token({ client_uuid: 'another-integration' }), 'wrong_integration'],
    ['issued by a host that is not amoCRM', token({ iss: 'https://developer.evil.example' }), 'wrong_issuer'],
    ['whose issuer is another subdomain than it names', token({ iss: 'https://victim.amocrm.ru' }), 'wrong_issuer'],
    ['without an account id', token({ account_id: undefined }), 'bad_claims'],
  ])('is refused when %s', (_case, value, reason) => {
    expect(verifyWidgetToken(value, policy)).toEqual({ ok: false, reason });
  });

  it("another account's token is refused for this account's page (cross-installation)", () => {
    expect(verifyWidgetToken(token({ account_id: 11111111 }), { ...policy, accountId: '29876543' })).toEqual({ ok: false, reason: 'wrong_account' });
  });

  it('tolerates a minute of clock skew, not more', () => {
    expect(verifyWidgetToken(token({ exp: NOW - 30 }), policy).ok).toBe(true);
    expect(verifyWidgetToken(token({ exp: NOW - 90 }), policy)).toEqual({ ok: false, reason: 'expired' });
  });
});
