import { monthlyFactors } from '../distribution/monthly-weights';
import type { Installation } from '../installations/installation';
import { RedisInstallationState } from '../installations/installation-state';
import { resolveSettings } from '../app';
import { takeoverTimer } from '../robots/takeover-timer';
import type { Services } from '../services';
import type { MonthlyRating } from './monthly-rating';
import { ratingFor } from './rating-facts';

export interface InstallationRating {
  rating: MonthlyRating;
  /** Managers whose weight next month is lowered by this rating. */
  worst: Set<string>;
}

/** One month's rating of an installation, with the managers' names from the CRM (ids when it cannot be reached). */
export async function installationRating(services: Services, installation: Installation, month: string): Promise<InstallationRating> {
  const crm = await services.clients.forInstallation(installation);
  const users = await crm.listUsers().catch(() => []);
  const names = new Map(users.map((u) => [u.id, u.name]));
  const rating = await ratingFor(new RedisInstallationState(services.redis, services.prefix, installation.id), month, names);
  const s = resolveSettings(takeoverTimer, installation);
  const factors = monthlyFactors(rating, { worst: s.rating.worst, best: s.rating.best, minLeads: s.rating.minLeads, overrides: s.rating.overrides });
  return { rating, worst: new Set([...factors].filter(([, f]) => f.reason === 'worst').map(([id]) => id)) };
}

export const INSTALLATION_ID = /^(b24:[0-9a-f]{32}|amo:\d{1,15})$/;
