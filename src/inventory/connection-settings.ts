import { z } from 'zod';

/**
 * An installation's inventory connection (`unitStatusSync.inventory` in its settings), set with
 * `npm run settings -- set <installationId> unitStatusSync.inventory '{…}'`. Absent: no inventory,
 * the booking releaser still runs, the sync is skipped.
 */
const baseUrl = z.url({ error: 'expected the base URL, e.g. "https://pb14886.profitbase.ru/api/v4/json"' }).refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

/** Our canonical statuses → the account's custom status ids, when the developer uses custom statuses. */
const customStatusesSchema = z
  .strictObject({
    available: z.number().int().positive(),
    booked: z.number().int().positive(),
    paidBooking: z.number().int().positive(),
    inExecution: z.number().int().positive(),
    sold: z.number().int().positive(),
  })
  .partial();

export const profitbaseConnectionSchema = z.strictObject({
  system: z.literal('profitbase'),
  /** `https://pb{ACCOUNT_ID}.profitbase.ru/api/v4/json` */
  baseUrl,
  /** The API key of the «API Profitbase» app (`app-…`). A secret: `settings get` prints it masked. */
  apiKey: z.string().min(1),
  /** Unit numbers typed in deals («5-101») are looked up in this house or project. */
  houseId: z.number().int().positive().optional(),
  projectId: z.number().int().positive().optional(),
  customStatuses: customStatusesSchema.default({}),
  /** On a conflict the refused deal joins the unit's booking queue (`POST /queue-reserve`). */
  bookingQueue: z.boolean().default(false),
});

export const httpConnectionSchema = z.strictObject({
  system: z.literal('http'),
  /** Base URL of the service implementing apps/inventory-http/openapi.yaml, e.g. `https://1c.example.ru/base/hs/reglament/v1`. */
  baseUrl,
  /** Bearer key the service accepts. A secret: `settings get` prints it masked. */
  apiKey: z.string().min(1),
  project: z.string().min(1).optional(),
  house: z.string().min(1).optional(),
  /** Shared secret of signed push callbacks (HMAC-SHA256); without it the change feed is polled. */
  callbackSecret: z.string().min(16).optional(),
});

export const inventoryConnectionSchema = z.discriminatedUnion('system', [profitbaseConnectionSchema, httpConnectionSchema], {
  error: 'expected {"system":"profitbase",…} or {"system":"http",…}',
});
export type ProfitbaseConnection = z.infer<typeof profitbaseConnectionSchema>;
export type HttpConnection = z.infer<typeof httpConnectionSchema>;
export type InventoryConnection = z.infer<typeof inventoryConnectionSchema>;
