import { childEnvOf } from './child-env';
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type RequestListener } from 'node:http';
import path from 'node:path';
import type { AppConfig } from '../../src/config';

export type Role = 'web' | 'worker';

const START_LINES: Record<Role, string> = { web: '"web listening"', worker: '"worker starting"' };

/**
 * `bin/web.ts` or `bin/worker.ts` as a process of its own, as the Procfile starts them, with the
 * configuration of a local stack (same Redis, prefix, encryption key and CRM apps).
 */
export class AppProcess {
  readonly exited: Promise<void>;

  private constructor(
    readonly role: Role,
    private readonly child: ChildProcess,
    readonly ready: Promise<boolean>,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts the process and resolves once it is serving (web) or its workers run (worker). */
  static async start(role: Role, config: AppConfig, redisUrl: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<AppProcess> {
    const root = path.join(__dirname, '..', '..');
    const env = childEnvOf(config, redisUrl, extraEnv);
    // Node itself with tsx's loader, so a kill reaches the process that runs the app.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bin', `${role}.ts`)], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let resolveReady: (ready: boolean) => void = () => {};
    const ready = new Promise<boolean>((resolve) => (resolveReady = resolve));
    const started = new AppProcess(role, child, ready);
    // Read until the start line, then keep draining (a full pipe would stall the child).
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      if (seen === null) return;
      seen += chunk;
      if (seen.includes(START_LINES[role])) {
        resolveReady(true);
        seen = null as unknown as string;
      }
    });
    void started.exited.then(() => resolveReady(false));
    if (!(await ready)) throw new Error(`the ${role} process exited before it started`);
    return started;
  }

  /** SIGTERM: the graceful shutdown of a deploy; resolves when the process is gone. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * A round-robin HTTP load balancer in front of web processes (what a deployment puts before
 * them). `served` counts the requests each backend answered.
 */
export function roundRobin(backends: string[]): RequestListener & { served: Map<string, number> } {
  const served = new Map(backends.map((b) => [b, 0]));
  let next = 0;
  const listener: RequestListener = (req, res) => {
    const backend = backends[next++ % backends.length]!;
    served.set(backend, (served.get(backend) ?? 0) + 1);
    const url = new URL(req.url ?? '/', backend);
    const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };
  return Object.assign(listener, { served });
}
