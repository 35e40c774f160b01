import { randomUUID } from 'node:crypto';
import { signWidgetToken } from '../helpers/amocrm-widget-token';
import type { LocalStack } from '../helpers/local-stack';

export { signWidgetToken };

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are dynamic by nature */
export type Json = any;

/** What the portal POSTs into the card tab's iframe, sent to the bound handler (redirects not followed). */
export async function openTab(stack: LocalStack, placement: 'CRM_DEAL_DETAIL_TAB' | 'CRM_LEAD_DETAIL_TAB', id: number | string, userId: number, tamper: (f: { query: Record<string, string>; form: Record<string, string> }) => void = () => {}) {
  const frame = stack.portal.placementFrame(placement, id, userId);
  if (!frame.handler) throw new Error(`${placement} is not bound`);
  tamper(frame);
  const response = await fetch(`${frame.handler}?${new URLSearchParams(frame.query)}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(frame.form).toString(), redirect: 'manual',
  });
  const location = response.headers.get('location');
  const fragment = new URLSearchParams(location?.split('#')[1] ?? '');
  return { status: response.status, location, session: fragment.get('session'), role: fragment.get('role'), installation: fragment.get('installation') };
}

export function cardApi(stack: LocalStack, session: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.appUrl}${path}`, {
      method, headers: { authorization: `Bearer ${session}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json().catch(() => ({}))) as Json };
  };
  return {
    log: (installationId: string, entity: string, id: number | string) => call('GET', `/api/card/${encodeURIComponent(installationId)}/${entity}/${id}/log`),
    undo: (installationId: string, actionId: string, reason?: string) => call('POST', `/api/card/${encodeURIComponent(installationId)}/actions/${actionId}/undo`, reason ? { reason } : {}),
  };
}

/** The widget in a lead card trades a fresh signed token of `userId` for a card session of that lead. */
export async function widgetCardSession(stack: LocalStack, userId: number, leadId: number | string, token?: string) {
  const config = stack.services.config;
  const now = Math.floor(Date.now() / 1000);
  const signed = token ?? signWidgetToken({
    iss: 'https://developer.amocrm.ru', aud: new URL(config.AMOCRM_REDIRECT_URI ?? config.PUBLIC_URL).origin, jti: randomUUID(), iat: now, nbf: now, exp: now + 600,
    account_id: stack.amo.accountId, subdomain: 'developer', client_uuid: config.AMOCRM_CLIENT_ID, user_id: userId,
  }, config.AMOCRM_CLIENT_SECRET!);
  const response = await fetch(`${stack.appUrl}/amocrm/widget/card-session`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-auth-token': signed, origin: new URL(stack.amo.url).origin }, body: JSON.stringify({ leadId }),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Json, token: signed };
}

/**
 * The amoCRM scenario every card test starts from: a lead with its meeting set (date, time, place)
 * moved by its manager from «Встреча назначена» straight to «Отправлено КП», skipping «Встреча
 * состоялась» — the stage guard puts it back. Returns the lead's id.
 */
export async function amoLeadRevertedByGuard(stack: LocalStack, stage: (name: string) => number, pipelineId: number, managerId: number): Promise<number> {
  const field = (name: string) => stack.amo.leadFieldId(name);
  const meeting = [
    { field_id: field('Дата встречи'), values: [{ value: 1795600000 }] },
    { field_id: field('Время встречи'), values: [{ value: '15:00' }] },
    { field_id: field('Место встречи'), values: [{ value: 'офис продаж на Ленина, 1' }] },
  ];
  const id = stack.amo.userAddLead({ name: 'Заявка', pipeline_id: pipelineId, status_id: stage('Встреча назначена'), responsible_user_id: managerId, custom_fields_values: meeting }, managerId);
  await stack.idle();
  stack.amo.userMoveLead(id, stage('Отправлено КП'), managerId);
  await stack.idle();
  return id;
}
