import request from 'supertest';
import { createWebApp } from '../../webhooks/server';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

describe('the queue dashboard at /admin/queues', () => {
  let services: TestServices | undefined;
  afterEach(async () => {
    await services?.cleanup();
    services = undefined;
  });

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it('with DASHBOARD_USER and DASHBOARD_PASSWORD set, asks for them (401 without or with wrong ones) and shows the queues with them', async () => {
    services = await createTestServices({ NODE_ENV: 'production', PUBLIC_URL: 'https://app.example', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 's3cret-pass' });
    const app = createWebApp(services);
    const anonymous = await request(app).get('/admin/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect((await request(app).get('/admin/queues/api/queues').set('Authorization', basic('ops', 'wrong'))).status).toBe(401);
    expect((await request(app).get('/admin/queues').set('Authorization', basic('ops2', 's3cret-pass'))).status).toBe(401);
    const page = await request(app).get('/admin/queues').set('Authorization', basic('ops', 's3cret-pass'));
    expect(page.status).toBe(200);
    const api = await request(app).get('/admin/queues/api/queues').set('Authorization', basic('ops', 's3cret-pass'));
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(['events', 'timers']);
  });

  it('is off in production when no credentials are set', async () => {
    services = await createTestServices({ NODE_ENV: 'production', PUBLIC_URL: 'https://app.example' });
    expect((await request(createWebApp(services)).get('/admin/queues')).status).toBe(404);
  });

  it('outside production without credentials answers only this machine (supertest connects from 127.0.0.1)', async () => {
    services = await createTestServices({ NODE_ENV: 'development' });
    const app = createWebApp(services);
    expect((await request(app).get('/admin/queues')).status).toBe(200);
    // A forwarded address does not make a remote request local, nor a local one remote: the socket decides.
    expect((await request(app).get('/admin/queues').set('X-Forwarded-For', '203.0.113.7')).status).toBe(200);
  });

  it('refuses a configuration with a user and no password', async () => {
    await expect(createTestServices({ DASHBOARD_USER: 'ops' })).rejects.toThrow(/DASHBOARD_USER and DASHBOARD_PASSWORD go together/);
  });
});
