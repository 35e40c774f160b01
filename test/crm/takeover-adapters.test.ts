import nock from 'nock';
import { documentedAmocrmInstallation, documentedBitrix24Installation, someTokens } from '../helpers/fixtures';
import { bitrix24Ok, BITRIX24_PORTAL, useNockedServices } from '../helpers/nocked-services';

/** The takeover timer's CRM calls, request by request, in the documented wire formats. */
describe('CRM adapters for the takeover timer (HTTP level)', () => {
  const harness = useNockedServices();

  describe('Bitrix24', () => {
    const portal = BITRIX24_PORTAL;
    const installation = documentedBitrix24Installation();
    const ok = bitrix24Ok;
    beforeEach(() => harness.services.store.save(installation, someTokens()));

    it('assigns with crm.item.update {fields: {assignedById}}', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('crm.item.update'), (body) => {
          expect(body).toEqual({ entityTypeId: 1, id: 42, fields: { assignedById: 7 }, auth: 'access-1' });
          return true;
        })
        .query(true)
        .reply(200, ok({ item: { id: 42 } }));
      await (await harness.services.clients.forInstallation(installation)).assignResponsible({ entity: 'lead', id: '42' }, '7');
      expect(scope.isDone()).toBe(true);
    });

    it('reads activities and timeline comments since the assignment in one batch; outgoing calls, e-mails, SMS and comments count', async () => {
      const scope = nock(portal)
        .post((p) => p.includes('batch'), (body) => {
          const activities = decodeURIComponent(body.cmd.activities);
          expect(activities).toContain('crm.activity.list?');
          expect(activities).toContain('filter[OWNER_TYPE_ID]=1');
          expect(activities).toContain('filter[OWNER_ID]=42');
          expect(activities).toContain('filter[>=CREATED]=2026-11-30T08:00:00.000Z');
          expect(decodeURIComponent(body.cmd.comments)).toContain('crm.timeline.comment.list?filter[ENTITY_ID]=42&filter[ENTITY_TYPE]=lead');
          return true;
        })
        .query(true)
        .reply(200, ok({
          result: {
            activities: [
              { ID: '1', TYPE_ID: '2', PROVIDER_ID: 'VOXIMPLANT_CALL', DIRECTION: '1', RESPONSIBLE_ID: '7', AUTHOR_ID: '7', CREATED: '2026-11-30T11:01:00+03:00' },
              { ID: '2', TYPE_ID: '2', PROVIDER_ID: 'VOXIMPLANT_CALL', DIRECTION: '2', RESPONSIBLE_ID: '7', AUTHOR_ID: '7', CREATED: '2026-11-30T11:02:00+03:00' },
              { ID: '3', TYPE_ID: '4', PROVIDER_ID: 'CRM_EMAIL', DIRECTION: '2', RESPONSIBLE_ID: '8', AUTHOR_ID: '8', CREATED: '2026-11-30T11:03:00+03:00' },
              { ID: '4', TYPE_ID: '6', PROVIDER_ID: 'CRM_SMS', DIRECTION: '2', RESPONSIBLE_ID: '7', AUTHOR_ID: '7', CREATED: '2026-11-30T11:04:00+03:00' },
              { ID: '5', TYPE_ID: '6', PROVIDER_ID: 'CRM_TODO', DIRECTION: '0', RESPONSIBLE_ID: '7', AUTHOR_ID: '7', CREATED: '2026-11-30T11:05:00+03:00' },
            ],
            comments: [{ ID: '9', AUTHOR_ID: '7', CREATED: '2026-11-30T11:00:30+03:00' }],
          },
          result_error: [],
        }));
      const touches = await (await harness.services.clients.forInstallation(installation)).listTouches({ entity: 'lead', id: '42' }, new Date('2026-11-30T08:00:00Z'));
      expect(touches).toEqual([
        { kind: 'note', userId: '7', at: '2026-11-30T11:00:30+03:00' },
        { kind: 'call', userId: '7', at: '2026-11-30T11:02:00+03:00' },
        { kind: 'email', userId: '8', at: '2026-11-30T11:03:00+03:00' },
        { kind: 'message', userId: '7', at: '2026-11-30T11:04:00+03:00' },
      ]);
      expect(scope.isDone()).toBe(true);
    });

    it('absences: calendar entries marked «absent»; without the calendar scope, null (app-level vacations)', async () => {
      nock(portal)
        .post((p) => p.includes('calendar.accessibility.get'), (body) => {
          expect(body).toMatchObject({ users: [2, 3], from: '2026-11-30', to: '2026-12-01' });
          return true;
        })
        .query(true)
        .reply(200, ok({
          2: [{ ID: '1', NAME: 'Отпуск', ACCESSIBILITY: 'absent', DATE_FROM_TS_UTC: '1796025600', DATE_TO_TS_UTC: '1796630400' }],
          3: [{ ID: '2', NAME: 'Встреча', ACCESSIBILITY: 'busy', DATE_FROM_TS_UTC: '1796032800', DATE_TO_TS_UTC: '1796036400' }],
        }))
        .post((p) => p.includes('calendar.accessibility.get'))
        .query(true)
        .reply(401, { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token' });
      const crm = await harness.services.clients.forInstallation(installation);
      const from = new Date('2026-11-30T08:00:00Z');
      const to = new Date('2026-12-01T08:00:00Z');
      expect(await crm.listAbsences(['2', '3'], from, to)).toEqual([{ userId: '2', from: '2026-11-30T08:00:00.000Z', to: '2026-12-07T08:00:00.000Z' }]);
      expect(await crm.listAbsences(['2', '3'], from, to)).toBeNull();
    });
  });

  describe('amoCRM', () => {
    const installation = documentedAmocrmInstallation();
    beforeEach(() => harness.services.store.save(installation, someTokens()));

    it('assigns with PATCH /api/v4/leads/{id} {responsible_user_id}', async () => {
      const scope = nock(installation.baseUrl).patch('/api/v4/leads/10701093', { responsible_user_id: 7 }).reply(200, { id: 10701093, updated_at: 1 });
      await (await harness.services.clients.forInstallation(installation)).assignResponsible({ entity: 'deal', id: '10701093' }, '7');
      expect(scope.isDone()).toBe(true);
    });

    it('reads the lead\'s outgoing calls, notes, e-mails and messages from /api/v4/events', async () => {
      const scope = nock(installation.baseUrl)
        .get('/api/v4/events')
        .query((q) => {
          expect(q).toEqual({
            'filter[entity]': 'lead',
            'filter[entity_id][]': '10701093',
            'filter[type]': 'outgoing_call,common_note_added,outgoing_mail,outgoing_chat_message,outgoing_sms',
            'filter[created_at][from]': '1764489600',
            limit: '100',
          });
          return true;
        })
        .reply(200, {
          _embedded: {
            events: [
              { id: 'b', type: 'outgoing_chat_message', entity_id: 10701093, entity_type: 'lead', created_by: 7, created_at: 1764489700, value_after: [], value_before: [] },
              { id: 'a', type: 'outgoing_call', entity_id: 10701093, entity_type: 'lead', created_by: 8, created_at: 1764489650, value_after: [], value_before: [] },
            ],
          },
        });
      const touches = await (await harness.services.clients.forInstallation(installation)).listTouches({ entity: 'deal', id: '10701093' }, new Date(1764489600_000));
      expect(touches).toEqual([
        { kind: 'call', userId: '8', at: new Date(1764489650_000).toISOString() },
        { kind: 'message', userId: '7', at: new Date(1764489700_000).toISOString() },
      ]);
      expect(scope.isDone()).toBe(true);
    });

    it('lists users across pages with activity and group', async () => {
      nock(installation.baseUrl)
        .get('/api/v4/users')
        .query({ limit: '250', page: '1' })
        .reply(200, {
          _page_count: 1,
          _embedded: {
            users: [
              { id: 1, name: 'Админ', rights: { is_admin: true, is_active: true, group_id: null } },
              { id: 7, name: 'Анна', rights: { is_admin: false, is_active: true, group_id: 12 } },
              { id: 8, name: 'Ушёл', rights: { is_admin: false, is_active: false, group_id: 12 } },
            ],
          },
        });
      expect(await (await harness.services.clients.forInstallation(installation)).listUsers()).toEqual([
        { id: '1', name: 'Админ', isAdmin: true, isActive: true, teamIds: ['0'] },
        { id: '7', name: 'Анна', isAdmin: false, isActive: true, teamIds: ['12'] },
        { id: '8', name: 'Ушёл', isAdmin: false, isActive: false, teamIds: ['12'] },
      ]);
    });
  });
});
