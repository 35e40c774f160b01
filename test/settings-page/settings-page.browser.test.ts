import type { Frame, Page } from 'playwright-core';
import { screenshot, waitVisible as expectVisible } from '../helpers/browser-pages';
import { startSettingsInChromium, stopSettingsInChromium, type SettingsInChromium } from '../helpers/settings-in-chromium';

/**
 * The settings page in a real headless Chromium, opened the way Bitrix24 opens an app: a host page
 * on another origin POSTs the frame form (the user's AUTH_ID, member_id, DOMAIN…) into an iframe.
 * At 1024 px, in Russian and in English, against the local stack with the portal emulator.
 * Screenshots: a temporary folder, or `SCREENSHOTS_DIR=docs/screenshots` for the README's.
 */
describe('settings page in Chromium, inside the Bitrix24 frame', () => {
  let stack: SettingsInChromium['stack'];
  let browser: SettingsInChromium['browser'];
  let host: SettingsInChromium['host'];
  let installationId: string;

  beforeAll(async () => {
    ({ stack, browser, host, installationId } = await startSettingsInChromium());
  });
  afterAll(() => stopSettingsInChromium({ stack, browser, host }));

  async function openInFrame(lang: 'ru' | 'en'): Promise<{ page: Page; frame: () => Frame }> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 820 } });
    // The page's optional BX24 script lives on api.bitrix24.com; the test machine stays offline.
    await page.route('**/api.bitrix24.com/**', (route) => route.abort());
    await page.goto(`${host.url}?lang=${lang}`);
    const frame = () => page.frame({ name: 'app-frame' })!;
    await expectVisible(frame, '#open-settings');
    return { page, frame };
  }

  const stored = async () => (await stack.services.store.find(installationId))!.settings as Record<string, Record<string, unknown>>;

  it('the overview says what is on and off; the settings refuse a bad takeover timeout at its field and save a good one (Russian)', async () => {
    const { page, frame } = await openInFrame('ru');
    expect(await frame().locator('div[lang="ru"] [data-robot="dealRenamer"] [data-robot-badge]').textContent()).toBe('включён');
    expect(await frame().locator('div[lang="ru"] [data-robot="unitStatusSync"] [data-robot-badge]').textContent()).toBe('ждёт учёта объектов');
    await page.screenshot({ path: screenshot('app-page-ru-1024.png') });

    await frame().locator('#open-settings').click();
    await expectVisible(frame, '[data-section="takeoverTimer"]');
    await frame().locator('[data-section="takeoverTimer"]').click();
    const timeout = frame().locator('[data-setting="takeoverTimer.timeout"] input');
    await timeout.fill('15 минут');
    await frame().locator('[data-action="save"]').click();
    await expectVisible(frame, '[data-setting="takeoverTimer.timeout"][data-invalid="true"]');
    expect(await frame().locator('[data-setting="takeoverTimer.timeout"]').textContent()).toContain('не длительность');
    expect((await stored()).takeoverTimer).toBeUndefined();
    await page.screenshot({ path: screenshot('settings-field-error-ru-1024.png') });

    await timeout.fill('20m');
    await frame().locator('[data-action="save"]').click();
    await expectVisible(frame, '[data-notice]:has-text("Изменения действуют")');
    expect((await stored()).takeoverTimer).toEqual({ timeout: '20m' });
    expect(await frame().locator('[data-setting="takeoverTimer.timeout"][data-invalid="true"]').count()).toBe(0);
    await page.screenshot({ path: screenshot('settings-saved-ru-1024.png') });
    // Nothing is wider than the 1024 px frame.
    expect(await frame().evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);

    // The stage guard's section shows the portal's real funnels and stages next to the regulations.
    await frame().locator('[data-section="stageGuard"]').click();
    await expectVisible(frame, '[data-funnels]');
    expect(await frame().locator('[data-funnels]').textContent()).toContain('Подготовка документов');
    await page.close();
  });

  it('heads of sales are picked from the portal’s users by name; an id nobody has is flagged before saving', async () => {
    const { page, frame } = await openInFrame('ru');
    await frame().locator('#open-settings').click();
    await expectVisible(frame, '[data-setting="headsOfSales"] [data-add-user]');
    await frame().locator('[data-setting="headsOfSales"] [data-add-user]').click();
    await frame().locator('[role="option"]:has-text("Ольга Руководитель")').click();
    await expectVisible(frame, '[data-setting="headsOfSales"] [data-users]:has-text("Ольга Руководитель · 4")');
    const ids = frame().locator('[data-setting="headsOfSales"] textarea');
    expect(await ids.inputValue()).toBe('4');
    await ids.fill('4\n999');
    await expectVisible(frame, '[data-setting="headsOfSales"] [data-users]:has-text("999: нет такого пользователя")');
    await ids.fill('4');
    await frame().locator('[data-action="save"]').click();
    await expectVisible(frame, '[data-notice]:has-text("Изменения действуют")');
    expect((await stored()).headsOfSales).toEqual(['4']);
    await page.screenshot({ path: screenshot('settings-heads-of-sales-ru-1024.png') });
    await page.close();
  });

  it('in English: the error at the field is English, and a fixed value saves', async () => {
    const { page, frame } = await openInFrame('en');
    await frame().locator('#open-settings').click();
    await expectVisible(frame, '[data-lang="en"]');
    await frame().locator('[data-lang="en"]').click();
    await expectVisible(frame, '[data-section="bookingReleaser"]:has-text("Booking releaser")');
    await frame().locator('[data-section="bookingReleaser"]').click();
    const duration = frame().locator('[data-setting="bookingReleaser.duration"] input');
    await duration.fill('three days');
    await frame().locator('[data-action="save"]').click();
    await expectVisible(frame, '[data-setting="bookingReleaser.duration"][data-invalid="true"]');
    expect(await frame().locator('[data-setting="bookingReleaser.duration"]').textContent()).toContain('is not a duration like');
    await page.screenshot({ path: screenshot('settings-field-error-en-1024.png') });
    await duration.fill('5d');
    await frame().locator('[data-action="save"]').click();
    await expectVisible(frame, '[data-notice]:has-text("Changes apply")');
    expect((await stored()).bookingReleaser).toEqual({ duration: '5d' });
    await page.close();
  });
});
