import { Queue, Worker } from 'bullmq';
import { encryptionKeyBytes } from '../config';
import { installationKey } from '../infra/keys';
import { connectRedis } from '../infra/redis';
import { RedisInstallationState } from '../installations/installation-state';
import type { Installation } from '../installations/installation';
import { bullPrefix } from '../pipeline/queues';
import { localeOf } from '../app';
import type { Services } from '../services';
import { headsOfSales } from '../team/heads-of-sales';
import { installationRating } from './installation-rating';
import { previousMonth } from './monthly-rating';
import { monthOf } from './rating-facts';
import { ratingLink } from './rating-link';

/**
 * On the 1st of every month at 09:00 Moscow time, each active installation's heads of sales get
 * last month's manager rating (a CRM notification / amoCRM task with a signed link to the chart).
 * A BullMQ job scheduler: one repeatable job however many workers run; each installation is
 * sent once per month (a state key), so a retried or duplicated run sends nothing twice.
 */
export const SCHEDULES_QUEUE = 'schedules';
export const MONTHLY_RATING_CRON = { pattern: '0 9 1 * *', tz: 'Europe/Moscow' };
const LINK_TTL_MS = 45 * 86_400_000;

export function runMonthlyRating(services: Services): { close(): Promise<void> } {
  const connection = connectRedis(services.redisTarget);
  const prefix = bullPrefix(services.prefix);
  const queue = new Queue(SCHEDULES_QUEUE, { connection: services.queueSettings.connection, prefix });
  void queue
    .upsertJobScheduler('monthly-rating', MONTHLY_RATING_CRON, { name: 'monthly-rating', opts: { removeOnComplete: 50, removeOnFail: 200 } })
    .catch((err) => services.log.error({ err }, 'monthly rating not scheduled'));
  const worker = new Worker(SCHEDULES_QUEUE, async () => sendMonthlyRatings(services), { connection, prefix, concurrency: 1 });
  worker.on('error', (err) => services.log.error({ err }, 'schedules worker error'));
  return {
    async close() {
      await worker.close();
      await queue.close();
      await connection.quit().catch(() => undefined);
    },
  };
}

/** Sends last month's rating to every active installation that has not had it yet; returns how many were sent. */
export async function sendMonthlyRatings(services: Services): Promise<number> {
  let sent = 0;
  for (const installation of await services.store.list()) {
    if (installation.status !== 'active') continue;
    try {
      if (await sendRating(services, installation, previousMonth(monthOf(services.now())))) sent++;
    } catch (err) {
      services.log.warn({ err, installation: installation.id }, 'monthly rating not sent; the next run retries');
    }
  }
  return sent;
}

export async function sendRating(services: Services, installation: Installation, month: string): Promise<boolean> {
  const state = new RedisInstallationState(services.redis, services.prefix, installation.id);
  if (!(await state.compareAndSet(`rating:sent:${month}`, null, services.now().toISOString(), 400 * 86_400))) return false;
  try {
    const crm = await services.clients.forInstallation(installation);
    const { rating, worst } = await installationRating(services, installation, month);
    const link = ratingLink(services.config.PUBLIC_URL, encryptionKeyBytes(services.config), installation.id, month, services.now().getTime() + LINK_TTL_MS);
    const text = ratingText(localeOf(installation), month, rating.rows, worst, link);
    for (const head of await headsOfSales(installation, crm)) await crm.notifyUser(head, text);
    return true;
  } catch (err) {
    await services.redis.del(installationKey(services.prefix, installation.id, 'state', `rating:sent:${month}`));
    throw err;
  }
}

function ratingText(locale: 'ru' | 'en', month: string, rows: Awaited<ReturnType<typeof installationRating>>['rating']['rows'], worst: ReadonlySet<string>, link: string): string {
  const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);
  const lines = rows.map((r, i) => `${i + 1}. ${r.name}: ${r.leads} / ${r.meetings} / ${pct(r.conversion)} / ${r.misses} / ${r.violations}${worst.has(r.managerId) ? (locale === 'ru' ? ' — меньше лидов в следующем месяце' : ' — fewer leads next month') : ''}`);
  const head =
    locale === 'ru'
      ? `Рейтинг менеджеров за ${month} (лиды / встречи / конверсия / не взяты вовремя / нарушения):`
      : `Manager rating for ${month} (leads / meetings / conversion / not taken in time / violations):`;
  const empty = locale === 'ru' ? 'Нет данных за месяц.' : 'No data for the month.';
  return [head, ...(lines.length ? lines : [empty]), locale === 'ru' ? `График: ${link}` : `Chart: ${link}`].join('\n');
}
