/** What managers and heads of sales read about the takeover timer, in Russian (default) or English. */
type Locale = 'ru' | 'en';

const RU_UNITS = {
  d: ['день', 'дня', 'дней'],
  h: ['час', 'часа', 'часов'],
  m: ['минуту', 'минуты', 'минут'],
  s: ['секунду', 'секунды', 'секунд'],
} as const;
const EN_UNITS = { d: 'day', h: 'hour', m: 'minute', s: 'second' } as const;

function ruPlural(n: number, forms: readonly [string, string, string]): string {
  const mod10 = n % 10;
  const mod100 = n % 100;
  if (mod10 === 1 && mod100 !== 11) return forms[0];
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return forms[1];
  return forms[2];
}

/** 900000 → «15 минут» / "15 minutes"; 5400000 → «1 час 30 минут». */
export function humanDuration(ms: number, locale: Locale): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (!n) continue;
    parts.push(locale === 'ru' ? `${n} ${ruPlural(n, RU_UNITS[unit])}` : `${n} ${EN_UNITS[unit]}${n === 1 ? '' : 's'}`);
  }
  return parts.join(' ') || (locale === 'ru' ? '0 секунд' : '0 seconds');
}

export const takeoverMessages = {
  assigned: (l: Locale, v: { title: string; timeout: string; due: string }) =>
    l === 'ru'
      ? `Вам назначен лид «${v.title}». Возьмите его в работу за ${v.timeout} (до ${v.due}): позвоните, напишите или перенесите на следующую стадию.`
      : `Lead "${v.title}" is assigned to you. Take it into work within ${v.timeout} (by ${v.due}): call, write, or move it to the next stage.`,
  reassignedNote: (l: Locale, v: { timeout: string; from: string; to: string }) =>
    l === 'ru' ? `Лид не взят в работу за ${v.timeout}: ${v.from} → ${v.to}` : `Lead not taken into work within ${v.timeout}: ${v.from} → ${v.to}`,
  reassignedAlert: (l: Locale, v: { title: string; timeout: string; from: string; to: string; hop: number; maxHops: number }) =>
    l === 'ru'
      ? `Лид «${v.title}» не взят в работу за ${v.timeout}: передан ${v.from} → ${v.to} (передача ${v.hop} из ${v.maxHops}).`
      : `Lead "${v.title}" was not taken within ${v.timeout}: passed ${v.from} → ${v.to} (hop ${v.hop} of ${v.maxHops}).`,
  escalated: (l: Locale, v: { title: string; holders: string; hops: number }) =>
    l === 'ru'
      ? `Лид «${v.title}» так и не взят в работу: его не взяли ${v.holders} (передач: ${v.hops}). Робот больше не передаёт лид — распределите его вручную.`
      : `Lead "${v.title}" was never taken into work: ${v.holders} did not take it (${v.hops} hops). The robot stops passing it on — assign it by hand.`,
  notDistributed: (l: Locale, v: { title: string; why: string }) =>
    l === 'ru'
      ? `Лид «${v.title}» некому распределить: ${v.why}. Назначьте ответственного вручную.`
      : `Nobody can receive lead "${v.title}": ${v.why}. Assign a responsible manager by hand.`,
};
