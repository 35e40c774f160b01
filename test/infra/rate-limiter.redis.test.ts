import { spawn } from 'node:child_process';
import path from 'node:path';
import { connectRedis } from '../../src/infra/redis';
import { redisUrl } from '../helpers/test-services';

function runChild(key: string, count: number): Promise<number[]> {
  const script = path.join(__dirname, '..', 'helpers', 'limiter-child.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), script, redisUrl(), key, String(count), '50', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe('the per-installation rate limiter shared through Redis', () => {
  const key = `reglament-test-limiter:${process.pid}:${Date.now()}`;
  afterAll(async () => {
    const redis = connectRedis(redisUrl());
    await redis.del(key);
    await redis.quit();
  });

  it('holds Bitrix24 2 requests/s with a burst of 50 across two worker processes', async () => {
    const [a, b] = await Promise.all([runChild(key, 32), runChild(key, 32)]);
    const grants = [...a!, ...b!].sort((x, y) => x - y);
    expect(grants).toHaveLength(64);
    const start = grants[0]!;
    // The bucket never lets more than 50 + 2/s·t requests through by time t (1 request of slack for rounding).
    grants.forEach((at, i) => {
      const allowed = 50 + 2 * ((at - start) / 1000) + 1;
      expect(i + 1).toBeLessThanOrEqual(allowed);
    });
    // Both processes got a share, and the 14 requests past the burst needed the drain (~7 s at 2/s).
    expect(a!.length).toBe(32);
    expect(b!.length).toBe(32);
    expect(grants[63]! - start).toBeGreaterThanOrEqual(6000);
  }, 30000);
});
