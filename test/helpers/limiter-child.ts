/**
 * A stand-in worker process for the rate-limiter test: takes `count` tokens from the shared
 * bucket as fast as it is allowed and prints the Redis-clock time of each grant.
 */
import { RedisRateLimiter } from '../../src/infra/rate-limiter';
import { connectRedis } from '../../src/infra/redis';

async function main() {
  const [url, key, count, burst, perSecond] = process.argv.slice(2);
  const redis = connectRedis(url!);
  const limiter = new RedisRateLimiter(redis);
  const grants: number[] = [];
  for (let i = 0; i < Number(count); i++) {
    await limiter.acquire(key!, { burst: Number(burst), perSecond: Number(perSecond) });
    const [sec, micro] = await redis.time();
    grants.push(Number(sec) * 1000 + Math.floor(Number(micro) / 1000));
  }
  process.stdout.write(JSON.stringify(grants));
  await redis.quit();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
