/**
 * The emulated account's Digital Pipeline: a widget action placed on a stage POSTs the documented
 * JSON to the widget's webhook_url when a lead enters the stage, by a user's move or through the
 * API, once and without retries (developers.kommo.com/docs/widgets-dp, /docs/webhooks-dp).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AmoCrmAccountEmulator } from './amocrm-account';

const APP = { clientId: '6f1c1a0e-2b2a-4a55-9d0e-3c2a1b0f9e11', clientSecret: 'secret-xyz', redirectUri: 'http://127.0.0.1:3000/amocrm/oauth/callback' };

async function receiver(status: number) {
  const received: Array<{ contentType: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ contentType: String(req.headers['content-type'] ?? ''), body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/amocrm/dp`,
    received,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

describe('amoCRM emulator — a widget action in the Digital Pipeline', () => {
  let amo: AmoCrmAccountEmulator;
  beforeEach(async () => {
    amo = await AmoCrmAccountEmulator.start({ ...APP, retryDelaysMs: [50, 50] });
  });
  afterEach(() => amo.stop());

  it('a user moving a lead into the stage sends the documented JSON with the saved settings; other stages send nothing', async () => {
    const rcv = await receiver(200);
    try {
      const target = amo.statusId('Переговоры');
      amo.adminPlacesWidgetDpAction(target, { action: 'rename_deal', reglament_key: 'k' }, rcv.url);
      const id = amo.userAddLead({ name: 'x' });
      amo.userMoveLead(id, amo.statusId('Принимают решение'));
      await amo.settle();
      expect(rcv.received).toEqual([]);
      amo.userMoveLead(id, target);
      await amo.settle();
      expect(rcv.received).toHaveLength(1);
      expect(rcv.received[0]!.contentType).toBe('application/json');
      expect(JSON.parse(rcv.received[0]!.body)).toEqual({
        event: { type: 14, type_code: 'lead_status_changed', data: { id, element_type: 2, status_id: target, pipeline_id: amo.mainPipeline().id, direction_of_movement: 'went_to_trigger' }, time: expect.any(Number) },
        action: { settings: { widget: { settings: { action: 'rename_deal', reglament_key: 'k' } } } },
        subdomain: amo.subdomain,
        account_id: amo.accountId,
      });
    } finally {
      await rcv.close();
    }
  });

  it('an API PATCH into the stage triggers it too; a failed answer is not retried', async () => {
    const rcv = await receiver(500);
    try {
      const target = amo.statusId('Переговоры');
      amo.adminPlacesWidgetDpAction(target, { action: 'check_transition' }, rcv.url);
      const id = amo.userAddLead({ name: 'x' });
      const { code } = amo.authorize();
      const tokens = (await (await fetch(`${amo.url}/oauth2/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: APP.clientId, client_secret: APP.clientSecret, redirect_uri: APP.redirectUri, grant_type: 'authorization_code', code }),
      })).json()) as { access_token: string };
      const patch = await fetch(`${amo.url}/api/v4/leads/${id}`, { method: 'PATCH', headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ status_id: target }) });
      expect(patch.status).toBe(200);
      await amo.settle();
      await new Promise((r) => setTimeout(r, 300)); // longer than the account webhooks' retry delays here
      expect(rcv.received).toHaveLength(1);
      expect(amo.dpDeliveries.map((d) => d.status)).toEqual([500]);
    } finally {
      await rcv.close();
    }
  });
});
