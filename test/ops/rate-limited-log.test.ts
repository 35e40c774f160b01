import { Writable } from 'node:stream';
import pino from 'pino';
import { RateLimitedLog } from '../../src/observability/rate-limited-log';
import { describeConfig, readConfig } from '../../src/config';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('a refused webhook leaves one log line per reason and minute', () => {
  it.each([
    // [seconds of each refusal, reason of each, lines written, suppressed counts carried by them]
    ['one refusal', [0], ['forged'], 1, [0]],
    ['a flood of one reason within a minute', [0, 1, 2, 30, 59], ['forged', 'forged', 'forged', 'forged', 'forged'], 1, [0]],
    ['the next minute tells how many were suppressed', [0, 1, 2, 60], ['forged', 'forged', 'forged', 'forged'], 2, [0, 2]],
    ['two reasons are two lines', [0, 1, 2], ['forged', 'malformed', 'forged'], 2, [0, 0]],
  ])('%s', async (_case, seconds, reasons, lineCount, suppressed) => {
    const { log, lines } = capture();
    let now = 0;
    const refusals = new RateLimitedLog(log, 60_000, () => now);
    seconds.forEach((s, i) => {
      now = s * 1000;
      refusals.warn(reasons[i]!, { reason: reasons[i] }, 'webhook refused');
    });
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(lineCount);
    expect(lines.map((l) => l.suppressedSinceLast)).toEqual(suppressed);
  });
});

describe('the configuration the worker logs at start', () => {
  it('shows settings and only whether each secret is set', () => {
    const key = 'k'.repeat(44);
    const shown = describeConfig(readConfig({ TOKEN_ENCRYPTION_KEY: key, BITRIX24_CLIENT_SECRET: 'b24-secret', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'pw', REDIS_URL: 'redis://user:pa55@redis.internal:6379' } as NodeJS.ProcessEnv));
    expect(shown).toMatchObject({ TOKEN_ENCRYPTION_KEY: '(set)', BITRIX24_CLIENT_SECRET: '(set)', AMOCRM_CLIENT_SECRET: '(not set)', DASHBOARD_PASSWORD: '(set)', DASHBOARD_USER: 'ops', REDIS_URL: 'redis://***@redis.internal:6379', JOB_LOCK_MS: 8000 });
    const text = JSON.stringify(shown);
    for (const secret of [key, 'b24-secret', 'pa55', '"pw"']) expect(text).not.toContain(secret);
  });
});
