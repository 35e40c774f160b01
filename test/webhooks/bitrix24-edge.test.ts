import request from 'supertest';
import { createWebApp } from '../../webhooks/server';
import { createTestServices } from '../helpers/test-services';
import { drainInbox } from '../helpers/inbox';
import { documentedBitrix24Installation, documentedPortal, fixture, someTokens } from '../helpers/fixtures';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

const FORM = 'application/x-www-form-urlencoded';

describe('Bitrix24 edge: POST /bitrix24/events', () => {
  let services: TestServices;
  let app: ReturnType<typeof createWebApp>;

  beforeEach(async () => {
    services = await createTestServices();
    app = createWebApp(services);
    await services.store.save(documentedBitrix24Installation(), someTokens());
  });
  afterEach(() => services.cleanup());

  // What the workers' inbox pump would have queued by now.
  const jobs = async () => {
    await drainInbox(services);
    return services.events.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  };

  it('accepts the documented ONCRMDEALUPDATE and enqueues one deal.updated job', async () => {
    const res = await request(app).post('/bitrix24/events').type(FORM).send(fixture('bitrix24/ONCRMDEALUPDATE.form'));
    expect(res.status).toBe(200);
    const queued = await jobs();
    expect(queued).toHaveLength(1);
    expect(queued[0]!.data).toMatchObject({
      installationId: `b24:${documentedPortal.memberId}`,
      crm: 'bitrix24',
      kind: 'updated',
      entity: 'deal',
      entityId: '759',
    });
  });

  it('refuses a forged application_token with 401 and enqueues nothing', async () => {
    const forged = fixture('bitrix24/ONCRMDEALUPDATE.form').replace(documentedPortal.applicationToken, '0'.repeat(32));
    const res = await request(app).post('/bitrix24/events').type(FORM).send(forged);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_application_token');
    expect(await jobs()).toHaveLength(0);
  });

  it('refuses an unknown member_id with 401 and enqueues nothing', async () => {
    const stranger = fixture('bitrix24/ONCRMDEALUPDATE.form').replace(documentedPortal.memberId, 'f'.repeat(32));
    const res = await request(app).post('/bitrix24/events').type(FORM).send(stranger);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unknown_installation');
    expect(await jobs()).toHaveLength(0);
  });

  it.each([
    ['no auth block', 'event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=759&ts=1736405807', /auth/],
    ['a non-numeric deal id', fixture('bitrix24/ONCRMDEALUPDATE.form').replace('data%5BFIELDS%5D%5BID%5D=759', 'data%5BFIELDS%5D%5BID%5D=abc'), /data\[FIELDS\]\[ID\] must be a numeric id/],
    ['no ts', fixture('bitrix24/ONCRMDEALUPDATE.form').replace('&ts=1736405807', ''), /ts/],
    ['an empty body', '', /event/],
  ])('answers 400 with a reason for %s and enqueues nothing', async (_case, body, reason) => {
    const res = await request(app).post('/bitrix24/events').type(FORM).send(body);
    expect(res.status).toBe(400);
    expect(res.body.reason).toMatch(reason);
    expect(await jobs()).toHaveLength(0);
  });

  it('makes one job of a duplicate delivery', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request(app).post('/bitrix24/events').type(FORM).send(fixture('bitrix24/ONCRMDEALUPDATE.form'));
      expect(res.status).toBe(200);
    }
    expect(await jobs()).toHaveLength(1);
  });

  it('acknowledges events it does not handle without enqueueing', async () => {
    const other = fixture('bitrix24/ONCRMDEALUPDATE.form').replace('event=ONCRMDEALUPDATE', 'event=ONCRMCOMPANYUPDATE');
    const res = await request(app).post('/bitrix24/events').type(FORM).send(other);
    expect(res.status).toBe(200);
    expect(res.body.ignored).toBe('ONCRMCOMPANYUPDATE');
    expect(await jobs()).toHaveLength(0);
  });

  it('enqueues the removal of the installation on a verified ONAPPUNINSTALL, and refuses a forged one', async () => {
    const forged = fixture('bitrix24/ONAPPUNINSTALL.form').replace(documentedPortal.applicationToken, 'a'.repeat(32));
    expect((await request(app).post('/bitrix24/events').type(FORM).send(forged)).status).toBe(401);
    expect(await jobs()).toHaveLength(0);
    const res = await request(app).post('/bitrix24/events').type(FORM).send(fixture('bitrix24/ONAPPUNINSTALL.form'));
    expect(res.status).toBe(200);
    const queued = await jobs();
    expect(queued.map((j) => j.data)).toEqual([expect.objectContaining({ kind: 'removed', entity: 'installation' })]);
  });
});

describe('Bitrix24 app page', () => {
  it('answers the form POST Bitrix24 opens it with, without echoing the tokens', async () => {
    const services = await createTestServices();
    try {
      const res = await request(createWebApp(services))
        .post('/apps/bitrix24/index.html?DOMAIN=x.bitrix24.ru&PROTOCOL=1&LANG=ru')
        .type(FORM)
        .send('AUTH_ID=secret-access&REFRESH_ID=secret-refresh&member_id=abc');
      expect(res.status).toBe(200);
      expect(res.text).toContain('BX24');
      expect(res.text).not.toContain('secret-access');
    } finally {
      await services.cleanup();
    }
  });
});
