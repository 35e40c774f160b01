import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/infra/free-port';
import { answersPing, privateRedisArgs, Redis } from '../../src/infra/redis';

/**
 * A redis-server of the test's own (no persistence) on a free port, which the test may freeze
 * (`kill -STOP`: the TCP connection stays open and nothing answers), thaw, stop and start again.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    /** Set for a cluster node: the directory of its `nodes.conf`. */
    private readonly clusterDir: string | null = null,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /**
   * A Redis Cluster of one node (`--cluster-enabled yes`) holding all 16384 slots. One node serves
   * every key, so a plain client works, yet the server still judges every command as a cluster
   * does: a MULTI, a Lua script or a multi-key command whose keys hash to different slots is
   * refused with CROSSSLOT. Running the app against it proves its key layout is cluster-ready.
   */
  static async startCluster(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(path.join(tmpdir(), 'reglament-cluster-')));
    await redis.restart();
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      for (let i = 0; i < 100 && !String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) await new Promise((r) => setTimeout(r, 50));
      if (!String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) throw new Error('the one-node cluster did not reach cluster_state:ok');
    } finally {
      admin.disconnect();
    }
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the server (connections are refused until `restart`). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the server for good and removes a cluster node's directory. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.clusterDir) rmSync(this.clusterDir, { recursive: true, force: true });
  }

  async restart(): Promise<void> {
    const cluster = this.clusterDir ? ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(this.clusterDir, 'nodes.conf'), '--dir', this.clusterDir] : [];
    this.child = spawn('redis-server', [...privateRedisArgs(this.port), ...cluster], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await answersPing(this.url, 300)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }
}
