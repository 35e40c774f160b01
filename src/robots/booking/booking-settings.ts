import { z } from 'zod';
import { durationAtLeast, durationSchema } from '../../settings/duration';
import { inventoryConnectionSchema } from '../../inventory/connection-settings';

/** A CRM field named per CRM: Bitrix24 field code (UF_CRM_… or ufCrm…), amoCRM field name or id. */
const crmFieldSchema = z.object({ bitrix24: z.string().min(1), amocrm: z.string().min(1) });

const bookingTermSchema = z.strictObject({
  /** A free booking. */
  duration: durationAtLeast('1s').optional(),
  /** A paid booking (the deal's `paidField` is set). */
  paidDuration: durationAtLeast('1s').optional(),
});

/** Robot 5 — booking releaser (`bookingReleaser` in an installation's settings). */
export const bookingReleaserSettings = z.object({
  enabled: z.boolean().default(true),
  /** How long a free booking lasts (seed 004: «сколько дней квартира может быть забронирована»). */
  duration: durationAtLeast('1s').default(3 * 86_400_000),
  /** How long a paid booking lasts. */
  paidDuration: durationAtLeast('1s').default(14 * 86_400_000),
  /** Per project or house (its name in the inventory system); a house wins over its project. */
  byProject: z.record(z.string().min(1), bookingTermSchema).default({}),
  /** The manager and the head of sales are warned this long before expiry ("0s": no warning). */
  warnBefore: durationSchema.default(86_400_000),
  /** A checkbox/list field saying the booking is paid (optional). */
  paidField: crmFieldSchema.optional(),
  /** A date field the head of sales sets to extend the booking («Бронь до»), optional. */
  extendField: crmFieldSchema.optional(),
  /** Who may extend and who is warned; empty: the regulation's heads of sales, else the CRM admins. */
  headOfSalesUserIds: z.array(z.union([z.string().min(1), z.number().int()]).transform(String)).default([]),
});
export type BookingReleaserSettings = z.infer<typeof bookingReleaserSettings>;

/** Robot 6 — unit status sync (`unitStatusSync`). */
export const unitStatusSyncSettings = z.object({
  enabled: z.boolean().default(true),
  /** The inventory connection; absent: no inventory, the sync is skipped (one log line). */
  inventory: inventoryConnectionSchema.optional(),
  /** The deal field holding the unit: a Profitbase property id / 1C unit id, or a number such as «5-101». */
  unitField: crmFieldSchema,
  /** What a signed contract makes the unit. */
  onContract: z.enum(['in_execution', 'sold']).default('in_execution'),
  /** What registration (and «payment received») makes the unit. */
  onRegistration: z.enum(['in_execution', 'sold']).default('in_execution'),
  /** How often inbound changes are polled (Profitbase `POST /history`, the 1C change feed). */
  pollEvery: durationAtLeast('10s').default(60_000),
});
export type UnitStatusSyncSettings = z.infer<typeof unitStatusSyncSettings>;
