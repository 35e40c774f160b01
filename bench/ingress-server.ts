/**
 * The server side of `npm run bench:ingress`, run in its own process so the load generator does
 * not share its event loop. Mode `app`: the real edge (verify, validate, enqueue). Mode `bare`:
 * an express handler that only parses the form body — the ceiling.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { readConfig } from '../src/config';
import { bitrix24InstallationRecord } from '../test/helpers/fixtures';
import { createLogger } from '../src/log';
import { createServices } from '../src/services';
import { createWebApp } from '../webhooks/server';
import { formText, parseForm } from '../webhooks/form-body';

const [mode, port, redisUrl, prefix, memberId, applicationToken] = process.argv.slice(2) as [string, string, string, string, string, string];

// SIGINT ends the process normally, so a --cpu-prof profile gets written.
process.on('SIGINT', () => process.exit(0));

// The load generator asks for this process's CPU time over the load: CPU per request is what the
// edge costs, and unlike requests/s it barely moves when other processes share the machine.
let cpuAtStart = process.cpuUsage();
process.on('message', (message) => {
  if (message === 'cpu-start') cpuAtStart = process.cpuUsage();
  if (message === 'cpu-stop') {
    const used = process.cpuUsage(cpuAtStart);
    process.send?.({ cpuMicros: used.user + used.system });
  }
});

async function main() {
  if (mode === 'bare') {
    const app = express();
    app.post('/bitrix24/events', formText, (req, res) => {
      parseForm(req.body);
      res.status(200).json({ ok: true });
    });
    app.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
    return;
  }
  const config = readConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://reglament.example', REDIS_PREFIX: prefix, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' } as NodeJS.ProcessEnv);
  const services = createServices(config, redisUrl, createLogger('silent'));
  await services.store.save(
    bitrix24InstallationRecord({ memberId, applicationToken, domain: 'bench.bitrix24.ru' }),
    { accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 3600_000 },
  );
  createWebApp(services).listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
