import nock from 'nock';
import { parse } from 'qs';
import { PermanentCrmError } from '../../src/errors';
import type { CrmPort } from '../../src/crm/crm-port';
import { documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

const portal = 'https://some-domain.bitrix24.com';
const installation = documentedBitrix24Installation();
const time = { start: 0, finish: 0, duration: 0, processing: 0, date_start: '', date_finish: '', operating: 0 };
const PHP_EMPTY: unknown[] = [];

interface WireBatch {
  cmd: Record<string, string>;
}

/** Answers a `batch` like Bitrix24: each `crm.item.get` finds deal N titled "Deal N" unless `missing` has it; updates succeed. */
function portalAnswer(body: WireBatch, missing: ReadonlySet<string> = new Set()) {
  const result: Record<string, unknown> = {};
  const errors: Record<string, unknown> = {};
  for (const [key, command] of Object.entries(body.cmd)) {
    const [method, query = ''] = command.split('?');
    const params = parse(query) as Record<string, string>;
    if (method === 'crm.item.get' && missing.has(params.id!)) errors[key] = { error: 'NOT_FOUND', error_description: 'Not found' };
    else if (method === 'crm.item.get') result[key] = { item: { id: Number(params.id), title: `Deal ${params.id}`, stageId: 'NEW', categoryId: 0 } };
    else if (method === 'crm.item.update' && (params.fields as unknown as { title?: string })?.title === '') errors[key] = { error: 'INVALID_ARG_VALUE', error_description: 'Empty title' };
    else result[key] = { item: { id: Number(params.id) } };
  }
  return { result: { result: Object.keys(result).length ? result : PHP_EMPTY, result_error: Object.keys(errors).length ? errors : PHP_EMPTY, result_total: PHP_EMPTY, result_next: PHP_EMPTY, result_time: PHP_EMPTY }, time };
}

describe('Bitrix24 coalesced batches: concurrent jobs of one portal share batch calls', () => {
  let services: TestServices;
  const wire: WireBatch[] = [];

  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    wire.length = 0;
    services = await createTestServices({ BITRIX24_CLIENT_ID: 'app.1', BITRIX24_CLIENT_SECRET: 's3cret', BITRIX24_COALESCE_BATCHES: 'on' });
    await services.store.save(installation, someTokens());
  });
  afterEach(async () => {
    nock.cleanAll();
    await services.cleanup();
  });

  /** One CrmPort per job, as the worker builds them. */
  const jobs = (n: number): Promise<CrmPort[]> => Promise.all(Array.from({ length: n }, () => services.clients.forInstallation(installation)));

  function answerBatches(times: number, missing?: ReadonlySet<string>) {
    return nock(portal)
      .post((p) => p.includes('/batch'), (body: WireBatch) => {
        wire.push(body);
        return true;
      })
      .query(true)
      .times(times)
      .reply(200, (_uri, body) => portalAnswer(body as WireBatch, missing));
  }

  it('thirty jobs reading thirty deals at once send one batch call, and each job gets its own deal', async () => {
    const scope = answerBatches(1);
    const ports = await jobs(30);
    const deals = await Promise.all(ports.map((crm, i) => crm.getDeal({ entity: 'deal', id: String(100 + i) })));
    expect(scope.isDone()).toBe(true);
    expect(wire).toHaveLength(1);
    expect(Object.keys(wire[0]!.cmd)).toHaveLength(30);
    deals.forEach((deal, i) => expect(deal).toMatchObject({ id: String(100 + i), title: `Deal ${100 + i}` }));
  });

  it('more than fifty commands split into batches of at most fifty', async () => {
    const scope = answerBatches(3);
    const ports = await jobs(120);
    const deals = await Promise.all(ports.map((crm, i) => crm.getDeal({ entity: 'deal', id: String(i + 1) })));
    expect(scope.isDone()).toBe(true);
    expect(wire.map((b) => Object.keys(b.cmd).length)).toEqual([50, 50, 20]);
    deals.forEach((deal, i) => expect(deal?.id).toBe(String(i + 1)));
  });

  it('a failed sub-command fails only its own job: a missing deal reads as null, a refused write throws, the others succeed', async () => {
    answerBatches(1, new Set(['2']));
    const [a, b, c, d] = await jobs(4);
    const outcomes = await Promise.allSettled([
      a!.getDeal({ entity: 'deal', id: '1' }),
      b!.getDeal({ entity: 'deal', id: '2' }),
      c!.renameDeal({ entity: 'deal', id: '3' }, ''),
      d!.renameDeal({ entity: 'deal', id: '4' }, '4 / Иванов'),
    ]);
    expect(wire).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: expect.objectContaining({ id: '1' }) });
    expect(outcomes[1]).toEqual({ status: 'fulfilled', value: null });
    expect(outcomes[2]).toMatchObject({ status: 'rejected', reason: expect.any(PermanentCrmError) });
    expect((outcomes[2] as PromiseRejectedResult).reason.code).toBe('INVALID_ARG_VALUE');
    expect(outcomes[3]).toMatchObject({ status: 'fulfilled' });
  });

  it("a job's own batch stays whole: its keys are prefixed and its $result references point at its own commands", async () => {
    answerBatches(1);
    const [a, b] = await jobs(2);
    await Promise.all([a!.getDealWithContacts({ entity: 'deal', id: '7' }), b!.getDealWithContacts({ entity: 'deal', id: '8' })]);
    const keys = Object.keys(wire[0]!.cmd);
    // Deal and contact of each job (the stage history is read only when the stage changed).
    expect(keys).toHaveLength(4);
    const [first, second] = [keys[0]!.split('_')[0], keys[2]!.split('_')[0]];
    expect(first).not.toBe(second);
    // Each job's contact read takes the contact id of its own deal.
    expect(decodeURIComponent(wire[0]!.cmd[`${first}_contact`]!)).toContain(`$result[${first}_item][item][contactId]`);
    expect(decodeURIComponent(wire[0]!.cmd[`${second}_contact`]!)).toContain(`$result[${second}_item][item][contactId]`);
  });

  it('QUERY_LIMIT_EXCEEDED on a shared batch retries the whole batch once the shared bucket drains; every job gets its answer', async () => {
    const refused = nock(portal)
      .post((p) => p.includes('/batch'))
      .query(true)
      .reply(503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    const scope = answerBatches(1);
    const ports = await jobs(10);
    const deals = await Promise.all(ports.map((crm, i) => crm.getDeal({ entity: 'deal', id: String(i + 1) })));
    expect(refused.isDone()).toBe(true);
    expect(scope.isDone()).toBe(true);
    expect(Object.keys(wire[0]!.cmd)).toHaveLength(10);
    deals.forEach((deal, i) => expect(deal?.id).toBe(String(i + 1)));
  });

  it('writes to one deal keep their order: a later write waits for the batch that carries the earlier one, other deals do not', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sent: string[][] = [];
    const titles = (body: WireBatch) => Object.values(body.cmd).map((c) => (parse(c.split('?')[1] ?? '') as { id: string; fields: { title: string } })).map((p) => `${p.id}:${p.fields.title}`);
    nock(portal)
      .post((p) => p.includes('/batch'))
      .query(true)
      .times(3)
      .reply(200, async (_uri, body) => {
        sent.push(titles(body as WireBatch));
        if (sent.length === 1) await gate;
        return portalAnswer(body as WireBatch);
      });
    const [a, b, c, d, e, f] = await jobs(6);
    const first = Promise.all([a!.renameDeal({ entity: 'deal', id: '5' }, 'A'), e!.renameDeal({ entity: 'deal', id: '9' }, 'E')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setImmediate(resolve));
    const later = Promise.all([b!.renameDeal({ entity: 'deal', id: '5' }, 'B'), c!.renameDeal({ entity: 'deal', id: '6' }, 'C'), f!.renameDeal({ entity: 'deal', id: '7' }, 'F'), d!.renameDeal({ entity: 'deal', id: '5' }, 'D')]);
    // Deals 6 and 7 go while the first batch is still on the wire; deal 5's writes wait for it.
    for (let i = 0; i < 200 && sent.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent).toEqual([['5:A', '9:E'], ['6:C', '7:F']]);
    release();
    await Promise.all([first, later]);
    expect(sent[2]).toEqual(['5:B', '5:D']);
  });
});
