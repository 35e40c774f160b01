import type { Frame, Page } from 'playwright-core';
import { RedisSettingsHistory } from '../../src/settings/settings-history';
import { screenshot, waitVisible as expectVisible } from '../helpers/browser-pages';
import { operatorCommand } from '../helpers/operator-command';
import { startSettingsInChromium, stopSettingsInChromium, type SettingsInChromium } from '../helpers/settings-in-chromium';

/**
 * The settings page's «История изменений» in a real Chromium inside the Bitrix24 frame: the change
 * the administrator just saved is there — who, when in the browser's local time, where, the setting
 * before → after — and so is the operator's change from the command line.
 */
describe('settings history on the settings page, in Chromium', () => {
  let stack: SettingsInChromium['stack'];
  let browser: SettingsInChromium['browser'];
  let host: SettingsInChromium['host'];
  let installationId: string;

  beforeAll(async () => {
    ({ stack, browser, host, installationId } = await startSettingsInChromium());
  });
  afterAll(() => stopSettingsInChromium({ stack, browser, host }));

  /** The settings page as the administrator opens it, with the browser in Moscow time. */
  async function openSettings(): Promise<{ page: Page; frame: () => Frame }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 900 }, timezoneId: 'Europe/Moscow', locale: 'ru-RU' });
    const page = await context.newPage();
    await page.route('**/api.bitrix24.com/**', (route) => route.abort());
    await page.goto(`${host.url}?lang=ru`);
    const frame = () => page.frame({ name: 'app-frame' })!;
    await expectVisible(frame, '#open-settings');
    await frame().locator('#open-settings').click();
    await expectVisible(frame, '[data-settings-history]');
    return { page, frame };
  }

  const moscowTime = (at: string) => new Date(at).toLocaleString('ru-RU', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Moscow' });
  const stored = () => new RedisSettingsHistory(stack.services.redis, stack.services.prefix).latest(installationId);

  it('the change just saved shows in Russian: who, when (local time), where, and before → after', async () => {
    const { page, frame } = await openSettings();
    await expectVisible(frame, '[data-history-empty]');
    expect(await frame().locator('[data-settings-history]').textContent()).toContain('Настройки ещё не меняли.');

    await frame().locator('[data-section="takeoverTimer"]').click();
    await frame().locator('[data-setting="takeoverTimer.timeout"] input').fill('20m');
    await frame().locator('[data-action="save"]').click();
    await expectVisible(frame, '[data-notice]:has-text("Изменения действуют")');
    await frame().locator('[data-section="general"]').click();
    await expectVisible(frame, '[data-history-entry] [data-history-path="takeoverTimer.timeout"]');

    const [saved] = await stored();
    const entry = frame().locator('[data-history-entry]').first();
    expect(await frame().locator('[data-settings-history] h3').textContent()).toBe('История изменений');
    expect(await entry.locator('[data-history-who]').textContent()).toBe('Админ Портала (администратор)');
    expect(await entry.locator('[data-history-via]').textContent()).toBe('страница настроек');
    expect(await entry.locator('[data-history-when]').textContent()).toBe(moscowTime(saved!.at));
    const change = entry.locator('[data-history-path="takeoverTimer.timeout"]');
    expect(await change.locator('[data-history-before]').textContent()).toBe('по умолчанию');
    expect(await change.locator('[data-history-after]').textContent()).toBe('20m');
    await frame().locator('[data-settings-history]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot('settings-history-ru-1024.png') });
    expect(await frame().evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.context().close();
  });

  it('the operator’s change at the command line shows as «оператор», «командная строка», newest first; in English too', async () => {
    expect((await operatorCommand(stack.services.prefix, 'settings.ts', 'set', installationId, 'takeoverTimer.timeout', '"45m"')).code).toBe(0);
    const { page, frame } = await openSettings();
    await expectVisible(frame, '[data-history-entry][data-via="cli"]');
    const entries = frame().locator('[data-history-entry]');
    expect(await entries.count()).toBe(2);
    const newest = entries.first();
    expect(await newest.locator('[data-history-who]').textContent()).toBe('оператор');
    expect(await newest.locator('[data-history-via]').textContent()).toBe('командная строка');
    const change = newest.locator('[data-history-path="takeoverTimer.timeout"]');
    expect(await change.locator('[data-history-before]').textContent()).toBe('20m');
    expect(await change.locator('[data-history-after]').textContent()).toBe('45m');
    expect(await entries.nth(1).getAttribute('data-via')).toBe('settings_page');

    // In English, the same history in English words.
    await frame().locator('[data-lang="en"]').click();
    await expectVisible(frame, '[data-settings-history] h3:has-text("Change history")');
    await expectVisible(frame, '[data-history-entry][data-via="cli"] [data-history-via]:has-text("command line")');
    expect(await frame().locator('[data-history-entry]').first().locator('[data-history-who]').textContent()).toBe('operator');
    expect(await frame().locator('[data-history-entry]').nth(1).locator('[data-history-who]').textContent()).toBe('Админ Портала (administrator)');
    await page.context().close();
  }, 60_000);
});
