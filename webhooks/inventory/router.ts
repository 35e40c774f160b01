import { createHmac, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { inventoryConnectionOf } from '../../src/inventory/inventories';
import { unitChangeSchema } from '../../src/inventory/inventory-jobs';
import type { Services } from '../../src/services';

const INSTALLATION_ID = /^(b24:[A-Za-z0-9]{1,64}|amo:[0-9]{1,20})$/;

/**
 * Signed push callbacks of a 1C inventory service (apps/inventory-http/openapi.yaml, `webhooks`):
 * `X-Reglament-Signature: sha256=<HMAC-SHA256 of the raw body>` under the installation's
 * `callbackSecret`. Verified, validated, enqueued; the worker decides what it means.
 */
export function inventoryRouter(services: Services): Router {
  const router = Router();
  router.post('/inventory/callbacks/:installationId', express.raw({ type: () => true, limit: '64kb' }), async (req: Request, res: Response) => {
    const installationId = String(req.params.installationId ?? '');
    if (!INSTALLATION_ID.test(installationId)) return void res.status(400).json({ error: 'bad_installation_id' });
    const installation = await services.store.find(installationId);
    let secret: string | undefined;
    try {
      const connection = installation ? inventoryConnectionOf(installation) : null;
      secret = connection?.system === 'http' ? connection.callbackSecret : undefined;
    } catch {
      secret = undefined;
    }
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const given = /^sha256=([0-9a-f]{64})$/.exec(String(req.header('x-reglament-signature') ?? ''))?.[1];
    const expected = secret ? createHmac('sha256', secret).update(raw).digest() : null;
    // Unknown installation, no callbacks configured, or a wrong signature: the same 401.
    if (!installation || !expected || !given || !timingSafeEqual(Buffer.from(given, 'hex'), expected)) return void res.status(401).json({ error: 'invalid_signature' });
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return void res.status(400).json({ error: 'malformed_body', reason: 'not JSON' });
    }
    const parsed = unitChangeSchema.safeParse(body);
    if (!parsed.success) return void res.status(400).json({ error: 'malformed_body', reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    await services.inventoryJobs.add('change', { kind: 'change', installationId, change: parsed.data }, {
      jobId: `change|${installationId}|${parsed.data.unitId}|${parsed.data.version}`.replace(/:/g, '~'),
      attempts: services.config.JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: services.config.JOB_BACKOFF_MS },
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 14 * 86_400 },
    });
    res.status(202).json({ ok: true });
  });
  return router;
}
