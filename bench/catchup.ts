/**
 * `npm run bench:catchup`: catch-up after downtime, on the emulated Bitrix24 portal and amoCRM
 * account with their real limits (Bitrix24 2 req/s, burst 50; amoCRM 7 req/s).
 *
 * Deals exist and are named correctly; the app (web and worker) stops; during the outage
 * (BENCH_OUTAGE_S, default 120 s) managers rename BENCH_DEALS deals per CRM wrongly (default 40),
 * spread over the outage, and add BENCH_NEW_DEALS new ones (default 5). Bitrix24 drops its
 * deliveries; amoCRM retries and gives up. The app restarts with the default catch-up interval, so
 * only the catch-up at worker start can find them. Measured: seconds from the restart until every
 * changed deal carries the right title, and the number of rename writes per deal (must be 1).
 * Last line: one JSON object.
 */
import { resolveRedis } from '../src/infra/redis';
import { sleep } from '../src/infra/sleep';
import { startLocalStack, type LocalStack } from '../test/helpers/local-stack';

const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? 120);
const DEALS = Number(process.env.BENCH_DEALS ?? 40);
const NEW_DEALS = Number(process.env.BENCH_NEW_DEALS ?? 5);

interface Tracked {
  crm: 'bitrix24' | 'amocrm';
  id: number;
  title: () => string | undefined;
  expected: string;
}

function log(line: string) {
  process.stdout.write(`${line}\n`);
}

async function main() {
  const redis = await resolveRedis();
  const stack = await startLocalStack({ redisUrl: redis.url, logLevel: process.env.BENCH_LOG ?? 'silent' });
  try {
    const result = await run(stack);
    log('');
    log(`outage ${OUTAGE_S} s; ${result.changed} deals changed during it (${DEALS} renamed + ${NEW_DEALS} new, per CRM)`);
    for (const crm of ['bitrix24', 'amocrm'] as const) {
      const r = result[crm];
      log(`${crm.padEnd(9)} all ${r.changed} processed ${r.seconds.toFixed(1)} s after the restart; rename writes per deal: min ${r.minWrites}, max ${r.maxWrites}; HTTP requests to the CRM after the restart ${r.calls}`);
    }
    log(`all processed ${result.seconds.toFixed(1)} s after the restart (target: 90 s)`);
    log(JSON.stringify({ bench: 'catchup', outage_s: OUTAGE_S, deals_per_crm: DEALS + NEW_DEALS, ...flatten(result) }));
  } finally {
    await stack.stop();
    await redis.stop();
  }
}

