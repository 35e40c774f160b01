/**
 * What a CRM frame shows when the app refuses to open a page (an unverified user, a deal they may
 * not see, an app without its secret): the reason in Russian, then in English, nothing else.
 */
export function refusalPage([ru, en]: readonly [ru: string, en: string]): string {
  return `<!doctype html><meta charset="utf-8"><title>Reglament</title><p style="font:14px sans-serif">${ru}</p><p style="font:13px sans-serif;color:#6a737f" lang="en">${en}</p>`;
}
