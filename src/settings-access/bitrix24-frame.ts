import { z } from 'zod';
import { bitrix24InstallationId, memberIdSchema, type Bitrix24Installation } from '../installations/installation';
import type { InstallationStore } from '../installations/installation-store';

/**
 * What Bitrix24 POSTs into the iframe when a user opens the app (placement DEFAULT): the query
 * carries DOMAIN, PROTOCOL, LANG, APP_SID; the form body the signed-in user's own OAuth pair
 * (AUTH_ID, REFRESH_ID, AUTH_EXPIRES), member_id, status, PLACEMENT, PLACEMENT_OPTIONS
 * (restdocs: "application page" / placement DEFAULT). None of it is trusted until the portal
 * itself answers to AUTH_ID.
 */
export const bitrix24FrameSchema = z.object({
  query: z.object({
    DOMAIN: z.string().min(1).max(253),
    PROTOCOL: z.enum(['0', '1']).default('1'),
    LANG: z.string().max(5).optional(),
    APP_SID: z.string().max(64).optional(),
  }),
  body: z.object({
    AUTH_ID: z.string().min(1).max(512),
    REFRESH_ID: z.string().max(512).optional(),
    member_id: memberIdSchema,
    PLACEMENT: z.string().max(64).optional(),
  }),
});
export type Bitrix24Frame = z.infer<typeof bitrix24FrameSchema>;

/**
 * `profile` (restdocs api-reference/common/users/profile.md: ID, ADMIN) and `app.info` (CODE) asked in one
 * `batch` (restdocs settings/how-to-call-rest-api/batch.md): one request of the portal's budget per page open.
 */
const batchAnswerSchema = z.object({
  result: z.object({
    result: z.object({
      profile: z.object({ ID: z.coerce.string().regex(/^\d+$/), ADMIN: z.boolean() }),
      app: z.object({ CODE: z.string() }),
    }),
  }),
});

export type FrameVerdict =
  | { ok: true; installation: Bitrix24Installation; user: { id: string; isAdmin: boolean }; lang: 'ru' | 'en'; also: Record<string, unknown> }
  | { ok: false; status: 400 | 401 | 403 | 502; reason: string };

/** Errors that mean "this token is not valid here" (restdocs: expired_token, invalid_token, NO_AUTH_FOUND…). */
const TOKEN_REFUSED = new Set(['expired_token', 'invalid_token', 'NO_AUTH_FOUND', 'WRONG_AUTH_TYPE', 'INVALID_CREDENTIALS', 'authorization_error', 'ACCESS_DENIED']);

export interface FrameVerifierDeps {
  store: Pick<InstallationStore, 'find'>;
  /** `app.info` → CODE of our app: the local app's client_id, or the marketplace app code. */
  appCodes: readonly string[];
  /** Waits for a slot of the portal's REST budget (the app's shared limiter) before the call. */
  beforeCall?: (installation: Bitrix24Installation) => Promise<void>;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** More commands asked with the user's token in the same batch (after profile and app.info); their answers come back in `also`. */
  also?: Record<string, string>;
}

/**
 * Who opened the app page, as the portal says. Order matters for safety:
 *  1. the installation is found by member_id (validated before it touches a key);
 *  2. the DOMAIN the request names must be that installation's portal: we never call a host an
 *     anonymous request chose — the calls go to the endpoint stored at install time;
 *  3. `profile` with AUTH_ID must answer there (the token is a live token of that portal) and says
 *     who the user is and whether they are an administrator;
 *  4. `app.info` with the same token must name our app (a token of another app on the same portal
 *     is refused). app.info does not return member_id; the binding to member_id is step 2+3: only
 *     the stored portal, the one that installed us under that member_id, accepted the token.
 * Steps 3 and 4 travel as one `batch` request.
 */
export async function verifyBitrix24Frame(raw: { query: unknown; body: unknown }, deps: FrameVerifierDeps): Promise<FrameVerdict> {
  const parsed = bitrix24FrameSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, status: 400, reason: 'malformed_frame_request' };
  const { query, body } = parsed.data;
  const installation = await deps.store.find(bitrix24InstallationId(body.member_id));
  if (!installation || installation.crm !== 'bitrix24') return { ok: false, status: 401, reason: 'unknown_installation' };
  if (installation.status !== 'active') return { ok: false, status: 403, reason: 'installation_revoked' };
  if (query.DOMAIN.toLowerCase() !== installation.domain.toLowerCase()) return { ok: false, status: 401, reason: 'domain_mismatch' };
  await deps.beforeCall?.(installation);
  const answer = await askPortal(installation.clientEndpoint, body.AUTH_ID, deps, deps.also ?? {});
  if (answer.kind === 'refused') return { ok: false, status: 401, reason: 'portal_refused_token' };
  if (answer.kind === 'unreachable') return { ok: false, status: 502, reason: 'portal_unreachable' };
  const answered = batchAnswerSchema.safeParse(answer.body);
  // A sub-command that failed (its error is in result_error) leaves its key out of `result`.
  if (!answered.success) return { ok: false, status: 401, reason: 'portal_refused_token' };
  const { profile, app } = answered.data.result.result;
  if (!deps.appCodes.includes(app.CODE)) return { ok: false, status: 401, reason: 'token_of_another_app' };
  const lang = query.LANG?.toLowerCase().startsWith('en') ? 'en' : 'ru';
  const results = (answer.body as { result: { result: Record<string, unknown> } }).result.result;
  const also = Object.fromEntries(Object.keys(deps.also ?? {}).filter((k) => k in results).map((k) => [k, results[k]]));
  return { ok: true, installation, user: { id: profile.ID, isAdmin: profile.ADMIN }, lang, also };
}

type PortalAnswer = { kind: 'answered'; body: unknown } | { kind: 'refused' } | { kind: 'unreachable' };

/** The batch with the user's token; a refused token and an unreachable portal are told apart (401 vs 502). */
async function askPortal(endpoint: string, authId: string, deps: FrameVerifierDeps, also: Record<string, string>): Promise<PortalAnswer> {
  try {
    const response = await (deps.fetch ?? fetch)(new URL('batch.json', endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: authId, halt: 1, cmd: { profile: 'profile', app: 'app.info', ...also } }),
      redirect: 'error',
      signal: AbortSignal.timeout(deps.timeoutMs ?? 5000),
    });
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    if (response.ok && body) return { kind: 'answered', body };
    if (response.status === 401 || (body?.error && TOKEN_REFUSED.has(body.error))) return { kind: 'refused' };
    return { kind: 'unreachable' };
  } catch {
    return { kind: 'unreachable' };
  }
}
