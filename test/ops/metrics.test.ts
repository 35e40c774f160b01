import request from 'supertest';
import { observeReconcileLag, resetMetrics } from '../../src/observability/metrics';
import { createWebApp } from '../../webhooks/server';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { drainInbox } from '../helpers/inbox';
import { createTestServices, eventually, redisUrl } from '../helpers/test-services';
import { documentedBitrix24Installation, fixture, someTokens } from '../helpers/fixtures';

const FORM = 'application/x-www-form-urlencoded';

/** The value of one series in Prometheus text format, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('GET /metrics after a working day on both CRMs', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    resetMetrics();
    stack = await startLocalStack({ redisUrl: redisUrl() });
  });
  afterEach(() => stack.stop());

  it('counts accepted and refused events by reason, jobs and robot runs, robot actions by kind, CRM calls by method and status, limiter waits, queue depth and reconciliation lag', async () => {
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов' });
    stack.portal.userAddDeal({ title: 'Сделка', contactId, ufCrmUnit: 'кв. 1' } as never);
    stack.amo.userAddLead({ name: 'Заявка' });
    await stack.idle();
    // A forged token, twice, and a malformed body: refused, each reason counted.
    const forged = fixture('bitrix24/ONCRMDEALUPDATE.form')
      .replace('a223c6b3710f85df22e9377d6c4f7553', stack.portal.memberId)
      .replace('51856fefc120afa4b628cc82d3935cce', '0'.repeat(32));
    for (let i = 0; i < 2; i++) expect((await request(stack.appUrl).post('/bitrix24/events').type(FORM).send(forged)).status).toBe(401);
    expect((await request(stack.appUrl).post('/bitrix24/events').type(FORM).send('event=ONCRMDEALUPDATE')).status).toBe(400);
    expect((await request(stack.appUrl).post('/amocrm/webhook/not-a-secret').type(FORM).send('account%5Bid%5D=1&account%5Bsubdomain%5D=x')).status).toBe(401);
    const [b24] = (await stack.services.store.list()).filter((i) => i.crm === 'bitrix24');
    observeReconcileLag(b24!.id, 42);

    const res = await request(stack.appUrl).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const m = (name: string, labels?: Record<string, string>) => sample(res.text, name, labels);

    expect(m('reglament_edge_events_accepted_total', { crm: 'bitrix24' })).toBeGreaterThanOrEqual(3); // contact, deal, the renamer's echo
    expect(m('reglament_edge_events_accepted_total', { crm: 'amocrm' })).toBeGreaterThanOrEqual(1);
    expect(m('reglament_edge_events_refused_total', { crm: 'bitrix24', reason: 'invalid_application_token' })).toBe(2);
    expect(m('reglament_edge_events_refused_total', { crm: 'bitrix24', reason: 'malformed_event' })).toBe(1);
    expect(m('reglament_edge_events_refused_total', { crm: 'amocrm', reason: 'unknown_installation' })).toBe(1);
    expect(m('reglament_jobs_total', { queue: 'events', outcome: 'done' })).toBeGreaterThanOrEqual(4);
    expect(m('reglament_jobs_total', { queue: 'events', outcome: 'failed' })).toBeUndefined();
    // The deal and the lead; their renames' echoes are dropped unread (own-echo.ts) when they come within the echo
    // window, so at most one more run (an echo a loaded machine delivered late is read, and changes nothing).
    expect(m('reglament_robot_runs_total', { robot: 'dealRenamer', outcome: 'done' })).toBeGreaterThanOrEqual(2);
    expect(m('reglament_robot_runs_total', { robot: 'dealRenamer', outcome: 'done' })).toBeLessThanOrEqual(4);
    expect(m('reglament_robot_actions_total', { robot: 'dealRenamer', kind: 'renamed' })).toBe(2); // the deal and the lead
    // Install (event.get + profile, then event.bind ×6) and the deal reads are batches: one call each, method "batch".
    expect(m('reglament_crm_calls_total', { crm: 'bitrix24', method: 'batch', status: '200' })).toBeGreaterThanOrEqual(3);
    expect(m('reglament_crm_calls_total', { crm: 'bitrix24', method: 'event.bind', status: '200' })).toBeUndefined();
    expect(m('reglament_crm_calls_total', { crm: 'bitrix24', method: 'crm.item.update', status: '200' })).toBe(1);
    expect(m('reglament_crm_calls_total', { crm: 'amocrm', method: 'PATCH /api/v4/leads/:id', status: '200' })).toBe(1);
    expect(m('reglament_crm_call_duration_seconds_count', { crm: 'amocrm' })).toBeGreaterThanOrEqual(2);
    expect(m('reglament_rate_limiter_wait_seconds_count', { crm: 'bitrix24' })).toBeGreaterThanOrEqual(3);
    expect(m('reglament_rate_limiter_wait_seconds_count', { crm: 'amocrm' })).toBeGreaterThanOrEqual(2);
    expect(m('reglament_queue_jobs', { queue: 'events', state: 'waiting' })).toBe(0);
    expect(m('reglament_queue_jobs', { queue: 'events', state: 'prioritized' })).toBe(0);
    expect(m('reglament_queue_jobs', { queue: 'timers', state: 'failed' })).toBe(0);
    expect(m('reglament_queue_oldest_waiting_seconds', { queue: 'events' })).toBe(0);
    expect(m('reglament_reconcile_lag_seconds', { crm: 'bitrix24' })).toBe(42);
    expect(m('reglament_redis_up')).toBe(1);
    // Bounded labels: no installation, member, account or deal id in any series.
    expect(res.text).not.toContain(stack.portal.memberId);
    expect(res.text).not.toContain(b24!.id);
  }, 60000);
});

describe('queue depth is read at scrape time', () => {
  it('shows an accepted event waiting in the inbox, then as a waiting job, and how long it has waited, when no worker takes it', async () => {
    resetMetrics();
    const services = await createTestServices();
    try {
      await services.store.save(documentedBitrix24Installation(), someTokens());
      const app = createWebApp(services);
      expect((await request(app).post('/bitrix24/events').type(FORM).send(fixture('bitrix24/ONCRMDEALUPDATE.form'))).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      // No worker runs, so no pump: the event waits in the inbox.
      await eventually(async () => {
        const text = (await request(app).get('/metrics')).text;
        expect(sample(text, 'reglament_event_inbox_entries')).toBe(1);
        expect(sample(text, 'reglament_event_inbox_oldest_seconds')).toBeGreaterThanOrEqual(1);
      });
      expect(await drainInbox(services)).toBe(1);
      await eventually(async () => {
        const text = (await request(app).get('/metrics')).text;
        // Event jobs carry a per-installation priority (fair scheduling): BullMQ counts them as prioritized.
        expect(sample(text, 'reglament_queue_jobs', { queue: 'events', state: 'prioritized' })).toBe(1);
        expect(sample(text, 'reglament_queue_oldest_waiting_seconds', { queue: 'events' })).toBeGreaterThanOrEqual(1);
      });
    } finally {
      await services.cleanup();
    }
  });
});
