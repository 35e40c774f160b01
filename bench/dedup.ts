/**
 * `npm run bench:dedup`: the duplicate catcher against a Bitrix24 portal holding 10,000 contacts
 * (3,000 of them with a deal). 1,000 new leads arrive: first the genuine ones, then the repeats
 * (a known client's phone written another way). Prints the HTTP requests the app sent to the
 * portal per lead — the read of the lead plus the robot's one `batch` of searches and reads —
 * and the wall time. Rate limits are lifted on both sides so the figure is the app's own cost
 * (at Bitrix24's 2 requests/s, multiply the calls by 0.5 s). Last line: one JSON object.
 *
 * BENCH_CONTACTS (10000) and BENCH_LEADS (1000) tune the run; BENCH_REPEAT_SHARE (0.3).
 */
import { resolveRedis } from '../src/infra/redis';
import { configureRegulations } from '../src/installations/configure-regulations';
import { setupAmoPrimaryMarket, setupBitrix24LeadFunnel, setupBitrix24SalesFunnel } from '../test/helpers/funnels';
import { startLocalStack, type LocalStack } from '../test/helpers/local-stack';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 10_000);
const LEADS = Number(process.env.BENCH_LEADS ?? 1_000);
const REPEAT_SHARE = Number(process.env.BENCH_REPEAT_SHARE ?? 0.3);
/** amoCRM for comparison (no batch there): the same portal size, fewer leads by default. */
const AMO_LEADS = Number(process.env.BENCH_AMO_LEADS ?? 200);
const MANAGER = 2;

/** A distinct mobile for every index: +7 9AA BBB CC DD. */
const mobile = (i: number) => `+7 9${String(10 + (i % 90)).padStart(2, '0')} ${String(Math.floor(i / 90) % 1000).padStart(3, '0')} ${String(Math.floor(i / 90000) % 100).padStart(2, '0')} ${String(i % 97).padStart(2, '0')}`;
/** The same number as a manager types it: 8 (9AA) BBB-CC-DD. */
const asTyped = (phone: string) => {
  const d = phone.replace(/\D/g, '').slice(1);
  return `8 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8, 10)}`;
};

async function main() {
  const redis = await resolveRedis();
  const stack = await startLocalStack({
    redisUrl: redis.url,
    prefix: `reglament-bench-dedup-${process.pid}`,
    portalRateLimit: { burst: 1e9, drainPerSecond: 1e9 },
    env: { BITRIX24_RATE_BURST: '1000000', BITRIX24_RATE_PER_SECOND: '1000000', AMOCRM_RATE_PER_SECOND: '100000' },
    logLevel: 'error',
  });
  try {
    const figures = await run(stack);
    const amo = AMO_LEADS > 0 ? await runAmo(stack) : null;
    console.log(`portal: ${CONTACTS} contacts, ${figures.deals} deals; ${LEADS} new leads (${figures.genuine.leads} genuine, ${figures.repeats.leads} repeats)`);
    console.log(`genuine new leads: ${figures.genuine.callsPerLead} HTTP calls per lead, ${figures.genuine.seconds} s (${figures.genuine.leadsPerSecond} leads/s); all stayed new: ${figures.genuine.allNew}`);
    console.log(`repeats: ${figures.repeats.callsPerLead} HTTP calls per lead (judging, closing, linking, enriching, two comments, a notification, and reading the echoes), ${figures.repeats.seconds} s; all closed: ${figures.repeats.allClosed}`);
    if (amo) console.log(`amoCRM (${CONTACTS} contacts, ${AMO_LEADS} leads, no batch API): genuine ${amo.genuine} calls per lead, every robot and webhook read included (the search itself: ${amo.genuineSearches}), repeat ${amo.repeat}; ${amo.seconds} s; all judged right: ${amo.allRight}`);
    console.log(JSON.stringify({ bench: 'dedup', crm: 'bitrix24', contacts: CONTACTS, deals: figures.deals, leads: LEADS, genuine_calls_per_lead: figures.genuine.callsPerLead, repeat_calls_per_lead: figures.repeats.callsPerLead, calls_per_lead: figures.callsPerLead, genuine_seconds: figures.genuine.seconds, repeat_seconds: figures.repeats.seconds, wall_seconds: figures.wallSeconds, genuine_all_new: figures.genuine.allNew, repeats_all_closed: figures.repeats.allClosed, ...(amo ? { amocrm_leads: AMO_LEADS, amocrm_genuine_calls_per_lead: amo.genuine, amocrm_genuine_search_calls_per_lead: amo.genuineSearches, amocrm_repeat_calls_per_lead: amo.repeat, amocrm_seconds: amo.seconds, amocrm_all_right: amo.allRight } : {}) }));
  } finally {
    await stack.stop();
    await redis.stop();
  }
}

