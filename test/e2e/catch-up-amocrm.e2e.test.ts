import { secretHash } from '../../src/infra/crypto';
import type { AmocrmInstallation } from '../../src/installations/installation';
import { sleep } from '../../src/infra/sleep';
import { reconcileInstallation } from '../../src/pipeline/catch-up/reconcile';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

/**
 * amoCRM retries a failed webhook a few times, then drops it; after more than 100 invalid answers
 * in two hours it disables the webhook for good. Leads changed while the app is down must still
 * reach the robots, and a disabled webhook must be replaced.
 */
describe('amoCRM catch-up after downtime', () => {
  let stack: LocalStack;
  afterEach(() => stack.stop());

  /** Writes to one lead: alone (`PATCH /api/v4/leads/{id}`) or as an element of a merged `PATCH /api/v4/leads`. */
  const patchesSince = (from: number, id: number) =>
    stack.amo.calls
      .slice(from)
      .filter((c) => c.method === 'PATCH' && c.status === 200 && (c.path === `/api/v4/leads/${id}` || (c.path === '/api/v4/leads' && Array.isArray(c.body) && c.body.some((e: { id?: number }) => e.id === id))));
  const installationId = () => `amo:${stack.amo.accountId}`;
  // An account with a higher API limit: these tests are about what gets processed, not about 7 rps.
  const fastAccount = { rateLimitPerSecond: 50 };
  const fastApp = { AMOCRM_RATE_PER_SECOND: '50' };

  async function installWithLeads(count: number): Promise<number[]> {
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    const ids = Array.from({ length: count }, (_, i) => stack.amo.userAddLead({ name: `Заявка ${i}` }));
    await stack.idle();
    for (const id of ids) expect(stack.amo.getLead(id)?.name).toBe(String(id));
    return ids;
  }

  it('20 leads renamed wrongly while the app was down are each fixed once after the restart, once amoCRM gave up retrying', async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), amoOptions: fastAccount, env: fastApp, logLevel: process.env.E2E_LOG });
    const ids = await installWithLeads(20);
    await stack.stopApp();

    for (const id of ids) stack.amo.userUpdateLead(id, { name: `Неверно ${id}` });
    await stack.amo.settle({ includeRetries: true, timeoutMs: 10_000 });
    const failed = stack.amo.deliveries.filter((d) => !d.ok);
    expect(failed.length).toBeGreaterThanOrEqual(3); // the first try and both retries of the schedule
    expect(stack.amo.webhooks()[0]!.disabled).toBe(false);

    const callsBefore = stack.amo.calls.length;
    await stack.startApp(); // default interval (300 s): only the catch-up at worker start can fix them
    await eventually(() => {
      for (const id of ids) expect(stack.amo.getLead(id)?.name).toBe(String(id));
    }, 60_000, 100);
    await stack.idle();
    for (const id of ids) expect(patchesSince(callsBefore, id)).toHaveLength(1);
    const listing = stack.amo.calls.slice(callsBefore).find((c) => c.method === 'GET' && c.path === '/api/v4/leads');
    expect(listing?.query).toMatchObject({ order: { updated_at: 'asc' }, filter: { updated_at: { from: expect.any(String) } } });

    // Later catch-ups enqueue the leads at most once more (their last versions were read within the
    // second they changed, so not recorded as handled), write nothing, and then find nothing at all.
    await sleep(2100);
    expect(await reconcileInstallation(installationId(), stack.services)).toMatchObject({ outcome: 'done', webhook: 'ok' });
    await stack.idle();
    expect(await reconcileInstallation(installationId(), stack.services)).toMatchObject({ outcome: 'done', enqueued: 0, webhook: 'ok' });
    for (const id of ids) expect(patchesSince(callsBefore, id)).toHaveLength(1);
  });

  it('a webhook subscribed before the app needed update_contact is re-subscribed with it, and a contact edit reaches the identity index', async () => {
    stack = await startLocalStack({ redisUrl: redisUrl(), amoOptions: fastAccount, env: fastApp, logLevel: process.env.E2E_LOG });
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    await stack.idle();
    // As an installation of an earlier version left it.
    const store = (stack.amo as unknown as { store: { webhooks: Array<{ settings: string[] }> } }).store;
    store.webhooks[0]!.settings = ['add_lead', 'update_lead', 'status_lead', 'responsible_lead', 'add_contact'];
    expect(await reconcileInstallation(installationId(), stack.services)).toMatchObject({ outcome: 'done', webhook: 'resubscribed' });
    expect(stack.amo.webhooks()).toEqual([expect.objectContaining({ disabled: false, settings: expect.arrayContaining(['add_contact', 'update_contact']) })]);

    const contactId = stack.amo.userAddContact({ name: 'Иванов Иван', phones: ['+7 999 123-45-67'] });
    await stack.idle();
    stack.amo.userUpdateContact(contactId, { phones: ['+7 999 123-45-67', '+7 916 555-44-33'] });
    await stack.idle();
    const installation = (await stack.services.store.find(installationId())) as AmocrmInstallation;
    expect(await stack.services.clients.amocrmIdentities(installation).candidates(['+79165554433'])).toEqual([contactId]);
  });

  it('a webhook amoCRM disabled is re-subscribed with a new secret, and events flow again', async () => {
    // The documented rule (more than 100 invalid answers in 2 h) with a smaller count.
    stack = await startLocalStack({ redisUrl: redisUrl(), amoOptions: { ...fastAccount, disableAfterInvalid: 3 }, env: fastApp, logLevel: process.env.E2E_LOG });
    const ids = await installWithLeads(4);
    const before = stack.amo.webhooks()[0]!.destination;
    await stack.stopApp();

    for (const id of ids) {
      stack.amo.userUpdateLead(id, { name: `Неверно ${id}` });
      await stack.amo.settle({ includeRetries: true, timeoutMs: 10_000 }); // one POST each, retried, failed
    }
    expect(stack.amo.webhooks()[0]!.disabled).toBe(true);

    await stack.startApp();
    await eventually(() => {
      for (const id of ids) expect(stack.amo.getLead(id)?.name).toBe(String(id));
    }, 60_000, 100);
    const hooks = stack.amo.webhooks();
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.disabled).toBe(false);
    expect(hooks[0]!.destination).not.toBe(before);
    const installation = (await stack.services.store.find(installationId())) as AmocrmInstallation;
    const secret = hooks[0]!.destination.slice(`${stack.appUrl}/amocrm/webhook/`.length);
    expect(installation.webhookSecretHash).toBe(secretHash(secret));

    // The old URL is refused; the new one carries live events to the robots again.
    const deliveredBefore = stack.amo.deliveries.length;
    const fresh = stack.amo.userAddLead({ name: 'Новая заявка' });
    await eventually(() => expect(stack.amo.getLead(fresh)?.name).toBe(String(fresh)), 15_000, 50);
    const delivered = stack.amo.deliveries.slice(deliveredBefore);
    expect(delivered.some((d) => d.destination === hooks[0]!.destination && d.ok)).toBe(true);
    const forged = await fetch(before, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `leads%5Badd%5D%5B0%5D%5Bid%5D=${fresh}&account%5Bid%5D=${stack.amo.accountId}&account%5Bsubdomain%5D=${stack.amo.subdomain}`,
    });
    expect(forged.status).toBe(401);
  });
});
