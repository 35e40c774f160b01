import { readConfig } from '../src/config';
import { resolveRedis } from '../src/infra/redis';
import { createLogger } from '../src/log';
import { createServices, type Services } from '../src/services';

/** Runs an operator command with the app's services (same environment as the app: `.env`, REDIS_URL…), then closes them. */
export async function withServices<T>(run: (services: Services) => Promise<T>): Promise<T> {
  const config = readConfig(process.env);
  const redis = await resolveRedis();
  const services = createServices(config, redis.url, createLogger('warn'));
  try {
    return await run(services);
  } finally {
    await services.close();
    await redis.stop();
  }
}

/** Prints the message and exits with `code` (1 = refused, 2 = usage). */
export function fail(message: string, code = 1): never {
  console.error(message);
  process.exit(code);
}

export const INSTALLATION_ID_FORMS = 'b24:<member_id> (Bitrix24 portal) or amo:<account_id> (amoCRM account); `npm run installations` lists them';

export function runCli(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
