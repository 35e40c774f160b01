import type { AmoIdentityIndex } from '../../src/crm/amocrm/identity-index';
import type { AmocrmInstallation } from '../../src/installations/installation';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

const MANAGER = 2;
const CLIENT_MANAGER = 3;
const DAY = 24 * 3600_000;

describe('duplicate catcher on amoCRM answered by the identity index', () => {
  let stack: LocalStack;
  let stage: (name: string) => number;
  let pipelineId: number;
  let index: AmoIdentityIndex;
  let client: { contactId: number; leadId: number };

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    // A client the account knew long before the app was installed: no webhook ever told the app of it.
    const contactId = stack.amo.userAddContact({ name: 'Иванов Иван', phones: ['+7 (999) 123-45-67'], responsible_user_id: CLIENT_MANAGER }, CLIENT_MANAGER);
    const leadId = stack.amo.userAddLead({ name: 'Квартира 5-101', pipeline_id: pipelineId, status_id: stage('Встреча назначена'), responsible_user_id: CLIENT_MANAGER, contactId }, CLIENT_MANAGER);
    client = { contactId, leadId };
    stack.amo.advanceClock(7 * DAY);
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    const installation = (await stack.services.store.list())[0] as AmocrmInstallation;
    expect(await configureRegulations(stack.services, installation.id, [{ preset: 'amocrm-primary-market' }])).toMatchObject({ ok: true });
    index = stack.services.clients.amocrmIdentities(installation);
    // The install starts the backfill (a catch-up job): every contact is read into the index.
    await eventually(() => index.isComplete().then((done) => done || Promise.reject(new Error('index still building'))));
    await stack.idle();
  });
  afterEach(() => stack.stop());

  const contactSearches = (from: number) => stack.amo.calls.slice(from).filter((c) => c.method === 'GET' && c.path === '/api/v4/contacts' && c.query.query !== undefined);
  async function newLead(phones: string[]) {
    const contactId = stack.amo.userAddContact({ name: 'Иван', phones }, MANAGER);
    const leadId = stack.amo.userAddLead({ name: 'Заявка с сайта', pipeline_id: pipelineId, status_id: stage('Новый лид'), responsible_user_id: MANAGER, contactId }, MANAGER);
    await stack.idle();
    return leadId;
  }

  it('a repeat from a client known before the install is caught with no contact search: the backfill indexed the client', async () => {
    const from = stack.amo.calls.length;
    const leadId = await newLead(['8 999 123 45 67']);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(143);
    expect(stack.amo.getLead(leadId)!.contacts).toContainEqual({ id: client.contactId, is_main: true });
    expect(contactSearches(from)).toEqual([]);
  });

  it('a number a manager adds to the client later reaches the index by the update_contact webhook, and a lead from it is caught', async () => {
    stack.amo.userUpdateContact(client.contactId, { phones: ['+7 (999) 123-45-67', '+7 916 555-44-33'] }, CLIENT_MANAGER);
    await stack.idle();
    expect(await index.candidates(['+79165554433'])).toEqual([client.contactId]);
    const from = stack.amo.calls.length;
    const leadId = await newLead(['+7 916 555 44 33']);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(143);
    expect(contactSearches(from)).toEqual([]);
  });

  it('a new person is not a repeat and costs no contact search', async () => {
    const from = stack.amo.calls.length;
    const leadId = await newLead(['+7 903 777-66-55']);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(stage('Новый лид'));
    expect(contactSearches(from)).toEqual([]);
  });

  it('while the index is rebuilt (a reconnect), lookups search amoCRM as before and the repeat is still caught', async () => {
    await index.startRebuild(Math.floor(Date.now() / 1000));
    const from = stack.amo.calls.length;
    const leadId = await newLead(['+79991234567']);
    expect(stack.amo.getLead(leadId)!.status_id).toBe(143);
    expect(contactSearches(from).map((c) => c.query.query)).toContain('9991234567');
  });
});
