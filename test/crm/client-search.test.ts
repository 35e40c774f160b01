import nock from 'nock';
import { parse } from 'qs';
import { documentedAmocrmInstallation, documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { BITRIX24_PORTAL, useNockedServices } from '../helpers/nocked-services';

describe('finding a client at the HTTP level', () => {
  const harness = useNockedServices();

  it('Bitrix24: one batch — findbycomm (≤ 20 values, every stored form of the phone) and the reads that take its ids by reference', async () => {
    const installation = documentedBitrix24Installation();
    await harness.services.store.save(installation, someTokens());
    let cmd: Record<string, string> = {};
    const scope = nock(BITRIX24_PORTAL)
      .post((p) => p.includes('/batch'), (body) => {
        cmd = body.cmd;
        return true;
      })
      .query(true)
      .reply(200, {
        result: {
          result: {
            types: [{ STATUS_ID: 'UC_AGENT', NAME: 'Агент' }],
            p0: { CONTACT: [15], LEAD: [40] },
            p0c: [{ ID: '15', NAME: 'Иван', LAST_NAME: 'Иванов', TYPE_ID: 'UC_AGENT', ASSIGNED_BY_ID: '3', PHONE: [{ ID: '1', VALUE: '8 999 123-45-67', VALUE_TYPE: 'WORK', TYPE_ID: 'PHONE' }] }],
            p0d: { items: [{ id: 7, title: 'Квартира', stageId: 'PREPARATION', categoryId: 0, assignedById: 3, stageSemanticId: 'P', createdTime: '2026-11-01T10:00:00+03:00', contactId: 15, contactIds: [15] }] },
            p0k: [],
            p0l: { items: [{ id: 40, title: 'Заявка', stageId: 'NEW', assignedById: 2, stageSemanticId: 'P', createdTime: '2026-11-20T10:00:00+03:00', contactId: 0 }] },
            e0: [],
          },
          result_error: { p0k: { error: 'INVALID_ARG_VALUE' }, e0c: { error: 'INVALID_ARG_VALUE' } },
          result_total: [], result_next: [], result_time: [],
        },
        time: { start: 0, finish: 0, duration: 0, processing: 0, date_start: '', date_finish: '', operating: 0 },
      });
    const crm = await harness.services.clients.forInstallation(installation);
    const found = await crm.findClientsByCommunications({ phones: ['+79991234567'], emails: ['ivan@mail.ru'], messengers: [] });
    expect(scope.isDone()).toBe(true);
    expect(parse(cmd.p0!.split('?')[1]!)).toEqual({ type: 'PHONE', values: ['+79991234567', '89991234567', '79991234567', '9991234567'] });
    expect(parse(cmd.e0!.split('?')[1]!)).toEqual({ type: 'EMAIL', values: ['ivan@mail.ru'] });
    expect(parse(cmd.p0c!.split('?')[1]!)).toMatchObject({ filter: { '@ID': '$result[p0][CONTACT]' }, select: expect.arrayContaining(['PHONE', 'EMAIL', 'IM', 'TYPE_ID']) });
    expect(parse(cmd.p0d!.split('?')[1]!)).toMatchObject({ entityTypeId: '2', filter: { '@contactId': '$result[p0][CONTACT]' } });
    expect(parse(cmd.p0l!.split('?')[1]!)).toMatchObject({ entityTypeId: '1', filter: { '@id': '$result[p0][LEAD]' } });
    expect(found.contacts).toEqual([expect.objectContaining({ id: '15', phones: ['8 999 123-45-67'], labels: ['UC_AGENT', 'Агент'], responsibleId: '3' })]);
    expect(found.deals).toEqual([
      expect.objectContaining({ entity: 'deal', id: '7', semantics: 'process', isRequest: false, contactIds: ['15'] }),
      expect.objectContaining({ entity: 'lead', id: '40', isRequest: true, funnelId: 'lead' }),
    ]);
  });

  it('amoCRM: query by the last ten digits, exact comparison after it, then one read of the leads', async () => {
    const installation = documentedAmocrmInstallation();
    await harness.services.store.save(installation, someTokens());
    const host = installation.baseUrl;
    let leadsUri = '';
    const phoneField = (value: string) => ({ field_id: 1, field_code: 'PHONE', values: [{ value, enum_code: 'WORK' }] });
    const scope = nock(host)
      .get('/api/v4/contacts')
      .query({ query: '9991234567', with: 'leads', limit: '50' })
      .reply(200, {
        _embedded: {
          contacts: [
            { id: 1, name: 'Иванов', custom_fields_values: [phoneField('8 (999) 123-45-67')], _embedded: { tags: [{ id: 1, name: 'Агент' }], leads: [{ id: 100 }] } },
            { id: 2, name: 'Другой', custom_fields_values: [phoneField('+7 999 123-45-678')], _embedded: { tags: [], leads: [{ id: 200 }] } },
          ],
        },
      })
      .get((uri) => uri.startsWith('/api/v4/leads'))
      .query(true)
      .reply(200, (uri) => {
        leadsUri = decodeURIComponent(uri);
        return { _embedded: { leads: [{ id: 100, name: 'Квартира', status_id: 142, pipeline_id: 5, responsible_user_id: 3, created_at: 1790000000, _embedded: { contacts: [{ id: 1, is_main: true }] } }] } };
      });
    const crm = await harness.services.clients.forInstallation(installation);
    const found = await crm.findClientsByCommunications({ phones: ['+79991234567'], emails: [], messengers: [] });
    expect(scope.isDone()).toBe(true);
    // Only the contact whose phone is equal: "+7 999 123-45-678" matched the fuzzy query, not the number.
    expect(leadsUri).toContain('filter[id][0]=100');
    expect(leadsUri).not.toContain('200');
    expect(found.contacts.map((c) => [c.id, c.labels])).toEqual([['1', ['Агент']]]);
    expect(found.deals).toEqual([expect.objectContaining({ entity: 'deal', id: '100', semantics: 'success', isRequest: true, contactIds: ['1'] })]);
  });
});
