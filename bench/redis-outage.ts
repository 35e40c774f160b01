/**
 * `npm run bench:redis-outage`: the real edge on a private redis-server that is frozen
 * (`kill -STOP`: the TCP connection stays open and nothing answers), then stopped (connection
 * refused). 30 valid Bitrix24 events are POSTed at once in each state; prints how fast the
 * edge answers (503 expected) and how soon after `kill -CONT` it accepts events again.
 * Last line: one JSON object.
 */
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readConfig } from '../src/config';
import { createLogger } from '../src/log';
import { startHeartbeat } from '../src/pipeline/worker-heartbeat';
import { createServices } from '../src/services';
import { createWebApp } from '../webhooks/server';
import { documentedBitrix24Installation, fixture, someTokens } from '../test/helpers/fixtures';
import { PrivateRedis } from '../test/helpers/private-redis';

const REQUESTS = 30;

async function main() {
  const redis = await PrivateRedis.start();
  const config = readConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://bench.example', TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv);
  const services = createServices(config, redis.url, createLogger('silent'));
  const server = createWebApp(services).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await services.store.save(documentedBitrix24Installation(), someTokens());
  const stopHeartbeat = startHeartbeat(services.redis, services.prefix);
  const body = fixture('bitrix24/ONCRMDEALUPDATE.form');

  const post = async () => {
    const started = performance.now();
    const res = await fetch(`${url}/bitrix24/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(10_000) }).catch(() => null);
    return { status: res?.status ?? 0, ms: performance.now() - started };
  };
  const burst = async () => {
    const answers = await Promise.all(Array.from({ length: REQUESTS }, post));
    const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
    return { statuses: count(answers.map((a) => a.status)), p50: Math.round(ms[Math.floor(ms.length / 2)]!), max: Math.round(ms[ms.length - 1]!) };
  };
  const untilAccepted = async () => {
    const started = performance.now();
    while ((await post()).status !== 200) await new Promise((r) => setTimeout(r, 50));
    return Math.round(performance.now() - started);
  };

  await burst(); // warm-up: connections, BullMQ's first script load
  const healthy = await burst();
  console.log(`Redis up:      ${JSON.stringify(healthy.statuses)}, p50 ${healthy.p50} ms, max ${healthy.max} ms`);
  redis.freeze();
  const frozen = await burst();
  const readyFrozen = (await fetch(`${url}/ready`)).status;
  console.log(`Redis frozen:  ${JSON.stringify(frozen.statuses)}, p50 ${frozen.p50} ms, max ${frozen.max} ms; /ready ${readyFrozen}`);
  redis.thaw();
  const backAfterThawMs = await untilAccepted();
  console.log(`kill -CONT: events accepted again after ${backAfterThawMs} ms`);
  await redis.stop();
  const stopped = await burst();
  console.log(`Redis stopped: ${JSON.stringify(stopped.statuses)}, p50 ${stopped.p50} ms, max ${stopped.max} ms`);

  stopHeartbeat();
  server.close();
  await services.close().catch(() => undefined);
  console.log(
    JSON.stringify({
      bench: 'redis-outage',
      requests: REQUESTS,
      command_timeout_ms: config.REDIS_COMMAND_TIMEOUT_MS,
      frozen_503: frozen.statuses['503'] ?? 0,
      frozen_p50_ms: frozen.p50,
      frozen_max_ms: frozen.max,
      frozen_ready_status: readyFrozen,
      back_after_thaw_ms: backAfterThawMs,
      stopped_503: stopped.statuses['503'] ?? 0,
      stopped_p50_ms: stopped.p50,
      stopped_max_ms: stopped.max,
    }),
  );
}

function count(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
  return counts;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
