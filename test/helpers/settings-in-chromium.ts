import type { Browser } from 'playwright-core';
import { SETTINGS_PAGE_DIR } from '../../webhooks/settings/entry-router';
import { assertBuilt, startBitrix24AppHost } from './browser-pages';
import { launchChromium } from './chromium';
import { startLocalStack, type LocalStack } from './local-stack';
import { redisUrl } from './test-services';

export interface SettingsInChromium {
  stack: LocalStack;
  browser: Browser;
  host: Awaited<ReturnType<typeof startBitrix24AppHost>>;
  installationId: string;
}

/**
 * The settings page's browser tests all start the same way: the built page, Chromium, the local
 * stack with the app installed on the emulated portal, and a "portal" page that opens the app.
 */
export async function startSettingsInChromium(): Promise<SettingsInChromium> {
  assertBuilt(SETTINGS_PAGE_DIR, 'settings page');
  const browser = await launchChromium();
  const stack = await startLocalStack({ redisUrl: redisUrl() });
  expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
  return { stack, browser, host: await startBitrix24AppHost(stack), installationId: `b24:${stack.portal.memberId}` };
}

export async function stopSettingsInChromium(env: Partial<SettingsInChromium>): Promise<void> {
  await env.browser?.close();
  await env.host?.close();
  await env.stack?.stop();
}
