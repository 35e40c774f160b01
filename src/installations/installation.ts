import { z } from 'zod';

/** OAuth pair of one installation. Refresh tokens are single-use on both CRMs. */
export const tokenSetSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  /** Epoch milliseconds. */
  expiresAt: z.number(),
});
export type TokenSet = z.infer<typeof tokenSetSchema>;

const common = {
  id: z.string().min(1),
  status: z.enum(['active', 'revoked']),
  revokedReason: z.string().optional(),
  installedAt: z.string(),
  /** Per-installation overrides of `config/robots.default.json`. */
  settings: z.record(z.string(), z.unknown()).default({}),
};

export const bitrix24InstallationSchema = z.object({
  ...common,
  crm: z.literal('bitrix24'),
  memberId: z.string().min(1),
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
  accountId: z.string().min(1),
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

export const bitrix24InstallationId = (memberId: string) => `b24:${memberId}`;
export const amocrmInstallationId = (accountId: string | number) => `amo:${accountId}`;
