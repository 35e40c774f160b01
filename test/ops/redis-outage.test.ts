import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { readConfig } from '../../src/config';
import { startHeartbeat } from '../../src/pipeline/worker-heartbeat';
import { createServices, type Services } from '../../src/services';
import { createWebApp } from '../../webhooks/server';
import { documentedAccount, documentedAmocrmInstallation, documentedBitrix24Installation, fixture, someTokens } from '../helpers/fixtures';
import { PrivateRedis } from '../helpers/private-redis';
import { eventually, TEST_ENCRYPTION_KEY } from '../helpers/test-services';

const FORM = 'application/x-www-form-urlencoded';

/** Log lines of the app, parsed (pino writes one JSON object per line). */
function capturedLogger() {
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('the edge without Redis: answers 503 fast, and is ready again when Redis is back', () => {
  let redis: PrivateRedis;
  let services: Services;
  let app: ReturnType<typeof createWebApp>;
  let lines: ReturnType<typeof capturedLogger>['lines'];
  let stopHeartbeat: () => void;
  const consoleErrors = jest.spyOn(console, 'error');

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    const captured = capturedLogger();
    lines = captured.lines;
    const config = readConfig({ NODE_ENV: 'test', TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, REDIS_PREFIX: 'reglament-outage' } as NodeJS.ProcessEnv);
    services = createServices(config, redis.url, captured.log);
    app = createWebApp(services);
    await services.store.save(documentedBitrix24Installation(), someTokens());
    await services.store.save(documentedAmocrmInstallation(), someTokens());
    // What a running worker does; /ready wants a beat younger than 30 s.
    stopHeartbeat = startHeartbeat(services.redis, services.prefix);
  });

  afterAll(async () => {
    stopHeartbeat();
    redis.thaw();
    await services.close();
    await redis.stop();
    consoleErrors.mockRestore();
  });

  const postEvent = async () => {
    const started = Date.now();
    const res = await request(app).post('/bitrix24/events').type(FORM).send(fixture('bitrix24/ONCRMDEALUPDATE.form'));
    return { status: res.status, body: res.body, retryAfter: res.headers['retry-after'], ms: Date.now() - started };
  };
  const outageLines = () => lines.filter((l) => l.msg.startsWith('Redis is unreachable'));
  const backLines = () => lines.filter((l) => l.msg === 'Redis is back');

  it('frozen Redis (kill -STOP): a valid event gets 503 within about a second, /ready says 503, /health stays 200; after kill -CONT both are 200 again', async () => {
    expect((await postEvent()).status).toBe(200);
    expect((await request(app).get('/ready')).status).toBe(200);

    redis.freeze();
    const refused = await Promise.all([postEvent(), postEvent(), postEvent()]);
    for (const answer of refused) {
      expect(answer).toMatchObject({ status: 503, body: { error: 'redis_unavailable' }, retryAfter: '5' });
      // REDIS_COMMAND_TIMEOUT_MS is 800 ms; without a bound these requests never end (the bench measures the real figure).
      expect(answer.ms).toBeLessThan(3000);
    }
    // amoCRM waits at most 2 s for an answer and retries a 5xx.
    const amo = await request(app).post(`/amocrm/webhook/${documentedAccount.webhookSecret}`).type(FORM).send(fixture('amocrm/status_lead.form'));
    expect(amo.status).toBe(503);
    const ready = await request(app).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ok: false, redis: 'unavailable' });
    expect((await request(app).get('/health')).status).toBe(200);
    expect((await request(app).get('/healthz')).status).toBe(200);

    redis.thaw();
    await eventually(async () => expect((await postEvent()).status).toBe(200), 10000, 200);
    expect((await request(app).post(`/amocrm/webhook/${documentedAccount.webhookSecret}`).type(FORM).send(fixture('amocrm/status_lead.form'))).status).toBe(200);
    await eventually(async () => expect((await request(app).get('/ready')).status).toBe(200), 10000, 200);
    // One line when the outage began (not one per failed request), one when it ended.
    await eventually(() => expect(backLines()).toHaveLength(1), 5000);
    expect(outageLines()).toHaveLength(1);
  }, 30000);

  it('stopped Redis (connection refused): 503 fast and nothing appended, one outage line, and 200 once it is started again', async () => {
    const before = { outage: outageLines().length, back: backLines().length };
    await redis.stop();
    const answers = [await postEvent(), await postEvent(), await postEvent()];
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(3000);
    }
    expect((await request(app).get('/ready')).status).toBe(503);
    await redis.restart();
    // The refused events were not kept in the web process to be appended later (the CRM retries them):
    // once the edge's connection is back, the inbox is empty.
    await eventually(() => expect((services.queueSettings.connection as { status?: string }).status).toBe('ready'), 10000, 100);
    expect(await services.inbox.depth()).toBe(0);
    // The installation lived in the old (non-persistent) server: save it again, and a fresh heartbeat.
    await eventually(() => services.store.save(documentedBitrix24Installation(), someTokens()), 10000, 200);
    stopHeartbeat();
    stopHeartbeat = startHeartbeat(services.redis, services.prefix);
    await eventually(async () => expect((await postEvent()).status).toBe(200), 10000, 200);
    await eventually(async () => expect((await request(app).get('/ready')).status).toBe(200), 10000, 200);
    await eventually(() => expect(backLines().length).toBe(before.back + 1), 5000);
    expect(outageLines().length).toBe(before.outage + 1);
    // ioredis printed nothing raw ("[ioredis] Unhandled error event") to stderr.
    expect(consoleErrors.mock.calls.filter((c) => String(c[0]).includes('ioredis'))).toEqual([]);
  }, 30000);
});
