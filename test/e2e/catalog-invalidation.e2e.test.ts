import { BITRIX24_EVENTS } from '../../src/installations/bitrix24-installer';
import { createLogger } from '../../src/log';
import { createServices, type Services } from '../../src/services';
import type { Installation } from '../../src/installations/installation';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { eventually, redisUrl } from '../helpers/test-services';

/**
 * Users, fields and funnels are cached per installation in every process. A change in the CRM
 * must reach every process's cache: Bitrix24 announces field changes and new users (bound at
 * install); amoCRM announces neither, so what its answers reveal makes the cache stale.
 */
describe('cached CRM catalogs (users, fields, funnels) are forgotten when the CRM changes them', () => {
  let stack: LocalStack;
  /** A second worker process's services on the same Redis (its own in-process caches). */
  let other: Services;

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    other = createServices(stack.services.config, redisUrl(), createLogger('silent'));
  });
  afterEach(async () => {
    await other.close();
    await stack.stop();
  });

  async function installed(which: 'bitrix24' | 'amocrm'): Promise<Installation> {
    if (which === 'bitrix24') expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    else expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    const installation = (await stack.services.store.list()).find((i) => i.crm === which);
    if (!installation) throw new Error('not installed');
    return installation;
  }

  describe('Bitrix24', () => {
    const fieldReads = () => stack.portal.calls.filter((c) => /userfield|fields/i.test(c.method)).length;
    const userReads = () => stack.portal.calls.filter((c) => c.method === 'user.get').length;

    it('binds the user field events of deals and leads and ONUSERADD at install', async () => {
      await installed('bitrix24');
      const bound = new Set(stack.portal.bindings().map((b) => b.event));
      for (const event of ['ONCRMDEALUSERFIELDADD', 'ONCRMDEALUSERFIELDUPDATE', 'ONCRMDEALUSERFIELDDELETE', 'ONCRMLEADUSERFIELDADD', 'ONCRMLEADUSERFIELDDELETE', 'ONUSERADD']) {
        expect(bound.has(event)).toBe(true);
      }
      expect(bound.size).toBe(BITRIX24_EVENTS.length);
    });

    it('a renamed deal field is read again by every worker process after ONCRMDEALUSERFIELDUPDATE', async () => {
      const installation = await installed('bitrix24');
      const here = await stack.services.clients.forInstallation(installation);
      const there = await other.clients.forInstallation(installation);
      await other.invalidations.ready();
      const titles = async (port: typeof here) => (await port.listFields('deal')).map((f) => f.title);
      expect(await titles(there)).toContain('Объект');
      expect(await titles(here)).toContain('Объект');
      const readsBefore = fieldReads();
      await there.listFields('deal');
      expect(fieldReads()).toBe(readsBefore); // cached: no call

      stack.portal.adminRenamesUserField(2, 'UF_CRM_UNIT', 'Квартира');
      await stack.idle();
      expect(stack.portal.deliveries.some((d) => d.event === 'ONCRMDEALUSERFIELDUPDATE' && d.status === 200)).toBe(true);
      await eventually(async () => expect(await titles(there)).toContain('Квартира'));
      expect(await titles(here)).toContain('Квартира');
    });

    it('a new lead field and a deleted one are seen after the add/delete events', async () => {
      const installation = await installed('bitrix24');
      const there = await other.clients.forInstallation(installation);
      await other.invalidations.ready();
      expect((await there.listFields('lead')).map((f) => f.title)).not.toContain('Бюджет');
      stack.portal.adminAddsUserField(1, { fieldName: 'UF_CRM_BUDGET', title: 'Бюджет', type: 'double' });
      await stack.idle();
      await eventually(async () => expect((await there.listFields('lead')).map((f) => f.title)).toContain('Бюджет'));
      stack.portal.adminDeletesUserField(1, 'UF_CRM_BUDGET');
      await stack.idle();
      await eventually(async () => expect((await there.listFields('lead')).map((f) => f.title)).not.toContain('Бюджет'));
    });

    it('a new employee is known to every process after ONUSERADD', async () => {
      const installation = await installed('bitrix24');
      const there = await other.clients.forInstallation(installation);
      await other.invalidations.ready();
      expect((await there.listUsers()).map((u) => u.id)).not.toContain('7');
      const readsBefore = userReads();
      await there.listUsers();
      expect(userReads()).toBe(readsBefore);
      stack.portal.userJoins({ id: 7, name: 'Пётр', lastName: 'Новиков' });
      await stack.idle();
      expect(stack.portal.deliveries.some((d) => d.event === 'ONUSERADD' && d.status === 200)).toBe(true);
      await eventually(async () => expect((await there.listUsers()).map((u) => u.id)).toContain('7'));
    });

    it('a forged user field event is refused and forgets nothing', async () => {
      const installation = await installed('bitrix24');
      const there = await other.clients.forInstallation(installation);
      await other.invalidations.ready();
      await there.listFields('deal');
      const readsBefore = fieldReads();
      const forged = new URLSearchParams({
        event: 'ONCRMDEALUSERFIELDUPDATE',
        'data[id]': '400',
        'data[entityId]': 'CRM_DEAL',
        'data[fieldName]': 'UF_CRM_UNIT',
        ts: String(Math.floor(Date.now() / 1000)),
        'auth[domain]': 'attacker.example',
        'auth[member_id]': stack.portal.memberId,
        'auth[application_token]': '0'.repeat(32),
      });
      const res = await fetch(`${stack.appUrl}/bitrix24/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: forged });
      expect(res.status).toBe(401);
      await stack.idle();
      await there.listFields('deal');
      expect(fieldReads()).toBe(readsBefore);
    });
  });

  describe('amoCRM (no webhooks for fields or pipelines)', () => {
    const pipelineReads = () => stack.amo.calls.filter((c) => c.method === 'GET' && c.path === '/api/v4/leads/pipelines').length;
    const fieldReads = () => stack.amo.calls.filter((c) => c.method === 'GET' && c.path === '/api/v4/leads/custom_fields').length;

    it('a lead in a stage the cached funnels lack makes every process read the funnels again', async () => {
      const installation = await installed('amocrm');
      const here = await stack.services.clients.forInstallation(installation);
      const there = await other.clients.forInstallation(installation);
      await other.invalidations.ready();
      await Promise.all([here.listFunnels(), there.listFunnels()]);
      const added = stack.amo.addPipeline('Вторичный рынок', [{ name: 'Показ', sort: 10 }]);
      const leadId = stack.amo.userAddLead({ name: 'Заявка' });
      stack.amo.userMoveLead(leadId, added.statuses.find((s) => s.name === 'Показ')!.id, 2, added.id);
      await here.getDeal({ entity: 'deal', id: String(leadId) });
      // `there` never read the lead: it hears of the change from the process that did.
      await eventually(async () => expect((await there.listFunnels()).map((f) => f.name)).toContain('Вторичный рынок'));
    });

    it('a lead carrying a field the cached list lacks makes the fields be read again', async () => {
      const installation = await installed('amocrm');
      const there = await other.clients.forInstallation(installation);
      await there.listFields('deal');
      const field = stack.amo.addLeadCustomField({ name: 'Бюджет', type: 'numeric' });
      const leadId = stack.amo.userAddLead({ name: 'Заявка', custom_fields_values: [{ field_id: field.id, values: [{ value: '100' }] }] });
      await there.getDeal({ entity: 'deal', id: String(leadId) });
      expect((await there.listFields('deal')).map((f) => f.title)).toContain('Бюджет');
    });

    it('a move refused because the stage was deleted makes the funnels be read again', async () => {
      const installation = await installed('amocrm');
      const here = await other.clients.forInstallation(installation);
      const doomed = stack.amo.statusId('Переговоры');
      expect((await here.listFunnels()).flatMap((f) => f.stages.map((s) => s.id))).toContain(String(doomed));
      stack.amo.adminDeletesStatus(doomed);
      const leadId = stack.amo.userAddLead({ name: 'Заявка' });
      await expect(here.moveDeal({ entity: 'deal', id: String(leadId) }, String(doomed))).rejects.toThrow(/NotSupportedChoice/);
      expect((await here.listFunnels()).flatMap((f) => f.stages.map((s) => s.id))).not.toContain(String(doomed));
    });

    it('a lead in a known stage with known fields reads nothing again', async () => {
      const installation = await installed('amocrm');
      const here = await other.clients.forInstallation(installation);
      await Promise.all([here.listFunnels(), here.listFields('deal'), here.listUsers()]);
      const leadId = stack.amo.userAddLead({ name: 'Заявка', custom_fields_values: [{ field_id: stack.amo.leadFieldId('Объект'), values: [{ value: 'кв. 1' }] }] });
      // The app's own worker handles the lead's webhook with its own caches: counted before, not against `here`.
      await stack.idle();
      const before = pipelineReads() + fieldReads();
      await here.getDeal({ entity: 'deal', id: String(leadId) });
      await Promise.all([here.listFunnels(), here.listFields('deal')]);
      expect(pipelineReads() + fieldReads()).toBe(before);
    });
  });
});
