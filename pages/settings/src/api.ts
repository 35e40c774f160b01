/**
 * The page's connection to the app: the session arrives in the URL fragment (never sent to a server),
 * is moved to memory + sessionStorage (the frame may reload) and sent as `Authorization: Bearer`.
 * No cookies: inside the CRM's iframe the app is a third party.
 */
export interface Session {
  installation: string;
  token: string;
}

const STORAGE_KEY = 'reglament.settings.session';

export function takeSession(): { session: Session | null; lang: 'ru' | 'en' } {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const lang = fragment.get('lang') === 'en' ? 'en' : 'ru';
  const installation = fragment.get('installation');
  const token = fragment.get('session');
  if (installation && token) {
    const session = { installation, token };
    try { sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session)); } catch { /* storage may be blocked in a third-party frame */ }
    history.replaceState(null, '', location.pathname + location.search);
    return { session, lang };
  }
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null;
    return { session: stored, lang };
  } catch {
    return { session: null, lang };
  }
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.error ?? status));
  }
}

export function apiClient(session: Session) {
  const call = async (method: string, path: string, lang: string, body?: unknown) => {
    const response = await fetch(`${path}${path.includes('?') ? '&' : '?'}lang=${lang}`, {
      method,
      headers: { Authorization: `Bearer ${session.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw new ApiError(response.status, json);
    return json;
  };
  const id = encodeURIComponent(session.installation);
  return {
    schema: () => fetch('/api/settings/schema').then((r) => r.json()),
    read: (lang: string) => call('GET', `/api/settings/${id}`, lang),
    save: (lang: string, changes: Array<{ path: string; value: unknown }>) => call('PATCH', `/api/settings/${id}`, lang, { changes }),
    funnels: (lang: string) => call('GET', `/api/crm/${id}/funnels`, lang),
    fields: (lang: string, entity: 'deal' | 'lead') => call('GET', `/api/crm/${id}/fields?entity=${entity}`, lang),
    users: (lang: string) => call('GET', `/api/crm/${id}/users`, lang),
    // The regulation's dry run and switch (components/DryRun.vue).
    presets: (lang: string) => call('GET', `/api/regulation/${id}/presets`, lang),
    dryRun: (lang: string, body: Record<string, unknown>) => call('POST', `/api/regulation/${id}/dry-run`, lang, body),
    enableRegulation: (lang: string, body: Record<string, unknown>) => call('POST', `/api/regulation/${id}/enable`, lang, body),
    /** Any other call of the settings API, with the session; `{id}` in the path is this installation. */
    request: (method: string, path: string, lang: string, body?: unknown) => call(method, path.replace('{id}', id), lang, body),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
