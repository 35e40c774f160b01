import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { SessionSigner } from '../../src/settings-access/session';
import { setupBitrix24SalesFunnel } from '../helpers/funnels';
import { BITRIX24_APP, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { operatorCommand, operatorCommandWith } from '../helpers/operator-command';
import { redisUrl } from '../helpers/test-services';

interface Entry {
  at: string;
  by: { kind: 'user'; userId: string; role: string; name: string | null } | { kind: 'operator' };
  via: string;
  changes: Array<{ path: string; before?: unknown; after?: unknown }>;
}

/**
 * The integrator sees on the settings page who changed which setting, when and where — the
 * administrator on the page, the regulation editor, the operator at the command line — read
 * through the same signed session as the settings themselves.
 */
describe('settings history API: who changed what, when and where', () => {
  let stack: LocalStack;
  let installationId: string;
  let admin: string;

  beforeAll(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    setupBitrix24SalesFunnel(stack.portal);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    installationId = `b24:${stack.portal.memberId}`;
    const frame = stack.portal.appFrame(1);
    const entry = await request(stack.appUrl).post(`/apps/bitrix24/settings?${new URLSearchParams(frame.query)}`).type('form').send(frame.form).expect(303);
    admin = new URLSearchParams(String(entry.headers.location).split('#')[1]).get('session')!;
  });
  afterAll(() => stack.stop());

  const history = async (query = '') => {
    const answer = await request(stack.appUrl).get(`/api/settings/${installationId}/history${query}`).set('Authorization', `Bearer ${admin}`).expect(200);
    return answer.body.entries as Entry[];
  };

  it('a fresh installation has no history', async () => {
    expect(await history()).toEqual([]);
  });

  it('the administrator’s save on the page appears with their name, the time and each path before → after', async () => {
    const startedAt = Date.now();
    await request(stack.appUrl).patch(`/api/settings/${installationId}`).set('Authorization', `Bearer ${admin}`)
      .send({ changes: [{ path: 'takeoverTimer.timeout', value: '20m' }, { path: 'headsOfSales', value: ['4'] }] }).expect(200);
    const [latest] = await history();
    expect(latest).toMatchObject({
      by: { kind: 'user', userId: '1', role: 'admin', name: 'Админ Портала' },
      via: 'settings_page',
      changes: [{ path: 'headsOfSales', after: ['4'] }, { path: 'takeoverTimer.timeout', after: '20m' }],
    });
    expect(Date.parse(latest!.at)).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(Date.parse(latest!.at)).toBeLessThanOrEqual(Date.now());
    // Saving the same values again changes nothing and adds no line.
    await request(stack.appUrl).patch(`/api/settings/${installationId}`).set('Authorization', `Bearer ${admin}`).send({ changes: [{ path: 'takeoverTimer.timeout', value: '20m' }] }).expect(200);
    // A refused save adds no line either.
    await request(stack.appUrl).patch(`/api/settings/${installationId}`).set('Authorization', `Bearer ${admin}`).send({ changes: [{ path: 'takeoverTimer.timeout', value: 'soon' }] }).expect(422);
    expect(await history()).toHaveLength(1);
  });

  it('the operator’s `npm run settings -- set` appears as the operator at the command line, newest first', async () => {
    const set = await operatorCommand(stack.services.prefix, 'settings.ts', 'set', installationId, 'takeoverTimer.timeout', '"30m"');
    expect(set.code).toBe(0);
    const entries = await history();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ by: { kind: 'operator' }, via: 'cli', changes: [{ path: 'takeoverTimer.timeout', before: '20m', after: '30m' }] });
    expect(entries[1]!.via).toBe('settings_page');
    expect(Date.parse(entries[0]!.at)).toBeGreaterThanOrEqual(Date.parse(entries[1]!.at));
  }, 30_000);

  it('a regulation saved in the editor appears as the administrator’s, made in the regulation editor', async () => {
    const spec = { preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } };
    await request(stack.appUrl).put(`/api/regulation/${installationId}`).set('Authorization', `Bearer ${admin}`).send({ regulations: [spec] }).expect(200);
    const [latest] = await history();
    expect(latest).toMatchObject({ by: { kind: 'user', userId: '1', name: 'Админ Портала' }, via: 'regulation_editor', changes: [{ path: 'stageGuard.regulations', after: [spec] }] });
    expect(latest!.changes[0]).not.toHaveProperty('before');
  });

  it('`npm run regulation -- apply` appears as the operator at the command line, the regulations before → after', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reglament-history-'));
    const overrides = { funnelId: '0', settings: { locale: 'en' } };
    writeFileSync(path.join(dir, 'deals.json'), JSON.stringify(overrides));
    const apply = await operatorCommandWith({ REDIS_PREFIX: stack.services.prefix, TOKEN_ENCRYPTION_KEY: stack.services.config.TOKEN_ENCRYPTION_KEY }, 'regulation.ts', 'apply', installationId, 'bitrix24-deals-004', path.join(dir, 'deals.json'));
    rmSync(dir, { recursive: true, force: true });
    expect(apply.stderr + apply.stdout).toContain('saved 1 regulation(s)');
    const [latest] = await history();
    expect(latest).toMatchObject({
      by: { kind: 'operator' },
      via: 'cli',
      changes: [{ path: 'stageGuard.regulations', before: [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }], after: [{ preset: 'bitrix24-deals-004', overrides }] }],
    });
  }, 30_000);

  it('a secret typed on the page is in the history only as its mask', async () => {
    const inventory = { system: 'profitbase', baseUrl: stack.pb.url, apiKey: 'pb-history-secret-7788', houseId: stack.pb.houses()[0]!.id };
    await request(stack.appUrl).patch(`/api/settings/${installationId}`).set('Authorization', `Bearer ${admin}`).send({ changes: [{ path: 'unitStatusSync.inventory', value: inventory }] }).expect(200);
    const answer = await request(stack.appUrl).get(`/api/settings/${installationId}/history`).set('Authorization', `Bearer ${admin}`).expect(200);
    expect(answer.text).not.toContain('pb-history-secret');
    expect(answer.body.entries[0].changes).toContainEqual({ path: 'unitStatusSync.inventory.apiKey', after: '••••7788' });
  });

  it('when the CRM does not give its users, the history is still shown, people by their ids', async () => {
    stack.services.clients.invalidate(installationId); // the users are cached for five minutes
    for (let i = 0; i < 5; i++) stack.portal.failNext('user.get', { status: 403, error: 'insufficient_scope', description: 'no user scope' });
    const entries = await history();
    const byUser = entries.filter((e) => e.by.kind === 'user');
    expect(byUser.length).toBeGreaterThan(0);
    for (const e of byUser) expect(e.by).toEqual({ kind: 'user', userId: '1', role: 'admin', name: null });
  });

  it('`limit` bounds the answer; a bad limit is refused naming it', async () => {
    expect(await history('?limit=2')).toHaveLength(2);
    const bad = await request(stack.appUrl).get(`/api/settings/${installationId}/history?limit=0`).set('Authorization', `Bearer ${admin}`).expect(400);
    expect(bad.body.issues[0].path).toBe('limit');
  });

  it('no session is 401, a forged one 401, and a session of another installation 403 — nothing is shown', async () => {
    const url = `/api/settings/${installationId}/history`;
    expect((await request(stack.appUrl).get(url).expect(401)).body).toEqual({ error: 'session_required' });
    const forged = new SessionSigner('not-the-app-secret').issue({ installationId, userId: '1', role: 'admin' }, Date.now()).token;
    expect((await request(stack.appUrl).get(url).set('Authorization', `Bearer ${forged}`).expect(401)).body.entries).toBeUndefined();
    const otherPortal = `b24:${'a'.repeat(32)}`;
    const ofOther = new SessionSigner(BITRIX24_APP.clientSecret).issue({ installationId: otherPortal, userId: '1', role: 'admin' }, Date.now()).token;
    const refused = await request(stack.appUrl).get(url).set('Authorization', `Bearer ${ofOther}`).expect(403);
    expect(refused.body).toEqual({ error: 'session_of_another_installation' });
    // This installation's session is no key to another installation's history either.
    await request(stack.appUrl).get(`/api/settings/${otherPortal}/history`).set('Authorization', `Bearer ${admin}`).expect(403);
  });
});
