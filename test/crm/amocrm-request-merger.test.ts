/**
 * Merged amoCRM requests, against the emulated account over real HTTP: concurrent jobs of one
 * account share list requests (`filter[id][]` reads, array PATCH and POST), each job gets its own
 * part, a refused element fails only its job, writes to one lead keep their order, and a 429
 * retries the shared request whole.
 */
import type { CrmPort } from '../../src/crm/crm-port';
import { AmoRequestMerger, type MergeTransport } from '../../src/crm/amocrm/request-merger';
import { AmoValidationError } from '../../src/crm/amocrm/rest-client';
import { PermanentCrmError, TransientError } from '../../src/errors';
import type { AmocrmInstallation } from '../../src/installations/installation';
import { AmoCrmAccountEmulator, type RecordedCall } from '../emulators/amocrm-account';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

const app = { clientId: 'merge-test-client', clientSecret: 'merge-test-secret', redirectUri: 'http://127.0.0.1:1/amocrm/oauth/callback' };

describe('amoCRM merged requests: concurrent jobs of one account share list requests', () => {
  let amo: AmoCrmAccountEmulator;
  let services: TestServices;
  let installation: AmocrmInstallation;

  beforeEach(async () => {
    amo = await AmoCrmAccountEmulator.start({ ...app, rateLimitPerSecond: 7 });
    services = await createTestServices({ AMOCRM_MERGE_REQUESTS: 'on', AMOCRM_INSECURE_HOSTS: '127.0.0.1' });
    installation = {
      id: `amo:${amo.accountId}`,
      crm: 'amocrm',
      status: 'active',
      installedAt: new Date().toISOString(),
      settings: {},
      accountId: String(amo.accountId),
      subdomain: amo.subdomain,
      baseUrl: amo.url,
      webhookSecretHash: '0'.repeat(64),
    };
    const { code } = amo.authorize();
    const answer = await fetch(`${amo.url}/oauth2/access_token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: app.clientId, client_secret: app.clientSecret, redirect_uri: app.redirectUri, grant_type: 'authorization_code', code }),
    });
    const tokens = (await answer.json()) as { access_token: string; refresh_token: string; expires_in: number };
    await services.store.save(installation, { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt: Date.now() + tokens.expires_in * 1000 });
  });
  afterEach(async () => {
    await services.cleanup();
    await amo.stop();
  });

  /** One CrmPort per job, as the worker builds them. */
  const jobs = (n: number): Promise<CrmPort[]> => Promise.all(Array.from({ length: n }, () => services.clients.forInstallation(installation)));
  const apiCalls = (): RecordedCall[] => amo.calls.filter((c) => c.path.startsWith('/api/'));
  const lead = (id: number) => ({ entity: 'deal' as const, id: String(id) });
  const idsRead = (c: RecordedCall) => ((c.query.filter as { id?: string[] } | undefined)?.id ?? []).map(Number);

  it('fifty jobs reading fifty leads at once send one leads read and one contacts read, and each job gets its own lead and client', async () => {
    const leads = Array.from({ length: 50 }, (_, i) => amo.userAddLead({ name: `Заявка ${i}`, contactId: amo.userAddContact({ name: `Клиент ${i}` }) }));
    const crms = await jobs(50);
    const read = await Promise.all(crms.map((crm, i) => crm.getDealWithContacts(lead(leads[i]!))));
    expect(read.map((r) => [r?.deal.title, r?.contacts[0]?.name])).toEqual(leads.map((_, i) => [`Заявка ${i}`, `Клиент ${i}`]));
    const calls = apiCalls();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /api/v4/leads', 'GET /api/v4/contacts']);
    expect(idsRead(calls[0]!).sort()).toEqual([...leads].sort());
    expect(calls[0]!.query).toMatchObject({ with: 'contacts', limit: '50' });
  });

  it('a lead missing from a shared read is null for its job only', async () => {
    const [kept, deleted] = [amo.userAddLead({ name: 'Есть' }), amo.userAddLead({ name: 'Удалена' })];
    amo.userDeleteLead(deleted);
    const crms = await jobs(2);
    const [a, b] = await Promise.all([crms[0]!.getDeal(lead(kept)), crms[1]!.getDeal(lead(deleted))]);
    expect([a?.title, b]).toEqual(['Есть', null]);
    expect(apiCalls()).toHaveLength(1);
  });

  it('alone, a job sends what it sent before merging: PATCH /api/v4/leads/{id} with only the name', async () => {
    const id = amo.userAddLead({ name: 'Старое' });
    const [crm] = await jobs(1);
    await crm!.renameDeal(lead(id), 'Новое');
    expect(apiCalls().map((c) => [c.method, c.path, c.body])).toEqual([['PATCH', `/api/v4/leads/${id}`, { name: 'Новое' }]]);
    expect(amo.getLead(id)?.name).toBe('Новое');
  });

  it('three hundred renames travel in PATCH /api/v4/leads arrays of at most 250, and every lead gets its own name', async () => {
    const leads = Array.from({ length: 300 }, (_, i) => amo.userAddLead({ name: `Импорт ${i}` }));
    const crms = await jobs(300);
    await Promise.all(crms.map((crm, i) => crm.renameDeal(lead(leads[i]!), `${leads[i]} / Клиент ${i}`)));
    expect(leads.every((id, i) => amo.getLead(id)?.name === `${id} / Клиент ${i}`)).toBe(true);
    const sizes = apiCalls().map((c) => (c.path === '/api/v4/leads' && Array.isArray(c.body) ? c.body.length : 1));
    expect(sizes).toEqual([250, 50]);
  });

  it('a refused element fails only its own job: amoCRM names it by request_id, the others are sent again and succeed', async () => {
    const leads = Array.from({ length: 5 }, (_, i) => amo.userAddLead({ name: `Сделка ${i}` }));
    const crms = await jobs(5);
    const moves = crms.map((crm, i) => crm.moveDeal(lead(leads[i]!), i === 2 ? '1' : String(amo.statusId('Переговоры'))));
    const outcomes = await Promise.allSettled(moves);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const refused = (outcomes[2] as PromiseRejectedResult).reason as AmoValidationError;
    expect(refused).toBeInstanceOf(AmoValidationError);
    expect(refused.groups[0]!.errors[0]).toMatchObject({ code: 'NotSupportedChoice', path: 'status_id' });
    expect(leads.map((id) => amo.getLead(id)?.status_id)).toEqual(leads.map((_, i) => (i === 2 ? amo.statusId('Первичный контакт') : amo.statusId('Переговоры'))));
    const patches = apiCalls().filter((c) => c.method === 'PATCH');
    expect(patches.map((c) => [c.status, (c.body as unknown[]).length])).toEqual([[400, 5], [200, 4]]);
  });

  it('writes to one lead keep their order: the later write waits for the request that carries the earlier one; other leads do not wait', async () => {
    const [one, two] = [amo.userAddLead({ name: 'a' }), amo.userAddLead({ name: 'b' })];
    const crms = await jobs(3);
    await Promise.all([crms[0]!.renameDeal(lead(one), 'первое'), crms[1]!.renameDeal(lead(one), 'второе'), crms[2]!.renameDeal(lead(two), 'другая')]);
    expect(amo.getLead(one)?.name).toBe('второе');
    const patches = apiCalls().filter((c) => c.method === 'PATCH');
    expect(patches.map((c) => c.body)).toEqual([
      [{ id: one, name: 'первое', request_id: '0' }, { id: two, name: 'другая', request_id: '1' }],
      { name: 'второе' },
    ]);
  });

  it('notes and tasks of concurrent jobs go in one POST each, and each job gets the id of its own task', async () => {
    const leads = Array.from({ length: 3 }, (_, i) => amo.userAddLead({ name: `Сделка ${i}` }));
    const crms = await jobs(3);
    await Promise.all(crms.map((crm, i) => crm.addComment(lead(leads[i]!), `Примечание ${i}`)));
    const taskIds = await Promise.all(crms.map((crm, i) => crm.createTask(lead(leads[i]!), { kind: 'call', text: `Позвонить ${i}`, dueAt: new Date(Date.now() + 3600_000), responsibleId: '2' })));
    expect(apiCalls().map((c) => `${c.method} ${c.path} ${(c.body as unknown[]).length}`)).toEqual(['POST /api/v4/leads/notes 3', 'POST /api/v4/tasks 3']);
    leads.forEach((id, i) => {
      expect(amo.notes(id).map((n) => n.params.text)).toEqual([`Примечание ${i}`]);
      expect(amo.tasks.find((t) => String(t.id) === taskIds[i])).toMatchObject({ entity_id: id, text: `Позвонить ${i}` });
    });
  });

  it('a 429 mid-stream (another integration used the second) retries the shared request whole, and every job gets its answer', async () => {
    const leads = Array.from({ length: 20 }, (_, i) => amo.userAddLead({ name: `Сделка ${i}` }));
    const crms = await jobs(20);
    // Another integration of the account spends this second's budget.
    const token = (await services.store.tokens(installation.id))!.accessToken;
    await Promise.all(Array.from({ length: 7 }, () => fetch(`${amo.url}/api/v4/account`, { headers: { Authorization: `Bearer ${token}` } })));
    await Promise.all(crms.map((crm, i) => crm.renameDeal(lead(leads[i]!), `Новое ${i}`)));
    expect(leads.map((id) => amo.getLead(id)?.name)).toEqual(leads.map((_, i) => `Новое ${i}`));
    const patches = apiCalls().filter((c) => c.method === 'PATCH');
    expect(patches.map((c) => [c.status, (c.body as unknown[]).length])).toEqual([[429, 20], [200, 20]]);
  });
});

describe('amoCRM merged requests: failures that name no element', () => {
  /** A transport answering like amoCRM: a list write fails while it carries `poison`, with `failure`. */
  function transport(poison: string, failure: () => Error): MergeTransport & { sent: Array<{ path: string; names: string[] }> } {
    const sent: Array<{ path: string; names: string[] }> = [];
    return {
      sent,
      acquireSlot: async () => {},
      request: async <T>(_method: string, path: string, req: { body?: unknown } = {}): Promise<T | null> => {
        const elements = (Array.isArray(req.body) ? req.body : [req.body]) as Array<{ id?: number; name: string; request_id?: string }>;
        sent.push({ path, names: elements.map((e) => e.name) });
        if (elements.some((e) => e.name === poison)) throw failure();
        return { _embedded: { leads: elements.map((e) => ({ id: e.id, request_id: e.request_id })) } } as T;
      },
    };
  }
  const renames = (merger: AmoRequestMerger, names: string[]) =>
    Promise.allSettled(names.map((name, i) => merger.submit('patch-leads', { entity: `leads:${i + 1}`, id: i + 1, element: { id: i + 1, name } })));

  it('a 400 without validation-errors is split in halves until the bad element travels alone; only its job fails', async () => {
    const wire = transport('плохое', () => new PermanentCrmError('amoCRM PATCH /api/v4/leads → 400: Bad Request', 'HTTP_400'));
    const merger = new AmoRequestMerger();
    merger.useTransport(wire);
    const outcomes = await renames(merger, ['a', 'b', 'плохое', 'c']);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(wire.sent.map((s) => s.names)).toEqual([['a', 'b', 'плохое', 'c'], ['a', 'b'], ['плохое', 'c'], ['плохое'], ['c']]);
    expect(wire.sent.at(-2)!.path).toBe('/api/v4/leads/3');
  });

  it('a 504 (the request was too big) is split in halves and resent; a lone request that still fails fails its job', async () => {
    const wire = transport('медленное', () => new TransientError('amoCRM PATCH /api/v4/leads → 504', 'HTTP_504'));
    const merger = new AmoRequestMerger();
    merger.useTransport(wire);
    const outcomes = await renames(merger, ['a', 'медленное']);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(TransientError);
  });
});
