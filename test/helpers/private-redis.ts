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
    const [node] = await PrivateRedis.startClusterNodes(1);
    return node!;
  }

  /**
   * A Redis Cluster of `count` masters on 127.0.0.1, the 16384 slots split evenly between them
   * (no replicas). Reach it with a Cluster client (`REDIS_CLUSTER=on`) seeded with any node's url.
   */
  static async startClusterNodes(count: number): Promise<PrivateRedis[]> {
    const nodes: PrivateRedis[] = [];
    for (let i = 0; i < count; i++) {
      const node = new PrivateRedis(await freePort(), mkdtempSync(path.join(tmpdir(), 'reglament-cluster-')));
      await node.restart();
      nodes.push(node);
    }
    const admins = nodes.map((node) => new Redis(node.url, { maxRetriesPerRequest: 1 }));
    try {
      const perNode = Math.ceil(16384 / count);
      for (const [i, admin] of admins.entries()) {
        await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(i * perNode), String(Math.min(16383, (i + 1) * perNode - 1)));
        if (i > 0) await admin.call('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port));
      }
      const ok = async () => (await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO')))).every((info) => String(info).includes('cluster_state:ok') && String(info).includes(`cluster_known_nodes:${count}`));
      for (let i = 0; i < 200 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 50));
      if (!(await ok())) throw new Error(`the ${count}-node cluster did not reach cluster_state:ok`);
    } finally {
      for (const admin of admins) admin.disconnect();
    }
    return nodes;
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
