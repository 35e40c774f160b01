/**
 * What managers and heads of sales read about bookings, in Russian (default) and English.
 * One place for every text of the booking releaser and the unit status sync.
 */
type Vars = Record<string, string>;
type Texts = Record<string, (v: Vars) => string>;

const ru: Texts = {
  booked: (v) => `Бронь до ${v.until} (${v.term}). ${v.unit ? `Объект ${v.unit} забронирован${v.system ? ` в ${v.system}` : ''}.` : ''}`.trim(),
  conflict: (v) =>
    `Объект ${v.unit} уже занят: ${v.holder}${v.status ? `, статус «${v.status}»` : ''}${v.until ? `, бронь до ${v.until}` : ''}. Сделка возвращена на этап «${v.stage}». ${v.queue ? `Сделка в очереди на бронь этого объекта в ${v.system}, позиция ${v.queue}.` : 'Выберите другой объект или дождитесь окончания брони.'}`,
  notFound: (v) => `Объект «${v.unit}» не найден в ${v.system}: бронь в системе учёта не поставлена. Проверьте поле «Объект».`,
  warn: (v) => `Бронь по сделке «${v.deal}»${v.unit ? ` (объект ${v.unit})` : ''} истекает ${v.until}. Продлить бронь может руководитель отдела продаж.`,
  expired: (v) =>
    `Бронь истекла ${v.until}: сделка переведена на этап «${v.stage}»${v.unit ? `, объект ${v.unit} снова свободен` : ''}. Покупатель был готов купить — узнайте, что изменилось.`,
  expiredAlert: (v) => `Бронь истекла по сделке «${v.deal}»${v.unit ? ` (объект ${v.unit} освобождён)` : ''}. Сделка требует внимания.`,
  extended: (v) => `Бронь продлена до ${v.until}${v.who ? ` (продлил ${v.who})` : ''}.`,
  extendRefused: (v) => `Продлить бронь может только руководитель отдела продаж; срок брони остаётся ${v.until}.`,
  saleConflict: (v) => `Объект ${v.unit} числится за ${v.holder} (статус «${v.status}»): статус «${v.target}» в ${v.system} не выставлен. Проверьте объект.`,
  takenElsewhere: (v) => `Объект ${v.unit}, забронированный по сделке «${v.deal}», ${v.what} в ${v.system} (${v.other}). Проверьте бронь.`,
  released: (v) => `Объект ${v.unit} освобождён в ${v.system}.`,
};

const en: Texts = {
  booked: (v) => `Booked until ${v.until} (${v.term}). ${v.unit ? `Unit ${v.unit} is booked${v.system ? ` in ${v.system}` : ''}.` : ''}`.trim(),
  conflict: (v) => `Unit ${v.unit} is taken: ${v.holder}${v.status ? `, status "${v.status}"` : ''}${v.until ? `, booked until ${v.until}` : ''}. The deal went back to "${v.stage}". ${v.queue ? `It is in the ${v.system} booking queue for the unit, position ${v.queue}.` : 'Pick another unit or wait for the booking to end.'}`,
  notFound: (v) => `Unit "${v.unit}" is not in ${v.system}: nothing was booked there. Check the unit field.`,
  warn: (v) => `The booking of "${v.deal}"${v.unit ? ` (unit ${v.unit})` : ''} ends ${v.until}. The head of sales can extend it.`,
  expired: (v) => `The booking ended ${v.until}: the deal moved to "${v.stage}"${v.unit ? `, unit ${v.unit} is free again` : ''}. The buyer was ready to buy — find out what changed.`,
  expiredAlert: (v) => `The booking of "${v.deal}" expired${v.unit ? ` (unit ${v.unit} released)` : ''}. The deal needs attention.`,
  extended: (v) => `Booking extended until ${v.until}${v.who ? ` (by ${v.who})` : ''}.`,
  extendRefused: (v) => `Only the head of sales can extend a booking; it still ends ${v.until}.`,
  saleConflict: (v) => `Unit ${v.unit} is held by ${v.holder} (status "${v.status}"): "${v.target}" was not set in ${v.system}. Check the unit.`,
  takenElsewhere: (v) => `Unit ${v.unit}, booked for "${v.deal}", was ${v.what} in ${v.system} (${v.other}). Check the booking.`,
  released: (v) => `Unit ${v.unit} released in ${v.system}.`,
};

export type BookingText = keyof typeof ru;

export function bookingText(locale: 'ru' | 'en', key: BookingText, vars: Vars): string {
  return (locale === 'en' ? en : ru)[key]!(vars);
}

const STATUS_NAMES = {
  ru: { available: 'свободно', booked: 'бронь', in_execution: 'оформление', sold: 'продано', unavailable: 'не в продаже' },
  en: { available: 'available', booked: 'booked', in_execution: 'in execution', sold: 'sold', unavailable: 'not for sale' },
} as const;

export function statusName(locale: 'ru' | 'en', status: keyof (typeof STATUS_NAMES)['ru']): string {
  return STATUS_NAMES[locale][status];
}

/** «03.12.2026, 18:00» in Moscow time (what the sales office reads). */
export function formatWhen(ms: number, locale: 'ru' | 'en'): string {
  return new Date(ms).toLocaleString(locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: 'Europe/Moscow', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** «3 дн.», «2 ч 30 мин», «2 с». */
export function formatTerm(ms: number, locale: 'ru' | 'en'): string {
  const units = locale === 'ru' ? (['дн.', 'ч', 'мин', 'с'] as const) : (['d', 'h', 'min', 's'] as const);
  const sizes = [86_400_000, 3_600_000, 60_000, 1000];
  const parts: string[] = [];
  let rest = ms;
  sizes.forEach((size, i) => {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${units[i]}`);
    rest -= n * size;
  });
  return parts.join(' ') || (locale === 'ru' ? '0 с' : '0 s');
}

export const SYSTEM_NAMES = { profitbase: 'Profitbase', http: '1С' } as const;
