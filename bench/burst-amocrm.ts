/**
 * `npm run bench:burst:amocrm`: 1,000 new leads with wrong names land on an amoCRM account at
 * once (the `add_lead` webhooks, several events per POST as amoCRM sends them), the account at its
 * documented limit of 7 requests/s (the emulator answers 429 above it). Prints the time until every
 * lead is renamed, leads/s, the HTTP calls the app sent to the API, elements per call (ids read,
 * leads patched, notes and tasks posted) and the 429 answers. Last line: one JSON object.
 *
 * The default regulation runs, the duplicate catcher included. The clients exist before the import
 * and before the install: the install starts the backfill of the account's identity index
 * (src/crm/amocrm/identity-index.ts, every contact read 250 per page), measured separately, and the
 * burst starts once it is complete, so each lookup is a merged read of its candidates by id instead
 * of a `GET /api/v4/contacts?query=` per phone (amoCRM has no multi-value search; with the search,
 * 1,000 new leads cost ≥ 1,000 requests, ≥ 143 s at 7/s). `--without-duplicate-catcher` turns the
 * catcher off to measure the merged requests of the other robots
 * (`npm run bench:burst:amocrm -- --without-duplicate-catcher`).
 *
 * BENCH_LEADS (1000) and BENCH_CONCURRENCY (jobs per worker process, 100) tune the run.
 */
import { resolveRedis } from '../src/infra/redis';
import type { AmocrmInstallation } from '../src/installations/installation';
import type { RecordedCall } from '../test/emulators/amocrm-account';
import { startLocalStack, type LocalStack } from '../test/helpers/local-stack';

const LEADS = Number(process.env.BENCH_LEADS ?? 1_000);
// 100 jobs: a merged read holds 100 ids, so fewer concurrent jobs leave requests half full.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const RATE_PER_SECOND = 7;
const GIVE_UP_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);
const DUPLICATE_CATCHER = !process.argv.includes('--without-duplicate-catcher');

async function main() {
  const redis = await resolveRedis();
  const stack = await startLocalStack({
    redisUrl: redis.url,
    prefix: `reglament-bench-burst-amo-${process.pid}`,
    amoOptions: { rateLimitPerSecond: RATE_PER_SECOND },
    env: { AMOCRM_RATE_PER_SECOND: String(RATE_PER_SECOND), AMOCRM_MERGE_REQUESTS: 'on' },
    workerConcurrency: CONCURRENCY,
    logLevel: 'error',
  });
  try {
    const f = await run(stack);
    console.log(`amoCRM account at ${RATE_PER_SECOND} requests/s; ${LEADS} new leads with wrong names at once (${f.webhookPosts} webhook POSTs, ${f.webhookRefused} refused and retried); ${CONCURRENCY} jobs per worker; duplicate catcher ${DUPLICATE_CATCHER ? 'on' : 'off'}`);
    console.log(`renamed ${f.renamed}/${LEADS} in ${f.seconds} s (${f.leadsPerSecond} leads/s); all events and echoes done in ${f.idleSeconds} s`);
    console.log(`HTTP calls ${f.httpCalls} (${f.byKind}), ${f.elements} elements, ${f.elementsPerCall} elements per call; HTTP 429 ${f.limitErrors}`);
    console.log(`before the burst: identity index of ${LEADS} contacts built in ${f.backfill.seconds} s with ${f.backfill.calls} contact pages; contact searches (query=) during the burst: ${f.contactSearches}`);
    console.log(
      JSON.stringify({
        bench: 'burst',
        crm: 'amocrm',
        leads: LEADS,
        rate_per_second: RATE_PER_SECOND,
        worker_concurrency: CONCURRENCY,
        duplicate_catcher: DUPLICATE_CATCHER,
        webhook_posts: f.webhookPosts,
        webhook_posts_refused: f.webhookRefused,
        renamed: f.renamed,
        seconds_until_all_renamed: f.seconds,
        leads_per_second: f.leadsPerSecond,
        seconds_until_idle: f.idleSeconds,
        http_calls: f.httpCalls,
        elements: f.elements,
        elements_per_call: f.elementsPerCall,
        http_429: f.limitErrors,
        contact_searches: f.contactSearches,
        index_backfill_seconds: f.backfill.seconds,
        index_backfill_calls: f.backfill.calls,
      }),
    );
  } finally {
    await stack.stop();
    await redis.stop();
  }
}

