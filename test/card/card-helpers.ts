import type { LocalStack } from '../helpers/local-stack';

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
