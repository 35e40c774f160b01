import type { Server } from 'node:http';
import { describeConfig, readConfig } from '../src/config';
import { resolveRedis } from '../src/infra/redis';
import { migrateLegacyKeyLayout } from '../src/installations/key-layout-migration';
import { createLogger } from '../src/log';
import { serveMetrics } from '../src/observability/metrics-server';
import { recoveryOptions, runWorkers, type RunningWorkers } from '../src/pipeline/run-workers';
import { createServices, type Services } from '../src/services';
import { createWebApp } from '../webhooks/server';

/**
 * Starts the web process, the worker process, or both in one (`npm start`), and shuts down
 * gracefully on SIGTERM/SIGINT: stop taking requests, let running jobs finish, close Redis.
 */
export async function startProcess(roles: { web: boolean; worker: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<{ services: Services; stop(): Promise<void> }> {
  const config = readConfig(env);
  const log = createLogger(config.LOG_LEVEL);
  const redis = await resolveRedis(env);
  const services = createServices(config, redis.url, log);
  let server: Server | undefined;
  let metricsServer: Server | undefined;
  let workers: RunningWorkers | undefined;
  if (roles.worker) {
    await migrateLegacyKeyLayout(services.redis, services.prefix, log);
    log.info(
      { config: describeConfig({ ...config, REDIS_URL: redis.url }), redisSource: redis.source, recovery: recoveryOptions(config), withWeb: roles.web },
      'worker starting',
    );
    workers = runWorkers(services);
    // With the web role in the same process, the web port's /metrics already shows the worker's.
    if (!roles.web && config.METRICS_PORT) {
      metricsServer = await serveMetrics(config.METRICS_PORT);
      log.info({ port: config.METRICS_PORT }, 'worker metrics at /metrics');
    }
  }
  if (roles.web) {
    server = createWebApp(services).listen(config.PORT, () => log.info({ port: config.PORT, publicUrl: config.PUBLIC_URL }, 'web listening'));
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      metricsServer?.close();
      await workers?.close();
      await services.close();
      await redis.stop();
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      void stop().then(() => process.exit(0));
    });
  }
  return { services, stop };
}
