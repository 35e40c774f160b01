import { BITRIX24_EVENTS } from '../../src/installations/bitrix24-installer';
import { CrmClients } from '../../src/crm/crm-clients';
import { createLogger } from '../../src/log';
import { redisUrl } from '../helpers/test-services';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';

describe('Bitrix24 end to end: install → verified event → queue → deal renamer → crm.item.update', () => {
  let stack: LocalStack;

  beforeEach(async () => {
    // The token test sends 100 requests at once (50 rejected, 50 retried): a portal on a big plan.
    const bigPlan = expect.getState().currentTestName?.includes('50 concurrent');
    stack = await startLocalStack({ redisUrl: redisUrl(), portalRateLimit: bigPlan ? { burst: 500, drainPerSecond: 100 } : undefined });
  });
  afterEach(() => stack.stop());

  const updates = (id: number) => stack.portal.calls.filter((c) => c.method === 'crm.item.update' && Number(c.params.id) === id);

  async function install() {
    const answer = await stack.portal.install(`${stack.appUrl}/bitrix24/install`);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('BX24.installFinish()');
    expect(stack.portal.isInstalled).toBe(true);
  }

  it('installs through the install page and binds every event the app listens to, to POST /bitrix24/events', async () => {
    await install();
    const bound = stack.portal.bindings().map((b) => `${b.event}→${b.handler}`).sort();
    expect(bound).toEqual(BITRIX24_EVENTS.map((e) => `${e}→${stack.appUrl}/bitrix24/events`).sort());
    const [installation] = await stack.services.store.list();
    expect(installation).toMatchObject({ crm: 'bitrix24', memberId: stack.portal.memberId, status: 'active', clientEndpoint: `${stack.portal.url}/rest/` });
  });

  it('installs an app without UI from the ONAPPINSTALL event form as well', async () => {
    const answer = await stack.portal.install(`${stack.appUrl}/bitrix24/install`, { ui: false });
    expect(answer.status).toBe(200);
    expect(stack.portal.bindings()).toHaveLength(BITRIX24_EVENTS.length);
    const [installation] = await stack.services.store.list();
    expect(installation).toMatchObject({ crm: 'bitrix24', memberId: stack.portal.memberId, status: 'active' });
  });

  it('running the install twice is harmless: same installation, no duplicate bindings', async () => {
    await install();
    await install();
    expect(stack.portal.bindings()).toHaveLength(BITRIX24_EVENTS.length);
    expect(await stack.services.store.list()).toHaveLength(1);
  });

  it('a reinstall whose uninstall event was lost takes the new application token: the portal is not locked out', async () => {
    await install();
    const oldToken = stack.portal.applicationToken;
    // The app was down when Bitrix24 sent ONAPPUNINSTALL; Bitrix24 never resends it.
    await stack.portal.uninstall(undefined, { lost: true });
    await install();
    expect(stack.portal.applicationToken).not.toBe(oldToken);
    const contactId = stack.portal.userAddContact({ name: 'Анна', lastName: 'Новикова' });
    const dealId = stack.portal.userAddDeal({ title: 'После переустановки', contactId } as never);
    await stack.idle();
    expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / Новикова Анна`);
    // An event signed with the old token is refused now.
    const forged = await fetch(`${stack.appUrl}/bitrix24/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ event: 'ONCRMDEALUPDATE', 'data[FIELDS][ID]': String(dealId), ts: '1', 'auth[member_id]': stack.portal.memberId, 'auth[application_token]': oldToken, 'auth[domain]': stack.portal.domain }),
    });
    expect(forged.status).toBe(401);
  });

  it('renames a new deal "ID / client / unit" once, and its own echo causes no second write', async () => {
    await install();
    const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов', phones: ['+79991234567'] });
    const dealId = stack.portal.userAddDeal({ title: 'Сделка #1', contactId, ufCrmUnit: 'кв. 5-101' } as never);
    await stack.idle();
    expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / Иванов Иван / кв. 5-101`);
    expect(updates(dealId)).toHaveLength(1);
    // The echo of our update was delivered and processed, and wrote nothing.
    expect(stack.portal.deliveries.filter((d) => d.event === 'ONCRMDEALUPDATE').length).toBeGreaterThanOrEqual(1);
    const actions = await stack.services.actions.latest(`b24:${stack.portal.memberId}`, 10);
    expect(actions).toEqual([expect.objectContaining({ robot: 'dealRenamer', before: 'Сделка #1', after: `${dealId} / Иванов Иван / кв. 5-101` })]);
  });

  it('follows an edit of the unit, and drops a missing part with its separator', async () => {
    await install();
    const dealId = stack.portal.userAddDeal({ title: 'Без контакта', ufCrmUnit: 'кв. 7-12' } as never);
    await stack.idle();
    expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / кв. 7-12`);
    stack.portal.userUpdateDeal(dealId, { ufCrmUnit: 'м/м 40' } as never);
    await stack.idle();
    expect(stack.portal.getDeal(dealId)?.title).toBe(`${dealId} / м/м 40`);
    expect(updates(dealId)).toHaveLength(2);
  });

  it('refreshes an expired token once for 50 concurrent calls from separate processes', async () => {
    await install();
    const dealId = stack.portal.userAddDeal({ title: 'x' } as never);
    await stack.idle();
    stack.portal.expireAccessTokens();
    stack.portal.resetRateLimit();
    const [installation] = await stack.services.store.list();
    const before = stack.portal.stats.refreshCalls;
    // 50 independent client factories: as many SDK instances as 50 worker processes would hold.
    const reads = Array.from({ length: 50 }, async () => {
      const clients = new CrmClients({ ...stack.services, config: { ...stack.services.config, BITRIX24_RATE_BURST: 500, BITRIX24_RATE_PER_SECOND: 100 }, log: createLogger('silent') });
      const crm = await clients.forInstallation(installation!);
      return crm.getDeal({ entity: 'deal', id: String(dealId) });
    });
    const deals = await Promise.all(reads);
    expect(deals.every((d) => d?.id === String(dealId))).toBe(true);
    expect(stack.portal.stats.refreshCalls - before).toBe(1);
  });

  it('a verified ONAPPUNINSTALL removes the installation with its tokens and data', async () => {
    await install();
    const [installation] = await stack.services.store.list();
    await stack.portal.uninstall();
    await stack.idle();
    expect(await stack.services.store.find(installation!.id)).toBeNull();
    expect(await stack.services.store.tokens(installation!.id)).toBeNull();
  });
});
