import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { redisUrl, TEST_ENCRYPTION_KEY } from './test-services';

const run = promisify(execFile);
const root = path.join(__dirname, '..', '..');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an operator command (`scripts/<script>`) as its own process, as `npm run …` would, against
 * the test's Redis prefix; a non-zero exit is returned, not thrown.
 */
export async function operatorCommand(prefix: string, script: string, ...args: string[]): Promise<CommandResult> {
  return operatorCommandWith({ REDIS_PREFIX: prefix, TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY }, script, ...args);
}

/** `operatorCommand` with the app's environment given (a local stack's prefix and token key, to reach its CRM emulators). */
export async function operatorCommandWith(appEnv: { REDIS_PREFIX: string; TOKEN_ENCRYPTION_KEY: string }, script: string, ...args: string[]): Promise<CommandResult> {
  const env = { ...process.env, REDIS_URL: redisUrl(), ...appEnv, NODE_ENV: 'test' };
  try {
    const { stdout, stderr } = await run(process.execPath, [require.resolve('tsx/cli'), path.join(root, 'scripts', script), ...args], { env, cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
