import { z } from 'zod';

/** OAuth pair of one installation. Refresh tokens are single-use on both CRMs. */
export const tokenSetSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  /** Epoch milliseconds. */
  expiresAt: z.number(),
});
export type TokenSet = z.infer<typeof tokenSetSchema>;

/**
 * Installation ids. They come from outside (webhook bodies, install requests, the command line)
 * and end up in Redis keys, so every id passes these rules before it touches a key:
 * - Bitrix24 `member_id`: the portal's 32-character hex id (`a223c6b3710f85df22e9377d6c4f7553` in the
 *   restdocs examples; Bitrix24 sends it lower-case, we accept either case and keep lower-case);
 * - amoCRM account id: a positive integer (`account[id]`, `/api/v4/account` → `id`).
 * The installation id is `b24:<member_id>` or `amo:<account_id>`: no glob characters, no braces.
 */
export const memberIdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{32}$/, 'must be a Bitrix24 member_id (32 hex characters)')
  .transform((v) => v.toLowerCase());
export const amocrmAccountIdSchema = z.coerce
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'must be an amoCRM account id (a positive integer)');

const INSTALLATION_ID = /^(?:b24:[0-9a-f]{32}|amo:[1-9][0-9]{0,15})$/;
export const installationIdSchema = z
  .string()
  .regex(INSTALLATION_ID, 'must be b24:<member_id> (32 lower-case hex) or amo:<account_id> (digits)');

export class InvalidInstallationIdError extends Error {
  constructor(readonly given: string) {
    super(`"${given.slice(0, 80)}" is not an installation id: b24:<member_id> (32 hex) or amo:<account_id> (digits)`);
    this.name = 'InvalidInstallationIdError';
  }
}

export type ParsedInstallationId = { crm: 'bitrix24'; memberId: string; id: string } | { crm: 'amocrm'; accountId: string; id: string };

/** `b24:<member_id>` | `amo:<account_id>` → its parts; throws InvalidInstallationIdError otherwise (for scripts and the key layer). */
export function parseInstallationId(raw: string): ParsedInstallationId {
  const [crm, ...rest] = String(raw).split(':');
  const value = rest.join(':');
  if (crm === 'b24') {
    const memberId = memberIdSchema.safeParse(value);
    if (memberId.success) return { crm: 'bitrix24', memberId: memberId.data, id: bitrix24InstallationId(memberId.data) };
  }
  if (crm === 'amo') {
    const accountId = amocrmAccountIdSchema.safeParse(value);
    if (accountId.success) return { crm: 'amocrm', accountId: accountId.data, id: amocrmInstallationId(accountId.data) };
  }
  throw new InvalidInstallationIdError(String(raw));
}

/** True for an id in its canonical form (what keys are built from). */
export const isInstallationId = (raw: string): boolean => INSTALLATION_ID.test(raw);

const common = {
  id: installationIdSchema,
  status: z.enum(['active', 'revoked']),
  revokedReason: z.string().optional(),
  installedAt: z.string(),
  /** Per-installation overrides of `config/robots.default.json`. */
  settings: z.record(z.string(), z.unknown()).default({}),
};

export const bitrix24InstallationSchema = z.object({
  ...common,
  crm: z.literal('bitrix24'),
  memberId: memberIdSchema,
  domain: z.string().min(1),
  /** REST base, e.g. https://portal.bitrix24.ru/rest/ (http only for PROTOCOL=0 portals such as the emulator). */
  clientEndpoint: z.string().url(),
  /** OAuth server REST base, e.g. https://oauth.bitrix.info/rest/ */
  serverEndpoint: z.string().url(),
  /** sha256 of auth[application_token]: we only need to recognise it. */
  applicationTokenHash: z.string().length(64),
  /** The user whose tokens the app holds (the installing admin). */
  userId: z.string().optional(),
  /**
   * Portal administrators known to the app. Bitrix24's user.get has no admin flag, so this is the
   * installing user when `profile` says ADMIN, plus whoever the integrator adds.
   */
  adminUserIds: z.array(z.string()).default([]),
});

export const amocrmInstallationSchema = z.object({
  ...common,
  crm: z.literal('amocrm'),
  accountId: amocrmAccountIdSchema,
  subdomain: z.string().min(1),
  /** https://{subdomain}.amocrm.ru (http only for hosts in AMOCRM_INSECURE_HOSTS, i.e. the emulator). */
  baseUrl: z.string().url(),
  /** sha256 of the secret carried in the webhook URL. */
  webhookSecretHash: z.string().length(64),
});

export const installationSchema = z.discriminatedUnion('crm', [bitrix24InstallationSchema, amocrmInstallationSchema]);
export type Installation = z.infer<typeof installationSchema>;
export type Bitrix24Installation = z.infer<typeof bitrix24InstallationSchema>;
export type AmocrmInstallation = z.infer<typeof amocrmInstallationSchema>;

export function bitrix24InstallationId(memberId: string): string {
  return `b24:${memberId}`;
}
export function amocrmInstallationId(accountId: string | number): string {
  return `amo:${accountId}`;
}