async function run(stack: LocalStack) {
  const { amo } = stack;
  // The clients exist before the import (no events for them); the leads arrive all at once.
  const contacts = Array.from({ length: LEADS }, (_, i) => amo.userAddContact({ name: `Клиент${i} Импортов`, phones: [`+7999${String(10_000_000 + i).slice(1)}`] }));
  const installStarted = Date.now();
  const fromInstallCall = amo.calls.length;
  await amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
  const backfill = await identityIndexBuilt(stack, installStarted, fromInstallCall);
  await stack.idle(60_000);
  if (!DUPLICATE_CATCHER) {
    const [installation] = await stack.services.store.list();
    await stack.services.store.updateSettings(installation!.id, (current) => ({ ...current.settings, duplicateCatcher: { ...(current.settings.duplicateCatcher as object | undefined), enabled: false } }));
  }
  // Start from a quiet second, as a quiet account would be.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const fromCall = amo.calls.length;
  const fromPosts = amo.deliveries.length;
  const fromLimited = amo.stats.rateLimited;
  const started = Date.now();
  const ids = contacts.map((contactId, i) => amo.userAddLead({ name: `Импорт ${i}`, contactId }));
  if (process.env.BENCH_TRACE) setTimeout(() => console.log(amo.deliveries.slice(fromPosts).map((d) => `${d.at - started}ms ${d.status} ${d.durationMs}ms ${d.body.length}B`).join('\n')), 10_000);
  const renamedNow = () => ids.filter((id) => amo.getLead(id)?.name.startsWith(`${id} / `)).length;
  let renamed = 0;
  while ((renamed = renamedNow()) < LEADS && Date.now() - started < GIVE_UP_MS) await new Promise((resolve) => setTimeout(resolve, 100));
  const seconds = (Date.now() - started) / 1000;
  await stack.idle(GIVE_UP_MS);
  const idleSeconds = (Date.now() - started) / 1000;

  const calls = amo.calls.slice(fromCall).filter((c) => c.path.startsWith('/api/'));
  const elements = calls.reduce((n, c) => n + elementsOf(c), 0);
  const kinds = new Map<string, number>();
  for (const c of calls) kinds.set(`${c.method} ${c.path.replace(/\/\d+/g, '/{id}')}`, (kinds.get(`${c.method} ${c.path.replace(/\/\d+/g, '/{id}')}`) ?? 0) + 1);
  return {
    backfill,
    contactSearches: calls.filter((c) => c.method === 'GET' && c.path === '/api/v4/contacts' && c.query.query !== undefined).length,
    webhookPosts: amo.deliveries.length - fromPosts,
    webhookRefused: amo.deliveries.slice(fromPosts).filter((d) => !d.ok).length,
    renamed,
    seconds: round(seconds),
    leadsPerSecond: round(renamed / seconds),
    idleSeconds: round(idleSeconds),
    httpCalls: calls.length,
    byKind: [...kinds].map(([k, n]) => `${n} ${k}`).join(', '),
    elements,
    elementsPerCall: round(elements / Math.max(1, calls.length)),
    limitErrors: amo.stats.rateLimited - fromLimited,
  };
}

/** The install starts the identity index backfill (a catch-up job): how long until lookups may use it. */
async function identityIndexBuilt(stack: LocalStack, startedAt: number, fromCall: number) {
  const [installation] = await stack.services.store.list();
  const index = stack.services.clients.amocrmIdentities(installation as AmocrmInstallation);
  while (!(await index.isComplete())) {
    if (Date.now() - startedAt > GIVE_UP_MS) throw new Error('the identity index was not built');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pages = stack.amo.calls.slice(fromCall).filter((c) => c.method === 'GET' && c.path === '/api/v4/contacts' && c.query.page !== undefined);
  return { seconds: round((Date.now() - startedAt) / 1000), calls: pages.length };
}

/** What one API call carried: the ids of a `filter[id][]` read, the elements of an array write, else one. */
function elementsOf(call: RecordedCall): number {
  if (Array.isArray(call.body)) return call.body.length;
  const filter = call.query.filter as { id?: unknown } | undefined;
  if (call.method === 'GET' && Array.isArray(filter?.id)) return filter.id.length;
  return 1;
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
