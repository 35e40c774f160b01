import { CrmClients } from '../../src/crm/crm-clients';
import { createLogger } from '../../src/log';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

describe('amoCRM end to end: OAuth install → webhook → queue → deal renamer → PATCH /api/v4/leads', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
  });
  afterEach(() => stack.stop());

  const patches = (id: number) => stack.amo.calls.filter((c) => c.method === 'PATCH' && c.path === `/api/v4/leads/${id}`);

  async function install() {
    const answer = await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    expect(answer.status).toBe(200);
  }

  it('exchanges the code, saves the account and subscribes a webhook whose URL carries a secret', async () => {
    await install();
    const [installation] = await stack.services.store.list();
    expect(installation).toMatchObject({ crm: 'amocrm', accountId: String(stack.amo.accountId), subdomain: stack.amo.subdomain, status: 'active' });
    const hooks = stack.amo.webhooks();
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.destination).toMatch(new RegExp(`^${stack.appUrl}/amocrm/webhook/[A-Za-z0-9_-]{20,}$`));
    expect(hooks[0]!.settings).toEqual(expect.arrayContaining(['add_lead', 'update_lead', 'status_lead']));
  });

  it('installing again replaces the secret and keeps one webhook', async () => {
    await install();
    const first = stack.amo.webhooks()[0]!.destination;
    await install();
    const hooks = stack.amo.webhooks();
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.destination).not.toBe(first);
    expect(await stack.services.store.list()).toHaveLength(1);
  });

  it('renames a new lead "ID / client / unit" once, and its own echo causes no second write', async () => {
    await install();
    const contactId = stack.amo.userAddContact({ name: 'Петров Пётр', phones: ['+79990001122'] });
    const unitField = stack.amo.leadFieldId('Объект');
    const leadId = stack.amo.userAddLead({ name: 'Заявка с сайта', contactId, custom_fields_values: [{ field_id: unitField, values: [{ value: 'кв. 12-3' }] }] });
    await stack.idle();
    expect(stack.amo.getLead(leadId)?.name).toBe(`${leadId} / Петров Пётр / кв. 12-3`);
    expect(patches(leadId)).toHaveLength(1);
    // amoCRM delivered the echo of our PATCH, and the app wrote nothing more.
    const echoes = stack.amo.deliveries.filter((d) => d.body.includes(`leads%5Bupdate%5D%5B0%5D%5Bid%5D=${leadId}`));
    expect(echoes.length).toBeGreaterThanOrEqual(1);
  });

  it('a refused (wrong secret) webhook changes nothing', async () => {
    await install();
    const response = await fetch(`${stack.appUrl}/amocrm/webhook/forged`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `leads%5Badd%5D%5B0%5D%5Bid%5D=1&account%5Bid%5D=${stack.amo.accountId}&account%5Bsubdomain%5D=${stack.amo.subdomain}`,
    });
    expect(response.status).toBe(401);
    expect(await stack.services.events.queue.getJobCounts('waiting', 'prioritized', 'completed')).toEqual({ waiting: 0, prioritized: 0, completed: 0 });
  });

  it('refreshes an expired token once for 50 concurrent calls from separate processes', async () => {
    await install();
    const leadId = stack.amo.userAddLead({ name: 'x' });
    await stack.idle();
    stack.amo.expireAccessTokens();
    stack.amo.setRateLimit(1000, 1000);
    const [installation] = await stack.services.store.list();
    const before = stack.amo.stats.refreshCalls;
    const reads = Array.from({ length: 50 }, async () => {
      const clients = new CrmClients({ ...stack.services, config: { ...stack.services.config, AMOCRM_RATE_PER_SECOND: 1000 }, log: createLogger('silent') });
      const crm = await clients.forInstallation(installation!);
      return crm.getDeal({ entity: 'deal', id: String(leadId) });
    });
    const deals = await Promise.all(reads);
    expect(deals.every((d) => d?.id === String(leadId))).toBe(true);
    expect(stack.amo.stats.refreshCalls - before).toBe(1);
  });

  it('the disconnect hook removes the installation with its tokens and data', async () => {
    await install();
    const [installation] = await stack.services.store.list();
    const answer = await stack.amo.disconnect(`${stack.appUrl}/amocrm/disconnect`);
    expect(answer.status).toBe(200);
    await stack.idle();
    expect(await stack.services.store.find(installation!.id)).toBeNull();
  });
});
