import { verifyBitrix24Frame } from '../../src/settings-access/bitrix24-frame';
import { SessionSigner } from '../../src/settings-access/session';
import type { Installation } from '../../src/installations/installation';

const MEMBER = 'a223c6b3710f85df22e9377d6c4f7553';
const installation = {
  id: `b24:${MEMBER}`, crm: 'bitrix24', status: 'active', installedAt: '2026-11-01T00:00:00Z', settings: {}, memberId: MEMBER,
  domain: 'portal.bitrix24.ru', clientEndpoint: 'https://portal.bitrix24.ru/rest/', serverEndpoint: 'https://oauth.bitrix.info/rest/',
  applicationTokenHash: '0'.repeat(64), adminUserIds: [],
} as Installation;

const frame = (over: { DOMAIN?: string; member_id?: string } = {}) => ({
  query: { DOMAIN: over.DOMAIN ?? 'portal.bitrix24.ru', PROTOCOL: '1', LANG: 'ru', APP_SID: 'x' },
  body: { AUTH_ID: 'user-token', REFRESH_ID: 'r', member_id: over.member_id ?? MEMBER, PLACEMENT: 'DEFAULT' },
});

/**
 * A portal that answers the `batch` of profile + app.info as given (a missing answer: that
 * sub-command failed; `null`: the whole token refused, 401), and records where it was called.
 */
function portal(answers: Record<string, unknown> | null, stored: Installation | null = installation, httpStatus = 200) {
  const called: string[] = [];
  const fetch = (async (url: URL) => {
    called.push(String(url));
    if (httpStatus !== 200) return new Response('<html>Service Unavailable</html>', { status: httpStatus });
    if (!answers) return Response.json({ error: 'expired_token', error_description: 'The access token provided has expired.' }, { status: 401 });
    const result = Object.fromEntries(Object.entries({ profile: answers.profile, app: answers['app.info'] }).filter(([, v]) => v !== undefined));
    const errors = Object.fromEntries(['profile', 'app'].filter((k) => !(k in result)).map((k) => [k, { error: 'ERROR', error_description: 'failed' }]));
    return Response.json({ result: { result, result_error: Object.keys(errors).length ? errors : [], result_total: [], result_next: [], result_time: [] } });
  }) as unknown as typeof globalThis.fetch;
  return { called, deps: { store: { find: async () => stored }, appCodes: ['local.reglament'], fetch } };
}

const admin = { profile: { ID: '1', ADMIN: true, NAME: 'Админ' }, 'app.info': { ID: '7', CODE: 'local.reglament', STATUS: 'L', INSTALLED: true } };

describe('who opened the Bitrix24 app page, as the portal says', () => {
  it.each([
    ['an administrator of the installed portal', frame(), admin, { ok: true, user: { id: '1', isAdmin: true } }],
    ['a token the portal does not accept', frame(), null, { ok: false, status: 401, reason: 'portal_refused_token' }],
    ['a token whose app.info fails', frame(), { profile: admin.profile }, { ok: false, status: 401, reason: 'portal_refused_token' }],
    ['a token of another app on the same portal', frame(), { ...admin, 'app.info': { CODE: 'vendor.other' } }, { ok: false, status: 401, reason: 'token_of_another_app' }],
    ['an unknown member_id', frame({ member_id: 'b'.repeat(32) }), admin, { ok: false, status: 401, reason: 'unknown_installation' }],
    ['a member_id that is not 32 hex characters', frame({ member_id: '../../etc' }), admin, { ok: false, status: 400 }],
  ])('%s', async (_name, request, answers, expected) => {
    const { deps } = portal(answers, request.body.member_id === MEMBER ? installation : null);
    expect(await verifyBitrix24Frame(request, deps)).toMatchObject(expected);
  });

  it('never calls a host the request named: a foreign DOMAIN is refused without any call', async () => {
    const { deps, called } = portal(admin);
    expect(await verifyBitrix24Frame(frame({ DOMAIN: 'attacker.example' }), deps)).toMatchObject({ ok: false, status: 401, reason: 'domain_mismatch' });
    expect(called).toEqual([]);
  });

  it('calls the endpoint stored at install time, not one built from the request', async () => {
    const { deps, called } = portal(admin);
    await verifyBitrix24Frame(frame({ DOMAIN: 'PORTAL.bitrix24.ru' }), deps);
    expect(called).toEqual(['https://portal.bitrix24.ru/rest/batch.json']);
  });

  it('a portal that does not answer is a 502, not a refused user', async () => {
    const { deps } = portal(admin, installation, 503);
    expect(await verifyBitrix24Frame(frame(), deps)).toMatchObject({ ok: false, status: 502, reason: 'portal_unreachable' });
  });

  it('a revoked installation is refused', async () => {
    const { deps } = portal(admin, { ...installation, status: 'revoked' });
    expect(await verifyBitrix24Frame(frame(), deps)).toMatchObject({ ok: false, status: 403 });
  });
});

describe('the settings session', () => {
  const signer = new SessionSigner('app-secret');
  const now = Date.parse('2026-11-30T12:00:00Z');
  const { token } = signer.issue({ installationId: `b24:${MEMBER}`, userId: '1', role: 'admin' }, now);

  it('verifies until it expires, 30 minutes later', () => {
    expect(signer.verify(token, now + 29 * 60_000)).toMatchObject({ ok: true, claims: { installationId: `b24:${MEMBER}`, userId: '1' } });
    expect(signer.verify(token, now + 30 * 60_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a token whose claims were changed (another installation, another role) or signed with another key', () => {
    const [body, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const moved = Buffer.from(JSON.stringify({ ...claims, installationId: 'amo:42' })).toString('base64url');
    expect(signer.verify(`${moved}.${signature}`, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(new SessionSigner('other-secret').verify(token, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(signer.verify('garbage', now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('cannot be created without the app secret', () => {
    expect(() => new SessionSigner('')).toThrow(/client secret/);
  });
});
