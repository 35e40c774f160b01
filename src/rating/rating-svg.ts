import type { MonthlyRating } from './monthly-rating';

/**
 * The monthly rating as a server-rendered page: a horizontal bar per manager (conversion to
 * «Встреча состоялась»), with leads, meetings, misses and violations beside it. No script, no
 * external assets: it renders the same in a browser, a Bitrix24 frame and a mail client.
 */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);

export function ratingSvg(rating: MonthlyRating, options: { worst?: ReadonlySet<string> } = {}): string {
  const rowH = 28;
  const labelW = 220;
  const barW = 360;
  const statsW = 330;
  const width = labelW + barW + statsW;
  const height = 40 + Math.max(1, rating.rows.length) * rowH + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Рейтинг менеджеров ${esc(rating.month)}" font-family="system-ui, sans-serif" font-size="13">`,
    `<text x="0" y="18" font-weight="600">Конверсия в «Встреча состоялась», ${esc(rating.month)}</text>`,
    `<text x="${labelW + barW + 10}" y="18" fill="#555">лиды · встречи · пропуски · нарушения</text>`,
  ];
  if (!rating.rows.length) parts.push(`<text x="0" y="56" fill="#555">Нет данных за месяц</text>`);
  rating.rows.forEach((r, i) => {
    const y = 40 + i * rowH;
    const w = r.conversion === null ? 0 : Math.max(2, Math.round(r.conversion * barW));
    const color = options.worst?.has(r.managerId) ? '#d9534f' : '#2f7ed8';
    parts.push(
      `<text x="0" y="${y + 17}">${esc(r.name)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${barW}" height="${rowH - 10}" fill="#eee"/>`,
      `<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 10}" fill="${color}"><title>${esc(r.name)}: ${pct(r.conversion)}</title></rect>`,
      `<text x="${labelW + 6}" y="${y + 17}" fill="${w > 40 ? '#fff' : '#222'}">${pct(r.conversion)}</text>`,
      `<text x="${labelW + barW + 10}" y="${y + 17}">${r.leads} · ${r.meetings} · ${r.misses} · ${r.violations}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function ratingPage(rating: MonthlyRating, title: string, worst: ReadonlySet<string>): string {
  const rows = rating.rows
    .map((r, i) => `<tr><td>${i + 1}</td><td>${esc(r.name)}</td><td>${r.leads}</td><td>${r.meetings}</td><td>${pct(r.conversion)}</td><td>${r.misses}</td><td>${r.violations}</td><td>${worst.has(r.managerId) ? '×0,5 в следующем месяце' : ''}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:14px system-ui;margin:2em}table{border-collapse:collapse;margin-top:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>
<h1>${esc(title)}</h1>${ratingSvg(rating, { worst })}
<table><tr><th>#</th><th>менеджер</th><th>лиды</th><th>встречи</th><th>конверсия</th><th>не взяты за отведённое время</th><th>нарушения регламента</th><th></th></tr>${rows}</table></body></html>`;
}