async function run(stack: LocalStack) {
  const { portal, amo } = stack;
  if ((await portal.install(`${stack.appUrl}/bitrix24/install`)).status !== 200) throw new Error('Bitrix24 install failed');
  if ((await amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status !== 200) throw new Error('amoCRM install failed');
  const b24Deals = Array.from({ length: DEALS }, (_, i) => portal.userAddDeal({ title: `Сделка ${i}`, ufCrmUnit: `кв. ${i + 1}` } as never));
  const amoLeads = Array.from({ length: DEALS }, (_, i) => amo.userAddLead({ name: `Заявка ${i}` }));
  log(`setting up: ${DEALS} deals on each CRM, renamed by the app while it runs…`);
  await stack.idle(180_000);

  log(`outage: the app is down for ${OUTAGE_S} s while managers change deals…`);
  await stack.stopApp();
  const tracked: Tracked[] = [];
  const steps = DEALS + NEW_DEALS;
  const gapMs = (OUTAGE_S * 1000) / (steps + 1);
  const outageStart = Date.now();
  for (let i = 0; i < steps; i++) {
    await sleep(gapMs);
    if (i < DEALS) {
      const dealId = b24Deals[i]!;
      portal.userUpdateDeal(dealId, { title: `Переименовал менеджер ${i}` } as never);
      tracked.push({ crm: 'bitrix24', id: dealId, title: () => portal.getDeal(dealId)?.title, expected: `${dealId} / кв. ${i + 1}` });
      const leadId = amoLeads[i]!;
      amo.userUpdateLead(leadId, { name: `Переименовал менеджер ${i}` });
      tracked.push({ crm: 'amocrm', id: leadId, title: () => amo.getLead(leadId)?.name, expected: String(leadId) });
    } else {
      const dealId = portal.userAddDeal({ title: 'Новая сделка', ufCrmUnit: `м/м ${i}` } as never);
      tracked.push({ crm: 'bitrix24', id: dealId, title: () => portal.getDeal(dealId)?.title, expected: `${dealId} / м/м ${i}` });
      const leadId = amo.userAddLead({ name: 'Новая заявка' });
      tracked.push({ crm: 'amocrm', id: leadId, title: () => amo.getLead(leadId)?.name, expected: String(leadId) });
    }
  }
  await sleep(Math.max(0, outageStart + OUTAGE_S * 1000 - Date.now()));
  await portal.settle();
  await amo.settle({ includeRetries: true, timeoutMs: 60_000 });
  const lostB24 = portal.deliveries.filter((d) => d.status === 0 && d.at >= outageStart).length;
  const failedAmo = amo.deliveries.filter((d) => !d.ok && d.at >= outageStart).length;
  log(`during the outage: ${lostB24} Bitrix24 deliveries failed (never resent), ${failedAmo} amoCRM attempts failed (retries given up)`);

  const b24Calls = portal.calls.length;
  const amoCalls = amo.calls.length;
  const restartedAt = Date.now();
  await stack.startApp();
  const doneAt: Record<Tracked['crm'], number | null> = { bitrix24: null, amocrm: null };
  while (doneAt.bitrix24 === null || doneAt.amocrm === null) {
    if (Date.now() - restartedAt > 600_000) throw new Error('not all deals were processed within 10 minutes of the restart');
    for (const crm of ['bitrix24', 'amocrm'] as const) {
      if (doneAt[crm] === null && tracked.filter((t) => t.crm === crm).every((t) => t.title() === t.expected)) doneAt[crm] = Date.now();
    }
    await sleep(50);
  }
  await stack.idle(120_000); // echoes of the app's own writes: must write nothing more
  const writes = (t: Tracked) =>
    t.crm === 'bitrix24'
      ? portal.calls.slice(b24Calls).filter((c) => c.method === 'crm.item.update' && Number(c.params.entityTypeId) === 2 && Number(c.params.id) === t.id).length
      : amo.calls.slice(amoCalls).filter((c) => c.method === 'PATCH' && c.path === `/api/v4/leads/${t.id}`).length;
  const per = (crm: Tracked['crm']) => {
    const counts = tracked.filter((t) => t.crm === crm).map(writes);
    return {
      changed: counts.length,
      seconds: (doneAt[crm]! - restartedAt) / 1000,
      minWrites: Math.min(...counts),
      maxWrites: Math.max(...counts),
      calls: crm === 'bitrix24' ? portal.calls.slice(b24Calls).filter((c) => !c.viaBatch).length : amo.calls.length - amoCalls,
    };
  };
  return {
    changed: steps,
    seconds: (Math.max(doneAt.bitrix24, doneAt.amocrm) - restartedAt) / 1000,
    bitrix24: per('bitrix24'),
    amocrm: per('amocrm'),
  };
}

function flatten(result: Awaited<ReturnType<typeof run>>) {
  return {
    catchup_s: Number(result.seconds.toFixed(1)),
    bitrix24_s: Number(result.bitrix24.seconds.toFixed(1)),
    amocrm_s: Number(result.amocrm.seconds.toFixed(1)),
    bitrix24_writes_per_deal: [result.bitrix24.minWrites, result.bitrix24.maxWrites],
    amocrm_writes_per_deal: [result.amocrm.minWrites, result.amocrm.maxWrites],
    bitrix24_requests: result.bitrix24.calls,
    amocrm_requests: result.amocrm.calls,
  };
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
