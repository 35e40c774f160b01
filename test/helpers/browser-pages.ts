import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Frame } from 'playwright-core';

/**
 * Where the browser tests' screenshots go: a temporary folder, so `npm test` leaves the tree clean;
 * `SCREENSHOTS_DIR=docs/screenshots` refreshes the README's pictures.
 */
export const SCREENSHOTS = path.resolve(process.env.SCREENSHOTS_DIR ?? path.join(tmpdir(), 'reglament-screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });

export const screenshot = (name: string) => path.join(SCREENSHOTS, name);

/** A built page (Vite, `npm run build:pages`) or a clear failure: a browser test never runs against nothing. */
export function assertBuilt(dir: string, what: string): void {
  if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`The ${what} is not built: run \`npm run build:pages\` (npm test does it first).`);
}

/**
 * Waits until `selector` shows in the app's frame (re-found each poll: the frame navigates). On
 * timeout, a screenshot of the whole page is kept under `failureName` and its path is in the error.
 */
export async function waitVisible(frame: () => Frame | null | undefined, selector: string, timeout = 15_000, failureName = 'failure.png'): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const f = frame();
    if (f && (await f.locator(selector).first().isVisible().catch(() => false))) return;
    if (Date.now() > deadline) {
      await f?.page().screenshot({ path: screenshot(failureName) }).catch(() => {});
      throw new Error(`${selector} did not show in the app frame (screenshot: ${screenshot(failureName)})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What a CRM page does to open an app: an iframe named `frameName`, and a form POSTed into it
 * (Bitrix24's app page and placements carry AUTH_ID, member_id… this way).
 */
export function postIntoFrame(options: { frameName: string; action: string; form: Record<string, string>; height: number; banner?: string }): string {
  const inputs = Object.entries(options.form).map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, '&quot;')}">`).join('');
  const banner = options.banner ? `<div style="height:48px;background:#2fc6f6;color:#fff;font:600 16px sans-serif;padding:14px 20px;box-sizing:border-box">${options.banner}</div>` : '';
  return (
    `<!doctype html><meta charset="utf-8"><title>Bitrix24</title><body style="margin:0;background:#eef2f4">${banner}` +
    `<iframe name="${options.frameName}" style="display:block;width:100%;height:${options.height}px;border:0;background:#fff"></iframe>` +
    `<form id="f" method="post" target="${options.frameName}" action="${options.action}">${inputs}</form><script>document.getElementById('f').submit()</script></body>`
  );
}

/** A "CRM" page on another origin (localhost, while the app is on 127.0.0.1) that frames the app. */
export async function startHostPage(render: (url: URL) => string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(render(new URL(req.url ?? '/', 'http://x')));
  });
  await new Promise<void>((r) => server.listen(0, 'localhost', () => r()));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * The "portal": a page on another origin that opens the Bitrix24 app page the way Bitrix24 does,
 * as the portal's administrator (user 1), in `?lang=` (Russian by default).
 */
export function startBitrix24AppHost(stack: { portal: { appFrame(userId: number, lang?: string): { query: Record<string, string>; form: Record<string, string> } }; appUrl: string }, height = 760) {
  return startHostPage((url) => {
    const frame = stack.portal.appFrame(1, url.searchParams.get('lang') ?? 'ru');
    const action = `${stack.appUrl}/apps/bitrix24/index.html?${new URLSearchParams(frame.query)}`;
    return postIntoFrame({ frameName: 'app-frame', action, form: frame.form, height, banner: 'Битрикс24 · Reglament' });
  });
}
