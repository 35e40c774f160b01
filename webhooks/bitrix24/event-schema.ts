import { z } from 'zod';
import { memberIdSchema } from '../../src/installations/installation';

/** The `auth` block Bitrix24 sends with every event; only these four keys are always present. */
export const bitrix24AuthSchema = z.object({
  member_id: memberIdSchema,
  application_token: z.string().min(1),
  domain: z.string().min(1),
  client_endpoint: z.string().optional(),
  access_token: z.string().optional(),
  refresh_token: z.string().optional(),
  expires_in: z.string().optional(),
  server_endpoint: z.string().optional(),
  status: z.string().optional(),
  scope: z.string().optional(),
  user_id: z.string().optional(),
});

/**
 * An event POSTed to a bound handler (restdocs api-reference/events/index.md). Only what the edge
 * uses is checked (on every webhook, so it stays lean): the member_id that finds the installation,
 * the application_token that proves it, the domain Bitrix24 always sends. The other `auth` keys
 * (an access token of the acting user…) are neither read nor kept.
 */
export const bitrix24EventSchema = z.object({
  event: z.string().min(1).transform((e) => e.toUpperCase()),
  data: z.record(z.string(), z.unknown()).optional(),
  ts: z.string().regex(/^\d+$/, 'must be a unix timestamp'),
  auth: z.object({ member_id: memberIdSchema, application_token: z.string().min(1), domain: z.string().min(1) }),
});
export type Bitrix24Event = z.infer<typeof bitrix24EventSchema>;

/** CRM events carry `data[FIELDS][ID]` only. */
export const crmEntityDataSchema = z.object({ FIELDS: z.object({ ID: z.string().regex(/^\d+$/, 'must be a numeric id') }) });

/** The install page POST (restdocs settings/oauth/simple-way.md): query DOMAIN, PROTOCOL…; body AUTH_ID… */
export const bitrix24InstallPageSchema = z.object({
  query: z.object({
    DOMAIN: z.string().min(1),
    PROTOCOL: z.enum(['0', '1']).default('1'),
    LANG: z.string().optional(),
    APP_SID: z.string().optional(),
  }),
  body: z.object({
    AUTH_ID: z.string().min(1),
    AUTH_EXPIRES: z.coerce.number().int().positive().default(3600),
    REFRESH_ID: z.string().min(1),
    member_id: memberIdSchema,
    APPLICATION_TOKEN: z.string().min(1),
    SERVER_ENDPOINT: z.string().url().default('https://oauth.bitrix.info/rest/'),
    status: z.string().optional(),
  }),
});

/** The ONAPPINSTALL event form (restdocs api-reference/common/events/on-app-install.md). */
export const bitrix24OnAppInstallSchema = z.object({
  event: z.literal('ONAPPINSTALL'),
  auth: bitrix24AuthSchema.extend({
    access_token: z.string().min(1),
    refresh_token: z.string().min(1),
    expires_in: z.coerce.number().int().positive().default(3600),
    client_endpoint: z.string().url(),
    server_endpoint: z.string().url(),
  }),
});
