import nock from 'nock';
import { processInboundEvent } from '../../src/pipeline/process-event';
import { robots } from '../../src/robots';
import { renderTitle } from '../../src/robots/deal-renamer';
import { changeSetting } from '../../src/settings/installation-settings';
import { documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

describe('deal renamer: the title is "ID / client / unit"', () => {
  it.each([
    [{ id: '759', contact: 'Иванов Иван', unit: 'кв. 5-101' }, '759 / Иванов Иван / кв. 5-101'],
    [{ id: '759', contact: '', unit: 'кв. 5-101' }, '759 / кв. 5-101'],
    [{ id: '759', contact: 'Иванов Иван', unit: '' }, '759 / Иванов Иван'],
    [{ id: '759', contact: '', unit: '' }, '759'],
    [{ id: '', contact: 'Иванов Иван', unit: 'кв. 5-101' }, 'Иванов Иван / кв. 5-101'],
  ])('drops a missing part together with its separator: %j → %s', (values, title) => {
    expect(renderTitle('{id} / {contact} / {unit}', values)).toBe(title);
  });

  it('follows a template from config', () => {
    expect(renderTitle('Сделка №{id} — {unit}', { id: '15', unit: 'м/м 12' })).toBe('Сделка №15 — м/м 12');
    expect(renderTitle('Сделка №{id} — {unit}', { id: '15', unit: '' })).toBe('Сделка №15');
  });
});

describe('deal renamer on Bitrix24 (exact REST calls)', () => {
  let services: TestServices;
  const portal = 'https://some-domain.bitrix24.com';
  const installation = documentedBitrix24Installation();

  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    services = await createTestServices();
    await services.store.save(installation, someTokens());
  });
  afterEach(async () => {
    nock.cleanAll();
    await services.cleanup();
  });

  /** One `batch` brings the deal, its contact and its stage history (the SDK posts JSON to /rest/<method>). */
  function portalWithDeal(title: string) {
    return nock(portal)
      .post((path) => path.startsWith('/rest//batch') || path.startsWith('/rest/batch'), (body) => {
        expect(body.auth).toBe('access-1');
        expect(body.cmd.item).toBe('crm.item.get?entityTypeId=2&id=759');
        expect(decodeURIComponent(body.cmd.contact)).toBe('crm.item.get?entityTypeId=3&id=$result[item][item][contactId]');
        return true;
      })
      .query(true)
      .reply(200, {
        result: {
          result: {
            item: { item: { id: 759, title, stageId: 'NEW', categoryId: 0, contactId: 12, assignedById: 2, ufCrmUnit: 'кв. 5-101' } },
            contact: { item: { id: 12, name: 'Иван', lastName: 'Иванов', fm: [] } },
            history: { items: [{ ID: 1, OWNER_ID: 759, STAGE_ID: 'NEW', CREATED_TIME: '2026-11-20T10:00:00+03:00', TYPE_ID: 1 }] },
          },
          result_error: [],
          result_total: [],
          result_next: [],
          result_time: [],
        },
        time: { start: 0, finish: 0, duration: 0, processing: 0, date_start: '', date_finish: '', operating: 0 },
      })
      .post((path) => path.includes('crm.item.fields'))
      .query(true)
      .reply(200, { result: { fields: { title: { title: 'Название', type: 'string' }, ufCrmUnit: { title: 'Объект', type: 'string' } } }, time: {} });
  }

  const event = { installationId: installation.id, crm: 'bitrix24' as const, kind: 'updated' as const, entity: 'deal' as const, entityId: '759', receivedAt: Date.now() };

  it('renames "Сделка #759" to "759 / Иванов Иван / кв. 5-101" with one crm.item.update', async () => {
    await services.tracker.set(installation.id, { entity: 'deal', id: '759' }, 'NEW');
    const scope = portalWithDeal('Сделка #759')
      .post((path) => path.includes('crm.item.update'), (body) => {
        expect(body).toMatchObject({ entityTypeId: 2, id: 759, fields: { title: '759 / Иванов Иван / кв. 5-101' } });
        return true;
      })
      .query(true)
      .reply(200, { result: { item: { id: 759 } }, time: {} });
    await processInboundEvent(event, services);
    expect(scope.isDone()).toBe(true);
    expect(await services.actions.latest(installation.id, 1)).toEqual([expect.objectContaining({ robot: 'dealRenamer', before: 'Сделка #759', after: '759 / Иванов Иван / кв. 5-101' })]);
  });

  it('writes nothing when the title is already right (the echo of its own update)', async () => {
    await services.tracker.set(installation.id, { entity: 'deal', id: '759' }, 'NEW');
    const scope = portalWithDeal('759 / Иванов Иван / кв. 5-101');
    await processInboundEvent(event, services);
    expect(scope.isDone()).toBe(true);
    expect(await services.actions.latest(installation.id, 1)).toEqual([]);
  });

  it('a template changed with the settings command applies to the very next event, without a restart', async () => {
    await services.tracker.set(installation.id, { entity: 'deal', id: '759' }, 'NEW');
    await services.store.modify(installation.id, (current) => {
      const change = changeSetting(current.settings, 'dealRenamer.template', '{id} / {contact}', robots);
      return change.ok ? { ...current, settings: change.settings } : null;
    });
    const scope = portalWithDeal('Сделка #759')
      .post((path) => path.includes('crm.item.update'), (body) => {
        expect(body.fields).toEqual({ title: '759 / Иванов Иван' });
        return true;
      })
      .query(true)
      .reply(200, { result: { item: { id: 759 } }, time: {} });
    await processInboundEvent(event, services);
    expect(scope.isDone()).toBe(true);
  });
});
