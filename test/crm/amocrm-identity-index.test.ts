import nock from 'nock';
import { parse } from 'qs';
import { refreshIdentityIndex } from '../../src/crm/amocrm/identity-backfill';
import { indexableKeys } from '../../src/crm/amocrm/identity-index';
import type { AmoContact } from '../../src/crm/amocrm/client-search';
import { documentedAmocrmInstallation, someTokens } from '../helpers/fixtures';
import { useNockedServices } from '../helpers/nocked-services';

const phone = (value: string) => ({ field_id: 1, field_code: 'PHONE', values: [{ value, enum_code: 'WORK' }] });
const email = (value: string) => ({ field_id: 2, field_code: 'EMAIL', values: [{ value, enum_code: 'WORK' }] });
const contact = (id: number, fields: AmoContact['custom_fields_values'], leads: number[] = []): AmoContact => ({ id, name: `Контакт ${id}`, custom_fields_values: fields, _embedded: { leads: leads.map((l) => ({ id: l })) } });
/** Contacts 1..n, each with its own phone +7999000NNNN. */
const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => contact(from + i, [phone(`+7 999 000-${String(from + i).padStart(4, '0')}`)]));

describe('the amoCRM identity index (duplicate lookups without a search per phone)', () => {
  const harness = useNockedServices();
  const installation = documentedAmocrmInstallation();
  const host = installation.baseUrl;
  const silent = { info: () => undefined } as never;

  async function setup() {
    await harness.services.store.save(installation, someTokens());
    const rest = harness.services.clients.amocrmRest(installation, someTokens());
    const index = harness.services.clients.amocrmIdentities(installation);
    return { rest, index };
  }

  it('indexes phones and e-mails by their codes and other short values as possible messenger ids', () => {
    const keys = indexableKeys(contact(1, [phone('8 (999) 123-45-67'), email(' Ivan@Mail.ru '), { field_id: 9, field_name: 'Telegram', values: [{ value: '@Ivan_Petrov' }] }]));
    expect(keys).toEqual(['+79991234567', 'ivan@mail.ru', 'im:ivan_petrov']);
  });

  it('is built by a backfill over every page of contacts, resumes after a crash at the page it stopped at, and only then is complete', async () => {
    const { rest, index } = await setup();
    const pages: string[] = [];
    const page = (n: number, status: number, body?: unknown) =>
      nock(host)
        .get((uri) => uri === `/api/v4/contacts?limit=250&page=${n}&order%5Bid%5D=asc`)
        .reply(status, () => {
          pages.push(String(n));
          return body as never;
        });
    page(1, 200, { _links: { next: { href: `${host}/api/v4/contacts?page=2&limit=250` } }, _embedded: { contacts: numbered(1, 250) } });
    // The worker dies (here: amoCRM fails past every retry) on page 2.
    page(2, 502, { title: 'Bad Gateway' });
    await expect(refreshIdentityIndex(rest, index, silent)).rejects.toThrow(/502/);
    expect(await index.state()).toMatchObject({ status: 'building', nextPage: 2, contacts: 250 });
    expect(await index.isComplete()).toBe(false);

    page(2, 200, { _embedded: { contacts: numbered(251, 300) } });
    expect(await refreshIdentityIndex(rest, index, silent)).toEqual({ step: 'backfill', pages: 1, contacts: 50, complete: true });
    expect(pages).toEqual(['1', '2', '2']);
    expect(await index.state()).toMatchObject({ status: 'complete', contacts: 300 });
    expect(await index.candidates(['+79990000001', '+79990000300', '+79990000301'])).toEqual([300, 1]);
  });

  it('once complete, each catch-up indexes the contacts modified since the last one (a lost webhook is caught up)', async () => {
    const { rest, index } = await setup();
    await index.startRebuild(1_790_000_000);
    await index.complete(1_790_000_000, 1_790_000_100);
    let query: Record<string, unknown> = {};
    nock(host)
      .get('/api/v4/contacts')
      .query(true)
      .reply(200, (uri) => {
        query = parse(uri.split('?')[1]!);
        return { _embedded: { contacts: [{ ...contact(7, [phone('+7 916 111-22-33')]), updated_at: 1_790_000_500 }] } };
      });
    expect(await refreshIdentityIndex(rest, index, silent, () => 1_790_001_000)).toEqual({ step: 'modified', contacts: 1 });
    expect(query).toMatchObject({ filter: { updated_at: { from: String(1_790_000_000 - 60) } }, order: { updated_at: 'asc' } });
    expect(await index.candidates(['+79161112233'])).toEqual([7]);
    expect((await index.state()).modifiedSince).toBe(1_790_000_500);
  });

  it('while the index is building, a lookup searches amoCRM as before (one query per value)', async () => {
    const { index } = await setup();
    await index.startRebuild(1_790_000_000);
    await index.add([contact(1, [phone('+7 999 123-45-67')])]);
    const scope = nock(host).get('/api/v4/contacts').query({ query: '9991234567', with: 'leads', limit: '50' }).reply(204);
    const crm = await harness.services.clients.forInstallation(installation);
    const found = await crm.findClientsByCommunications({ phones: ['+79991234567'], emails: [], messengers: [] });
    expect(scope.isDone()).toBe(true);
    expect(found).toEqual({ contacts: [], deals: [] });
  });

  it('a complete index proposes candidates that are read by id and compared exactly: a stale entry does not match, a current one does', async () => {
    const { index } = await setup();
    await index.startRebuild(1_790_000_000);
    await index.complete(1_790_000_000, 1_790_000_000);
    // Contact 5 once had the number (it was changed since); contact 6 has it now.
    await index.add([contact(5, [phone('+7 999 123-45-67')]), contact(6, [phone('8 999 123 45 67')])]);
    const reads: string[] = [];
    nock(host)
      .get('/api/v4/contacts')
      .query(true)
      .reply(200, (uri) => {
        reads.push(decodeURIComponent(uri));
        return { _embedded: { contacts: [contact(5, [phone('+7 912 000-00-00')], [50]), contact(6, [phone('8 999 123 45 67')], [60])] } };
      })
      .get('/api/v4/leads/60')
      .query({ with: 'contacts' })
      .reply(200, { id: 60, name: 'Квартира', status_id: 142, pipeline_id: 5, responsible_user_id: 3, created_at: 1_790_000_000, _embedded: { contacts: [{ id: 6, is_main: true }] } });
    const crm = await harness.services.clients.forInstallation(installation);
    const found = await crm.findClientsByCommunications({ phones: ['+79991234567'], emails: [], messengers: [] });
    // Both candidates in one merged `filter[id][]` read, never as `query=`.
    expect(reads).toEqual(['/api/v4/contacts?with=leads&filter[id][]=6&filter[id][]=5&limit=2']);
    expect(found.contacts.map((c) => c.id)).toEqual(['6']);
    expect(found.deals).toEqual([expect.objectContaining({ id: '60', semantics: 'success', contactIds: ['6'] })]);
    expect(nock.isDone()).toBe(true);
  });
});
