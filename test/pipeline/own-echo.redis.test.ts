import type { InboundEvent } from '../../src/events';
import { mayBeOwnEcho } from '../../src/pipeline/own-echo';
import { createTestServices } from '../helpers/test-services';

type TestServices = Awaited<ReturnType<typeof createTestServices>>;

const b24 = (over: Partial<InboundEvent> = {}): InboundEvent => ({
  installationId: 'b24:0123456789abcdef0123456789abcdef', crm: 'bitrix24', kind: 'updated', entity: 'deal', entityId: '5', receivedAt: 0, ...over,
});
const amo = (hint: InboundEvent['hint'], over: Partial<InboundEvent> = {}): InboundEvent => ({
  installationId: 'amo:12', crm: 'amocrm', kind: 'updated', entity: 'deal', entityId: '5', receivedAt: 0, hint, ...over,
});
const nothing = { title: null, stage: null };
const renamed = { title: '5 / Иванов', stage: null };
const moved = { title: null, stage: '143' };

describe('an event may be the echo of the app\'s own write only when the event itself allows it', () => {
  it.each([
    ['a Bitrix24 update (the event carries only the id)', true, b24(), 'C2:NEW', nothing],
    ['a Bitrix24 new deal', false, b24({ kind: 'created' }), null, nothing],
    ['a Bitrix24 update found by the catch-up scan', false, b24({ via: 'catch-up' }), 'C2:NEW', nothing],
    ['an amoCRM update showing the name the app wrote, stage as last seen', true, amo({ title: '5 / Иванов', toStageId: '142' }), '142', renamed],
    ['an amoCRM update showing another name than the app wrote', false, amo({ title: 'Сделка', toStageId: '142' }), '142', renamed],
    ['an amoCRM update whose stage is not the last seen one', false, amo({ title: '5 / Иванов', toStageId: '150' }), '142', renamed],
    ['an amoCRM update without the stage in it', false, amo({ title: '5 / Иванов' }), '142', renamed],
    ['an amoCRM update when the app wrote nothing lately', false, amo({ title: '5 / Иванов', toStageId: '142' }), '142', nothing],
    ['an amoCRM status event showing the stage the app moved it to', true, amo({ fromStageId: '142', toStageId: '143', title: 'x' }), '143', moved],
    ['an amoCRM status event showing another stage than the app moved it to', false, amo({ fromStageId: '143', toStageId: '142', title: 'x' }), '142', moved],
    ['an amoCRM update found by the catch-up scan', false, amo({ title: '5 / Иванов', toStageId: '142' }, { via: 'catch-up' }), '142', renamed],
  ] as const)('%s: %s', (_what, expected, event, lastSeen, recorded) => {
    expect(mayBeOwnEcho(event, lastSeen, recorded)).toBe(expected);
  });
});

describe('own-write ledger: one expected echo per write, within the window', () => {
  let services: TestServices;
  const id = 'b24:0123456789abcdef0123456789abcdef';
  const deal = { entity: 'deal' as const, id: '5' };
  beforeEach(async () => {
    services = await createTestServices();
  });
  afterEach(() => services.cleanup());

  it('one write answers one event, however many workers ask at once', async () => {
    await services.ownWrites.expectEcho(id, deal, 1_000_000);
    const answers = await Promise.all(Array.from({ length: 5 }, () => services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_000_500 }, 10_000)));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('two writes answer two events; a third event is read', async () => {
    await services.ownWrites.expectEcho(id, deal, 1_000_000);
    await services.ownWrites.expectEcho(id, deal, 1_000_100);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_000_200 }, 10_000)).toBe(true);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_000_300 }, 10_000)).toBe(true);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_000_400 }, 10_000)).toBe(false);
  });

  it('the portal\'s own stamp counts, not the arrival: an echo delivered late is still known, a change raised after the window is not', async () => {
    await services.ownWrites.expectEcho(id, deal, 1_000_000);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_060_000, occurredAt: 1_000_000 }, 10_000)).toBe(true);
    await services.ownWrites.expectEcho(id, deal, 2_000_000);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 2_012_000, occurredAt: 2_011_000 }, 10_000)).toBe(false);
  });

  it('an event that arrives after the window is not taken for the echo', async () => {
    await services.ownWrites.expectEcho(id, deal, 1_000_000);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_011_000 }, 10_000)).toBe(false);
  });

  it('an event received well before the write cannot be its echo', async () => {
    await services.ownWrites.expectEcho(id, deal, 1_000_000);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 990_000 }, 10_000)).toBe(false);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_000_200 }, 10_000)).toBe(true);
  });

  it('a failed write withdraws its echo: the next event is read', async () => {
    const mark = await services.ownWrites.expectEcho(id, deal, 1_000_000);
    await services.ownWrites.withdrawEcho(id, deal, mark);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_000_200 }, 10_000)).toBe(false);
  });

  it("another deal's write is not this deal's echo", async () => {
    await services.ownWrites.expectEcho(id, { entity: 'deal', id: '6' }, 1_000_000);
    await services.ownWrites.expectEcho(id, { entity: 'lead', id: '5' }, 1_000_000);
    expect(await services.ownWrites.consumeEcho(id, deal, { receivedAt: 1_000_200 }, 10_000)).toBe(false);
  });
});
