import type { Browser, Frame, Page } from 'playwright-core';
import request from 'supertest';
import { SETTINGS_PAGE_DIR } from '../../webhooks/settings/entry-router';
import { signWidgetToken, widgetTokenClaims } from '../helpers/amocrm-widget-token';
import { assertBuilt, screenshot, startHostPage, waitVisible as visible } from '../helpers/browser-pages';
import { launchChromium } from '../helpers/chromium';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

/**
 * The same settings page opened from amoCRM: the widget's advanced settings exchange amoCRM's
 * disposable token for a page address, and the account page frames it. The page takes amoCRM's
 * look there, saves through the same schema and shows errors at the field, at 1024 px.
 * (The cross-origin part of the exchange, Origin against the account's domain, is covered by
 * settings-api.e2e.test.ts: a browser cannot be made to send another site's Origin.)
 */
describe('settings page in Chromium, inside amoCRM (widget advanced settings)', () => {
  let stack: LocalStack;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof startHostPage>>;
  let installationId: string;

  beforeAll(async () => {
    assertBuilt(SETTINGS_PAGE_DIR, 'settings page');
    browser = await launchChromium();
    stack = await startLocalStack({ redisUrl: redisUrl() });
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    installationId = `amo:${stack.amo.accountId}`;
    // The "account page": frames whatever page address the widget was given (?page=…).
    host = await startHostPage((url) => {
      const page = url.searchParams.get('page') ?? '';
      return (
        `<!doctype html><meta charset="utf-8"><title>amoCRM</title><body style="margin:0;background:#f5f5f5">` +
        `<div style="height:56px;background:#0f2231;color:#fff;font:16px sans-serif;padding:18px 20px;box-sizing:border-box">amoCRM · Настройки · Reglament</div>` +
        `<iframe name="app-frame" style="display:block;width:100%;height:760px;border:0;background:#fff" src="${page.replace(/"/g, '&quot;')}"></iframe></body>`
      );
    });
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await stack?.stop();
  });

  /** What the widget's $authorizedAjax does: the disposable token for a page address. */
  async function pageAddress(lang: 'ru' | 'en'): Promise<string> {
    const token = signWidgetToken(widgetTokenClaims(stack), stack.services.config.AMOCRM_CLIENT_SECRET);
    const answer = await request(stack.appUrl).post('/amocrm/widget/settings-session').set('X-Auth-Token', token).send({ area: 'advanced_settings', lang }).expect(200);
    return answer.body.settingsUrl as string;
  }

  async function openInAccount(lang: 'ru' | 'en'): Promise<{ page: Page; frame: () => Frame }> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 820 } });
    await page.goto(`${host.url}?${new URLSearchParams({ page: await pageAddress(lang) })}`);
    const frame = () => page.frame({ name: 'app-frame' })!;
    await visible(frame, '[data-action="save"]');
    return { page, frame };
  }

  const stored = async () => (await stack.services.store.find(installationId))!.settings as Record<string, Record<string, unknown>>;

  it('looks like amoCRM, refuses a template with an unknown placeholder at its field and saves a good one (Russian)', async () => {
    const { page, frame } = await openInAccount('ru');
    expect(await frame().evaluate('document.documentElement.dataset.crm')).toBe('amocrm');
    expect(await frame().evaluate('getComputedStyle(document.body).fontFamily')).toContain('PT Sans');
    expect(await frame().evaluate('getComputedStyle(document.querySelector(\'[data-action="save"]\')).backgroundColor')).toBe('rgb(76, 139, 247)');

    await frame().locator('[data-section="dealRenamer"]').click();
    const template = frame().locator('[data-setting="dealRenamer.template"] input');
    await template.fill('{id} / {клиент}');
    await frame().locator('[data-action="save"]').click();
    await visible(frame, '[data-setting="dealRenamer.template"][data-invalid="true"]');
    expect((await stored()).dealRenamer).toBeUndefined();
    await page.screenshot({ path: screenshot('amocrm-settings-field-error-ru-1024.png') });

    await template.fill('{id} / {contact}');
    await frame().locator('[data-action="save"]').click();
    await visible(frame, '[data-notice]:has-text("Изменения действуют")');
    expect((await stored()).dealRenamer).toEqual({ template: '{id} / {contact}' });
    expect(await frame().evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: screenshot('amocrm-settings-saved-ru-1024.png') });
    await page.close();
  });

  it('opens in English for an English-speaking amoCRM user', async () => {
    const { page, frame } = await openInAccount('en');
    await visible(frame, '[data-section="takeoverTimer"]:has-text("Takeover timer")');
    await page.close();
  });
});
