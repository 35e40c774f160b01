/**
 * `npm run bench:inventory`: inventory calls per booking and release (Profitbase and the 1C
 * contract), and the Profitbase request rate held at ≤ 1/s. Bookings run concurrently from
 * several "workers" (each its own adapter, as separate processes would be) against the Profitbase
 * emulator, which answers 429 to any request closer than 1 s to the previous one and blocks the IP
 * after 3; the rate is measured from the emulator's own arrival times. Last line: one JSON object.
 *
 * BENCH_BOOKINGS (default 5) and BENCH_WORKERS (default 3) tune the run.
 */
import { randomBytes } from 'node:crypto';
import { connectRedis, resolveRedis } from '../src/infra/redis';
import { RedisRateLimiter } from '../src/infra/rate-limiter';
import { Inventories } from '../src/inventory/inventories';
import type { InventoryPort } from '../src/inventory/inventory-port';
import { scanKeys } from '../src/installations/redis-installation-store';
import { createLogger } from '../src/log';
import { InventoryHttpEmulator } from '../test/emulators/inventory-http-service';
import { ProfitbaseEmulator } from '../test/emulators/profitbase-account';

const BOOKINGS = Number(process.env.BENCH_BOOKINGS ?? 5);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 3);

async function main() {
  const redisServer = await resolveRedis();
  const redis = connectRedis(redisServer.url);
  const prefix = `reglament-bench-${randomBytes(4).toString('hex')}`;
  const pb = await ProfitbaseEmulator.start({ apiKey: 'app-bench', units: BOOKINGS + 2, minIntervalMs: 1000, blockAfterViolations: 3 });
  const onec = await InventoryHttpEmulator.start({ apiKey: 'k' });
  try {
    const inventories = () => new Inventories({ redis, prefix, limiter: new RedisRateLimiter(redis), config: { NODE_ENV: 'development', PROFITBASE_REQUESTS_PER_SECOND: 0.9 }, log: createLogger('silent') });
    const until = new Date(Date.now() + 3 * 86_400_000);
    const deal = (i: number) => ({ crm: 'bitrix24' as const, id: String(1000 + i) });

    // Profitbase: WORKERS adapters share the Redis bucket, BOOKINGS bookings then releases.
    const pbPorts: InventoryPort[] = Array.from({ length: WORKERS }, () => inventories().connect({ system: 'profitbase', baseUrl: pb.url, apiKey: 'app-bench', houseId: 99001, customStatuses: {}, bookingQueue: false }));
    const started = Date.now();
    await Promise.all(
      Array.from({ length: BOOKINGS }, async (_, i) => {
        const port = pbPorts[i % WORKERS]!;
        const unit = await port.findUnit(String(i + 1));
        await port.book(unit!.id, deal(i), until);
      }),
    );
    const afterBooking = pb.calls.length;
    await Promise.all(Array.from({ length: BOOKINGS }, (_, i) => pbPorts[i % WORKERS]!.release(String(10_301_001 + i), deal(i), 'expired')));
    const seconds = (Date.now() - started) / 1000;
    const times = pb.calls.map((c) => c.at).sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const maxInAnySecond = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
    const auth = pb.calls.filter((c) => c.path.endsWith('/authentication')).length;
    const pbBookingCalls = (afterBooking - auth) / BOOKINGS;
    const pbReleaseCalls = (pb.calls.length - afterBooking) / BOOKINGS;

    // 1C: the same bookings and releases through the contract.
    const http = inventories().connect({ system: 'http', baseUrl: onec.url, apiKey: 'k', project: 'ЖК Северный' });
    for (let i = 0; i < BOOKINGS; i++) {
      const unit = await http.findUnit(`5-${101 + i}`);
      await http.book(unit!.id, deal(i), until);
    }
    const httpAfterBooking = onec.calls.length;
    for (let i = 0; i < BOOKINGS; i++) await http.release(`u${1001 + i}`, deal(i), 'expired');

    const result = {
      bench: 'inventory',
      bookings: BOOKINGS,
      workers: WORKERS,
      profitbase: {
        requests: pb.calls.length,
        seconds: Number(seconds.toFixed(1)),
        rps: Number((pb.calls.length / seconds).toFixed(2)),
        max_in_any_second: maxInAnySecond,
        min_gap_ms: Math.min(...gaps),
        rate_limited: pb.stats.rateLimited,
        ip_blocked: pb.isBlocked,
        calls_per_booking: pbBookingCalls,
        calls_per_release: pbReleaseCalls,
        auth_calls: auth,
      },
      http_1c: { calls_per_booking: httpAfterBooking / BOOKINGS, calls_per_release: (onec.calls.length - httpAfterBooking) / BOOKINGS },
    };
    console.log(`Profitbase: ${result.profitbase.requests} requests in ${result.profitbase.seconds} s from ${WORKERS} workers = ${result.profitbase.rps}/s; at most ${maxInAnySecond} in any second; closest two ${result.profitbase.min_gap_ms} ms apart; 429s ${result.profitbase.rate_limited}; IP blocked: ${result.profitbase.ip_blocked}`);
    console.log(`Calls per booking: Profitbase ${pbBookingCalls} (find, attach, deadline), 1C ${result.http_1c.calls_per_booking}; per release: Profitbase ${pbReleaseCalls} (holder check, detach), 1C ${result.http_1c.calls_per_release}`);
    console.log(JSON.stringify(result));
  } finally {
    await pb.stop();
    await onec.stop();
    const keys = await scanKeys(redis, `${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await redisServer.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
