import type { Frame, Page } from 'playwright-core';
import { screenshot, waitVisible } from '../helpers/browser-pages';
import { startSettingsInChromium, stopSettingsInChromium, type SettingsInChromium } from '../helpers/settings-in-chromium';

/**
 * Lists of objects and records on the settings page, in Chromium at 1024 px inside the Bitrix24
 * frame: the takeover timer's vacations and managers' weights are tables whose user cells offer
 * the portal's users by name; a bad cell is refused at that cell, a good one is stored.
 */
describe('settings tables in Chromium, inside the Bitrix24 frame', () => {
  let stack: SettingsInChromium['stack'];
  let browser: SettingsInChromium['browser'];
  let host: SettingsInChromium['host'];
  let installationId: string;

  beforeAll(async () => {
    ({ stack, browser, host, installationId } = await startSettingsInChromium());
  });
  afterAll(() => stopSettingsInChromium({ stack, browser, host }));

  async function openSection(lang: 'ru' | 'en', section: string): Promise<{ page: Page; frame: () => Frame }> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 820 } });
    await page.route('**/api.bitrix24.com/**', (route) => route.abort());
    await page.goto(`${host.url}?lang=${lang}`);
    const frame = () => page.frame({ name: 'app-frame' })!;
    await waitVisible(frame, '#open-settings');
    await frame().locator('#open-settings').click();
    if (lang === 'en') {
      await waitVisible(frame, '[data-lang="en"]');
      await frame().locator('[data-lang="en"]').click();
    }
    await waitVisible(frame, `[data-section="${section}"]`);
    await frame().locator(`[data-section="${section}"]`).click();
    return { page, frame };
  }

  const stored = async () => (await stack.services.store.find(installationId))!.settings as Record<string, Record<string, unknown>>;
  async function storedBecomes(check: (s: Record<string, Record<string, unknown>>) => boolean): Promise<void> {
    for (const deadline = Date.now() + 10_000; !check(await stored()); ) {
      if (Date.now() > deadline) throw new Error(`the stored settings did not change: ${JSON.stringify(await stored())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const save = async (frame: () => Frame) => frame().locator('[data-action="save"]').click();
  const pickUser = async (frame: () => Frame, opener: string, name: string) => {
    await frame().locator(opener).click();
    await frame().locator(`[role="option"]:has-text("${name}")`).click();
  };

  it('a vacation for Мария Менеджерова picked by name: a bad date is refused at its cell, the fixed one is stored, a removed row is gone (Russian)', async () => {
    const { page, frame } = await openSection('ru', 'takeoverTimer');
    const vacations = '[data-setting="takeoverTimer.vacations"]';
    await waitVisible(frame, `${vacations} [data-add-row]`);
    await frame().locator(`${vacations} [data-add-row]`).click();
    const row = `${vacations} [data-row="0"]`;
    await pickUser(frame, `${row} [data-cell="userId"] [data-user-picker]`, 'Мария Менеджерова');
    // The name is shown and the raw id stays visible.
    await waitVisible(frame, `${row} [data-cell="userId"]:has-text("Мария Менеджерова · 2")`);
    await frame().locator(`${row} [data-cell="from"] input`).fill('2026-12-01');
    await frame().locator(`${row} [data-cell="to"] input`).fill('14.12.2026');
    await save(frame);
    await waitVisible(frame, `${row} [data-cell="to"][data-invalid="true"]`);
    expect(await frame().locator(`${row} [data-cell="to"]`).textContent()).toContain('Дата в виде «ГГГГ-ММ-ДД»');
    expect(await frame().locator(`${row} [data-cell="from"][data-invalid="true"]`).count()).toBe(0);
    expect((await stored()).takeoverTimer).toBeUndefined();
    await frame().locator(vacations).scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot('settings-vacation-error-ru-1024.png') });

    await frame().locator(`${row} [data-cell="to"] input`).fill('2026-12-14');
    await save(frame);
    await waitVisible(frame, '[data-notice]:has-text("Изменения действуют")');
    expect((await stored()).takeoverTimer).toEqual({ vacations: [{ userId: '2', from: '2026-12-01', to: '2026-12-14' }] });
    expect(await frame().locator(`${vacations} [data-invalid="true"]`).count()).toBe(0);

    // A manager's weight: the manager is added by name, the row starts at weight 1; over 100 is refused at the cell.
    const managers = '[data-setting="takeoverTimer.managers"]';
    await pickUser(frame, `${managers} [data-add-user]`, 'Мария Менеджерова');
    await waitVisible(frame, `${managers} [data-row="2"]`);
    expect(await frame().locator(`${managers} [data-row="2"] [data-cell="weight"] input`).inputValue()).toBe('1');
    const weight = frame().locator(`${managers} [data-row="2"] [data-cell="weight"] input`);
    await weight.fill('300');
    await save(frame);
    await waitVisible(frame, `${managers} [data-row="2"] [data-cell="weight"][data-invalid="true"]`);
    expect(await frame().locator(`${managers} [data-row="2"] [data-cell="weight"]`).textContent()).toContain('100');
    expect((await stored()).takeoverTimer!.managers).toBeUndefined();
    await weight.fill('3');
    await save(frame);
    await waitVisible(frame, '[data-notice]:has-text("Изменения действуют")');
    expect((await stored()).takeoverTimer!.managers).toEqual({ 2: { weight: 3 } });
    await waitVisible(frame, `${managers} [data-row="2"] [data-cell="$key"]:has-text("Мария Менеджерова · 2")`);
    expect(await frame().evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await frame().locator(managers).scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot('settings-tables-ru-1024.png') });

    // Removing the vacation row stores an empty list.
    await frame().locator(`${row} [data-remove-row]`).click();
    expect(await frame().locator(`${vacations} [data-row]`).count()).toBe(0);
    await save(frame);
    // The success notice is still up from the last save: wait for the store instead.
    await storedBecomes((s) => Array.isArray(s.takeoverTimer?.vacations) && (s.takeoverTimer!.vacations as unknown[]).length === 0);
    expect((await stored()).takeoverTimer).toEqual({ vacations: [], managers: { 2: { weight: 3 } } });
    await page.close();
  });

  it('in English: a per-project booking duration is refused at its cell in English, then stored', async () => {
    const { page, frame } = await openSection('en', 'bookingReleaser');
    const byProject = '[data-setting="bookingReleaser.byProject"]';
    await waitVisible(frame, `${byProject} [data-add-row]:has-text("Add a row")`);
    await frame().locator(`${byProject} [data-add-row]`).click();
    const row = `${byProject} tbody tr:first-child`;
    await frame().locator(`${row} [data-cell="$key"] input`).fill('ЖК Север');
    await frame().locator(`${row} [data-cell="duration"] input`).fill('three days');
    await save(frame);
    await waitVisible(frame, `${row} [data-cell="duration"][data-invalid="true"]`);
    expect(await frame().locator(`${row} [data-cell="duration"]`).textContent()).toContain('is not a duration like');
    await frame().locator(byProject).scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot('settings-by-project-error-en-1024.png') });
    await frame().locator(`${row} [data-cell="duration"] input`).fill('3d');
    await save(frame);
    await waitVisible(frame, '[data-notice]:has-text("Changes apply")');
    expect((await stored()).bookingReleaser).toEqual({ byProject: { 'ЖК Север': { duration: '3d' } } });
    await page.close();
  });
});
