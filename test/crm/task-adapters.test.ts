/** Tasks, to-dos, calls and messages at the HTTP level: the exact documented requests of both adapters. */
import nock from 'nock';
import { documentedAmocrmInstallation, documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { bitrix24Ok, BITRIX24_PORTAL, useNockedServices } from '../helpers/nocked-services';

describe('CRM adapters: tasks and activities', () => {
  const harness = useNockedServices();

  describe('Bitrix24', () => {
    const portal = BITRIX24_PORTAL;
    const installation = documentedBitrix24Installation();
    const ok = bitrix24Ok;
    beforeEach(() => harness.services.store.save(installation, someTokens()));

    it('creates the to-do with crm.activity.todo.add {ownerTypeId, ownerId, deadline, title, description, responsibleId}', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('crm.activity.todo.add'), (body) => {
          expect(body).toEqual({
            ownerTypeId: 1, ownerId: 42, deadline: '2026-12-02T12:00:00.000Z', title: 'Попытка 2 из 14: позвонить в обед 13–15', responsibleId: 2, auth: 'access-1',
          });
          return true;
        })
        .query(true)
        .reply(200, ok({ id: 999 }));
      const crm = await harness.services.clients.forInstallation(installation);
      const id = await crm.createTask({ entity: 'lead', id: '42' }, { kind: 'call', text: 'Попытка 2 из 14: позвонить в обед 13–15', dueAt: new Date('2026-12-02T12:00:00Z'), responsibleId: '2' });
      expect(id).toBe('999');
      expect(scope.isDone()).toBe(true);
    });

    it('lists open activities with crm.activity.list filter {OWNER_TYPE_ID, OWNER_ID, COMPLETED: "N"}', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('crm.activity.list'), (body) => {
          expect(body.filter).toEqual({ OWNER_TYPE_ID: 2, OWNER_ID: 759, COMPLETED: 'N' });
          return true;
        })
        .query(true)
        .reply(200, ok([{ ID: '20', SUBJECT: 'Встреча с клиентом', DEADLINE: '2026-12-03T15:00:00+03:00', RESPONSIBLE_ID: '2', TYPE_ID: '6', PROVIDER_ID: 'CRM_TODO' }]));
      const crm = await harness.services.clients.forInstallation(installation);
      expect(await crm.listOpenTasks({ entity: 'deal', id: '759' })).toEqual([{ id: '20', text: 'Встреча с клиентом', dueAt: '2026-12-03T12:00:00.000Z', responsibleId: '2' }]);
      expect(scope.isDone()).toBe(true);
    });

    it('reads calls (TYPE_ID 2, DIRECTION 1 incoming / 2 outgoing), open-line chats and comments in one batch', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('batch'), (body) => {
          expect(Object.keys(body.cmd)).toEqual(['activities', 'comments']);
          expect(body.cmd.activities).toContain('crm.activity.list?');
          expect(decodeURIComponent(body.cmd.activities)).toContain('filter[!PROVIDER_ID]=CRM_TODO');
          return true;
        })
        .query(true)
        .reply(200, ok({
          result: {
            activities: [
              { ID: '20', TYPE_ID: '2', PROVIDER_ID: 'VOXIMPLANT_CALL', DIRECTION: '2', START_TIME: '2026-12-02T13:10:00+03:00', RESPONSIBLE_ID: '2', SUBJECT: 'Исходящий звонок' },
              { ID: '21', TYPE_ID: '6', PROVIDER_ID: 'IMOPENLINES_SESSION', DIRECTION: '1', START_TIME: '2026-12-02T14:00:00+03:00', RESPONSIBLE_ID: '2' },
            ],
            comments: [{ ID: '5', CREATED: '2026-12-02T12:00:00+03:00', AUTHOR_ID: '2' }],
          },
          result_error: [],
        }));
      const crm = await harness.services.clients.forInstallation(installation);
      const activities = await crm.listActivities({ entity: 'deal', id: '759' }, new Date('2026-12-01T00:00:00Z'));
      expect(activities.map((a) => [a.kind, a.direction, a.at])).toEqual([
        ['note', null, '2026-12-02T09:00:00.000Z'],
        ['call', 'outgoing', '2026-12-02T10:10:00.000Z'],
        ['message', 'incoming', '2026-12-02T11:00:00.000Z'],
      ]);
      expect(scope.isDone()).toBe(true);
    });
  });

  describe('amoCRM', () => {
    const installation = documentedAmocrmInstallation();
    beforeEach(() => harness.services.store.save(installation, someTokens()));

    it('creates the task with POST /api/v4/tasks [{text, complete_till, task_type_id, responsible_user_id, entity_id, entity_type}]', async () => {
      const scope = nock(installation.baseUrl)
        .post('/api/v4/tasks', [{ text: 'Встреча с клиентом', complete_till: 1795600000, task_type_id: 2, responsible_user_id: 2, entity_id: 10701093, entity_type: 'leads' }])
        .reply(200, { _links: {}, _embedded: { tasks: [{ id: 4745251, request_id: '0' }] } });
      const crm = await harness.services.clients.forInstallation(installation);
      expect(await crm.createTask({ entity: 'deal', id: '10701093' }, { kind: 'meeting', text: 'Встреча с клиентом', dueAt: new Date(1795600000 * 1000), responsibleId: '2' })).toBe('4745251');
      expect(scope.isDone()).toBe(true);
    });

    it('lists open tasks with filter[entity_type]=leads, filter[entity_id][], filter[is_completed]=0; 204 is none', async () => {
      const scope = nock(installation.baseUrl)
        .get('/api/v4/tasks')
        .query({ 'filter[entity_type]': 'leads', 'filter[entity_id][]': '10701093', 'filter[is_completed]': '0', limit: '250' })
        .reply(204);
      const crm = await harness.services.clients.forInstallation(installation);
      expect(await crm.listOpenTasks({ entity: 'deal', id: '10701093' })).toEqual([]);
      expect(scope.isDone()).toBe(true);
    });

    it('reads call notes (call_status 4 = a conversation) and chat events', async () => {
      const since = 1795500000;
      const scope = nock(installation.baseUrl)
        .get('/api/v4/leads/10701093')
        .query(true)
        .reply(200, { id: 10701093, name: 'x', status_id: 1, pipeline_id: 1, responsible_user_id: 2, custom_fields_values: null, _embedded: { contacts: [] } })
        .get('/api/v4/leads/10701093/notes')
        .query({ 'filter[note_type]': 'call_in,call_out,common,sms_in,sms_out', 'filter[updated_at][from]': String(since), limit: '250' })
        .reply(200, { _embedded: { notes: [
          { id: 1, note_type: 'call_out', created_at: since + 10, created_by: 2, params: { duration: 0, call_status: 6 } },
          { id: 2, note_type: 'call_out', created_at: since + 20, created_by: 2, params: { duration: 61, call_status: 4 } },
        ] } })
        .get('/api/v4/events')
        .query({ 'filter[entity]': 'lead', 'filter[entity_id][]': '10701093', 'filter[type]': 'incoming_chat_message,outgoing_chat_message', 'filter[created_at][from]': String(since), limit: '100' })
        .reply(200, { _embedded: { events: [{ id: '01ab', type: 'incoming_chat_message', created_at: since + 30, created_by: 0 }] } });
      const crm = await harness.services.clients.forInstallation(installation);
      const activities = await crm.listActivities({ entity: 'deal', id: '10701093' }, new Date(since * 1000));
      expect(activities.map((a) => [a.kind, a.direction, a.answered, a.summary])).toEqual([
        ['call', 'outgoing', false, 'исходящий звонок, без ответа'],
        ['call', 'outgoing', true, 'исходящий звонок, 1:01'],
        ['message', 'incoming', null, 'входящее сообщение'],
      ]);
      expect(scope.isDone()).toBe(true);
    });
  });
});
