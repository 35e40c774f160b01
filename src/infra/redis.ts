import { spawn, spawnSync } from 'node:child_process';
import { freePort } from './free-port';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export { Redis };

/** Where the app's Redis is: a server, or (`cluster`) one node of a Redis Cluster. */
export interface RedisTarget {
  url: string;
  cluster?: boolean;
}

/**
 * A connection for BullMQ workers. `maxRetriesPerRequest: null` is what BullMQ requires for
 * them (its blocking commands must not be cut short), so commands on it wait out an outage.
 */
export function connectRedis(target: string | RedisTarget, options: RedisOptions = {}): Redis {
  return connect(target, { maxRetriesPerRequest: null, ...options });
}

/**
 * One server, or a Cluster client seeded with the named node. The Cluster client is typed as
 * `Redis`: it speaks the same commands, and the app's key layout keeps every multi-key command
 * within one slot (README: Deployment). The one command that differs, SCAN (one node only), is
 * handled where it is used (`scanKeys` walks every master).
 */
function connect(target: string | RedisTarget, options: RedisOptions): Redis {
  const { url, cluster } = typeof target === 'string' ? { url: target, cluster: false } : target;
  if (!cluster) return new Redis(url, options);
  const seed = new URL(url);
  const { enableOfflineQueue, ...nodeOptions } = options;
  const auth = { username: seed.username ? decodeURIComponent(seed.username) : undefined, password: seed.password ? decodeURIComponent(seed.password) : undefined };
  const client = new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    redisOptions: { ...nodeOptions, ...auth },
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
  });
  return client as unknown as Redis;
}

/**
 * A connection whose every command ends within `commandTimeoutMs`, answered or not: the app's
 * own keys and the queue producers. The HTTP edge reads and enqueues through these, so a Redis
 * that is down (refused, or frozen with the TCP connection still open) turns into an error the
 * edge answers 503 with, never into a request that waits forever. Never for BullMQ workers.
 */
export function connectBoundedRedis(target: string | RedisTarget, commandTimeoutMs: number, options: RedisOptions = {}): Redis {
  return connect(target, {
    // A frozen server keeps the socket open and never answers: only a client-side timeout ends that.
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
    // Unreachable: a command queued while reconnecting fails after one retry instead of waiting.
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
}

export interface ResolvedRedis {
  url: string;
  /** Where it came from, for the one line the demo prints. */
  source: 'REDIS_URL' | 'local' | 'private';
  stop(): Promise<void>;
}

const LOCAL_URL = 'redis://127.0.0.1:6379';

/**
 * Finds a Redis for the demo, the tests and `npm start`: `REDIS_URL` if set; else
 * 127.0.0.1:6379 if it answers; else a `redis-server` from PATH started privately without
 * persistence (stopped by `stop()` and on exit); else one clear error telling how to install it.
 */
export async function resolveRedis(env: NodeJS.ProcessEnv = process.env): Promise<ResolvedRedis> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, source: 'REDIS_URL', stop: async () => {} };
  if (await answersPing(LOCAL_URL)) return { url: LOCAL_URL, source: 'local', stop: async () => {} };
  if (!hasRedisServer()) {
    throw new Error(
      'Redis is required and none answers on 127.0.0.1:6379. Install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL.',
    );
  }
  return startPrivateRedis();
}

/** True when a Redis at `url` answers PING within `connectTimeoutMs` (never retries, never throws). */
export async function answersPing(url: string, connectTimeoutMs = 500): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: connectTimeoutMs, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A redis-server on 127.0.0.1 that keeps nothing on disk. */
export function privateRedisArgs(port: number): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A redis-server of our own (benchmarks that must not share Redis with unrelated load); stopped by `stop()`. */
export async function startPrivateRedis(): Promise<ResolvedRedis> {
  const port = await freePort();
  const child = spawn('redis-server', privateRedisArgs(port), {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const stopChild = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', stopChild);
  for (let i = 0; i < 50; i++) {
    if (await answersPing(url)) {
      return {
        url,
        source: 'private',
        stop: async () => {
          process.off('exit', stopChild);
          stopChild();
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  stopChild();
  throw new Error(`redis-server was started on port ${port} but did not answer`);
}