async function run(stack: LocalStack) {
  const { portal } = stack;
  setupBitrix24LeadFunnel(portal);
  setupBitrix24SalesFunnel(portal);
  // The portal's history, created before the app is installed (no events for it).
  const contactIds: number[] = [];
  for (let i = 0; i < CONTACTS; i++) {
    contactIds.push(portal.userAddContact({ name: `Клиент ${i}`, phones: [mobile(i)], emails: [`client${i}@mail.ru`] }, 3));
  }
  const dealsFor = Math.min(3000, CONTACTS);
  for (let i = 0; i < dealsFor; i++) {
    portal.userAddDeal({ title: `Сделка ${i}`, stageId: i % 6 === 0 ? 'WON' : 'PREPARATION', categoryId: 0, assignedById: 3, contactId: contactIds[i] } as never, 3);
  }
  await portal.install(`${stack.appUrl}/bitrix24/install`);
  const installationId = (await stack.services.store.list())[0]!.id;
  const configured = await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }, { preset: 'bitrix24-leads-004' }]);
  if (!configured.ok) throw new Error(configured.report);
  await stack.idle(60_000);

  const repeats = Math.round(LEADS * REPEAT_SHARE);
  const genuineCount = LEADS - repeats;
  const wallStart = Date.now();
  const genuine = await phase(stack, genuineCount, (i) => mobile(CONTACTS + 1 + i));
  const repeat = await phase(stack, repeats, (i) => asTyped(mobile(i % dealsFor)));
  const wallSeconds = (Date.now() - wallStart) / 1000;
  const leadIds = [...genuine.ids, ...repeat.ids];
  return {
    deals: dealsFor,
    genuine: { leads: genuineCount, callsPerLead: round(genuine.calls / genuineCount), seconds: genuine.seconds, leadsPerSecond: round(genuineCount / genuine.seconds), allNew: genuine.ids.every((id) => portal.getLead(id)?.stageId === 'NEW') },
    repeats: { leads: repeats, callsPerLead: round(repeat.calls / Math.max(1, repeats)), seconds: repeat.seconds, allClosed: repeat.ids.every((id) => ['UC_ACTIVE', 'UC_HOLDER'].includes(String(portal.getLead(id)?.stageId))) },
    callsPerLead: round((genuine.calls + repeat.calls) / leadIds.length),
    wallSeconds: round(wallSeconds),
  };
}

/** Creates `n` leads at once and waits until every event (and every echo) is processed. */
async function phase(stack: LocalStack, n: number, phoneOf: (i: number) => string) {
  const from = stack.portal.calls.length;
  const started = Date.now();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(stack.portal.userAddLead({ title: `Заявка ${i}`, stageId: 'NEW', assignedById: MANAGER, phones: [phoneOf(i)], sourceId: 'WEB' } as never, MANAGER));
  }
  await stack.idle(900_000);
  const seconds = round((Date.now() - started) / 1000);
  const calls = stack.portal.calls.slice(from).filter((c) => !c.viaBatch).length;
  return { ids, calls, seconds };
}

async function runAmo(stack: LocalStack) {
  const { amo } = stack;
  amo.setRateLimit(1e9);
  const { pipelineId, stage } = setupAmoPrimaryMarket(amo);
  const contactIds: number[] = [];
  for (let i = 0; i < CONTACTS; i++) contactIds.push(amo.userAddContact({ name: `Клиент ${i}`, phones: [mobile(i)] }, 3));
  const dealsFor = Math.min(3000, CONTACTS);
  for (let i = 0; i < dealsFor; i++) amo.userAddLead({ name: `Сделка ${i}`, pipeline_id: pipelineId, status_id: stage('Встреча назначена'), responsible_user_id: 3, contactId: contactIds[i] }, 3);
  amo.advanceClock(7 * 24 * 3600_000); // the portal's deals are a week old: no double submissions
  await amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
  const installationId = (await stack.services.store.list()).find((i) => i.crm === 'amocrm')!.id;
  const configured = await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market' }]);
  if (!configured.ok) throw new Error(configured.report);
  await stack.idle(60_000);
  const started = Date.now();
  const amoPhase = async (n: number, phoneOf: (i: number) => string) => {
    const from = amo.calls.filter((c) => c.path.startsWith('/api/')).length;
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const contactId = amo.userAddContact({ name: 'Заявка', phones: [phoneOf(i)] }, MANAGER);
      ids.push(amo.userAddLead({ name: `Заявка ${i}`, pipeline_id: pipelineId, status_id: stage('Новый лид'), responsible_user_id: MANAGER, contactId }, MANAGER));
    }
    await stack.idle(900_000);
    const made = amo.calls.filter((c) => c.path.startsWith('/api/')).slice(from);
    const searches = made.filter((c) => c.method === 'GET' && ((c.path === '/api/v4/contacts' && c.query.query !== undefined) || c.path === '/api/v4/leads')).length;
    return { ids, calls: made.length, searches };
  };
  const repeats = Math.round(AMO_LEADS * REPEAT_SHARE);
  const genuine = await amoPhase(AMO_LEADS - repeats, (i) => mobile(CONTACTS + 50_000 + i));
  const repeat = await amoPhase(repeats, (i) => asTyped(mobile(i % dealsFor)));
  const allRight = genuine.ids.every((id) => amo.getLead(id)?.status_id === stage('Новый лид')) && repeat.ids.every((id) => amo.getLead(id)?.status_id === 143);
  return { genuine: round(genuine.calls / Math.max(1, genuine.ids.length)), genuineSearches: round(genuine.searches / Math.max(1, genuine.ids.length)), repeat: round(repeat.calls / Math.max(1, repeat.ids.length)), seconds: round((Date.now() - started) / 1000), allRight };
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
