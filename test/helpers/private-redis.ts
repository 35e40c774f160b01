import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/infra/free-port';
import { answersPing, privateRedisArgs } from '../../src/infra/redis';

/**
 * A redis-server of the test's own (no persistence) on a free port, which the test may freeze
 * (`kill -STOP`: the TCP connection stays open and nothing answers), thaw, stop and start again.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
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

  async restart(): Promise<void> {
    this.child = spawn('redis-server', privateRedisArgs(this.port), { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await answersPing(this.url, 300)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }
}
