import { readConfig } from '../src/config';
import { resolveRedis } from '../src/infra/redis';
import { parseInstallationId } from '../src/installations/installation';
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

export const INSTALLATION_ID_FORMS = 'b24:<member_id> (Bitrix24 portal, 32 hex characters) or amo:<account_id> (amoCRM account, digits); `npm run installations` lists them';

/** An installation id from the command line, validated before it touches a key (exit 2 otherwise). */
export function installationIdArg(raw: string): string {
  try {
    return parseInstallationId(raw).id;
  } catch {
    return fail(`"${raw}" is not an installation id. Ids are ${INSTALLATION_ID_FORMS}.`, 2);
  }
}

export function runCli(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
