import type { Browser, Frame, Page } from 'playwright-core';
import { SETTINGS_PAGE_DIR } from '../../webhooks/settings/entry-router';
import { assertBuilt, postIntoFrame, screenshot, startHostPage, waitVisible } from '../helpers/browser-pages';
import { launchChromium } from '../helpers/chromium';
import { setupBitrix24SalesFunnel } from '../helpers/funnels';
import { profitbaseConnection } from '../helpers/inventory';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

/**
 * The regulation editor, the renamer preview and the inventory test in a real headless Chromium, at
 * 1024 px inside the Bitrix24 frame (a host page on another origin POSTs the frame form), against the
 * local stack: the portal emulator with the seed 004 deal funnel and the emulated Profitbase account.
 */
describe('binding a funnel to a regulation, previews and test connection in Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof startHostPage>>;
  let installationId: string;
  let dealId: number;

  beforeAll(async () => {
    assertBuilt(SETTINGS_PAGE_DIR, 'settings page');
    browser = await launchChromium();
    stack = await startLocalStack({ redisUrl: redisUrl(), profitbaseMinIntervalMs: 0 });
    setupBitrix24SalesFunnel(stack.portal);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    installationId = `b24:${stack.portal.memberId}`;
    const contactId = stack.portal.userAddContact({ name: 'Иван', lastName: 'Иванов', phones: ['+79991234567'] });
    dealId = stack.portal.userAddDeal({ title: 'Сделка', contactId, ufCrmUnit: 'кв. 5-101' } as never);
    await stack.idle();
    host = await startHostPage((url) => {
      const frame = stack.portal.appFrame(1, url.searchParams.get('lang') ?? 'ru');
      return postIntoFrame({ frameName: 'app-frame', action: `${stack.appUrl}/apps/bitrix24/settings?${new URLSearchParams(frame.query)}`, form: frame.form, height: 780 });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await stack?.stop();
  });

  async function openSettings(lang: 'ru' | 'en'): Promise<{ page: Page; frame: () => Frame }> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 820 } });
    await page.route('**/api.bitrix24.com/**', (route) => route.abort());
    page.on('console', (m) => { if (process.env.DEBUG_PAGE) console.log('PAGE', m.type(), m.text()); });
    page.on('pageerror', (e) => { if (process.env.DEBUG_PAGE) console.log('PAGEERROR', e.message); });
    await page.goto(`${host.url}?lang=${lang}`);
    const frame = () => page.frame({ name: 'app-frame' })!;
    await until(frame, '[data-section="stageGuard"]');
    return { page, frame };
  }

  const until = (frame: () => Frame, selector: string, timeout = 15_000) => waitVisible(frame, selector, timeout, 'failure-regulation.png');

  /** Waits for the server's answer to an edit: the «checking» line is gone and the matrix shows the new state. */
  const settled = (frame: () => Frame) => until(frame, '[data-binds]:not(:has-text("Проверяем")):not(:has-text("Checking"))');
  const stageGuard = async () => ((await stack.services.store.find(installationId))!.settings.stageGuard ?? {}) as { regulations?: Array<{ preset: string; overrides: Record<string, any> }> };

  it('binds the funnel: roles from the stage names, a matrix edit, a required field picked by its title, the message preview, save (Russian)', async () => {
    const { page, frame } = await openSettings('ru');
    expect(await frame().locator('[data-section="stageGuard"]').textContent()).toContain('ждёт регламента');
    await frame().locator('[data-section="stageGuard"]').click();
    await until(frame, '[data-regulations]');
    // The editor is the one UI for the regulations: the raw JSON field of the generic form is not shown beside it.
    expect(await frame().locator('[data-setting="stageGuard.regulations"]').count()).toBe(0);
    await frame().locator('[data-new-preset]').selectOption('bitrix24-deals-004');
    await frame().locator('[data-action="add-funnel"]').click();
    // The preset's funnel names do not match «Общая»: the editor says so at the funnel, and the admin picks it.
    await until(frame, '[data-funnel-select][data-invalid="true"]');
    expect(await frame().locator('[data-error-path="presets/bitrix24-deals-004.json:funnel.names"]').textContent()).toContain('choose one with overrides.funnelId');
    await frame().locator('[data-funnel-select]').selectOption('0');
    await until(frame, '[data-binds="ok"]');
    // Roles proposed from the portal's own stage names.
    expect(await frame().locator('[data-role-select="UC_BOOKING"]').inputValue()).toBe('booking');
    expect(await frame().locator('[data-role-select="LOSE"]').inputValue()).toBe('lost');

    // A role on a stage of the wrong kind is refused, shown at that stage with its path.
    await frame().locator('[data-role-select="UC_BOOKING"]').selectOption('won');
    await until(frame, '[data-role-select="UC_BOOKING"][data-invalid="true"]');
    expect(await frame().locator('[data-crm-stage="UC_BOOKING"]').textContent()).toContain('needs a success stage');
    expect(await frame().locator('[data-error-path="overrides:stages.won"]').count()).toBe(1);
    await page.screenshot({ path: screenshot('regulation-error-ru-1024.png') });
    await frame().locator('[data-role-select="UC_BOOKING"]').selectOption('booking');
    await settled(frame);
    await frame().locator('[data-role-select="WON"]').selectOption('won');
    await until(frame, '[data-binds="ok"]');

    // The matrix: the first call may no longer go straight to booking.
    const firstCallToBooking = frame().locator('[data-move="needs_identified>booking"]');
    expect(await firstCallToBooking.isChecked()).toBe(true);
    await firstCallToBooking.uncheck();
    await settled(frame);
    expect(await frame().locator('[data-move="needs_identified>booking"]').isChecked()).toBe(false);

    // A required field of «Бронь», picked by the title the portal shows.
    await frame().locator('[data-add-field="booking"]').selectOption({ label: 'Паспортные данные' });
    await until(frame, '[data-stage-fields="booking"] [data-required-field="Паспортные данные"]');
    await settled(frame);

    // A manager-facing text edited on the page…
    const notAllowed = frame().locator('[data-message="notAllowed"] input');
    await notAllowed.fill('Так по регламенту нельзя');
    await notAllowed.press('Tab');
    await settled(frame);
    // …and the message the stage guard would write for the sample move, with it.
    await frame().locator('[data-preview-from]').selectOption('needs_identified');
    await frame().locator('[data-preview-to]').selectOption('booking');
    await frame().locator('[data-action="preview-message"]').click();
    await until(frame, '[data-preview-text]');
    const previewText = await frame().locator('[data-preview-text]').textContent();
    expect(previewText).toContain('Нельзя перейти из «Потребности выявлены» в «Бронь»');
    expect(previewText).toContain('«Паспортные данные»');
    expect(previewText).toContain('так по регламенту нельзя');
    await frame().locator('[data-message-preview]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot('regulation-preview-ru-1024.png') });

    await frame().locator('[data-action="save-regulations"]').click();
    await until(frame, '[data-regulation-notice]:has-text("сохранены")');
    await until(frame, '[data-regulation-state="on"]');
    // The page reloaded its view after the save: the stage guard no longer waits for a regulation.
    await until(frame, '[data-section="stageGuard"]:has-text("включён")');
    const [saved] = (await stageGuard()).regulations!;
    expect(saved!.preset).toBe('bitrix24-deals-004');
    expect(saved!.overrides.transitions.allow.find((r: { from: string }) => r.from === 'needs_identified').to).not.toContain('booking');
    expect(saved!.overrides.transitions.deny).toEqual([expect.objectContaining({ from: 'needs_identified', explain: expect.objectContaining({ ru: expect.stringContaining('С первого звонка') }) })]);
    expect(saved!.overrides.stageRules.booking.requiredFields).toHaveLength(2);
    expect(saved!.overrides.messages.ru.notAllowed).toBe('Так по регламенту нельзя');
    const wide = await frame().evaluate(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`);
    expect(wide).toEqual([]);
    await page.close();
  });

  it('previews the renamer’s title on a recent deal with the template being edited, and tests the Profitbase connection (Russian)', async () => {
    const { page, frame } = await openSettings('ru');
    await frame().locator('[data-section="dealRenamer"]').click();
    await until(frame, '[data-renamer-preview]');
    await frame().locator('[data-setting="dealRenamer.template"] input').fill('{unit} — {contact}');
    // The deal the renamer just renamed is offered first.
    await until(frame, '[data-recent-deal]');
    expect(await frame().locator('[data-recent-deal]').inputValue()).toBe(String(dealId));
    await frame().locator('[data-action="preview-title"]').click();
    await until(frame, '[data-new-title]');
    expect(await frame().locator('[data-new-title]').textContent()).toBe('кв. 5-101 — Иванов Иван');
    await page.screenshot({ path: screenshot('renamer-preview-ru-1024.png') });

    await frame().locator('[data-section="unitStatusSync"]').click();
    await until(frame, '[data-inventory-test]');
    // The connection is a form: the system first, then that system's own fields.
    const connection = profitbaseConnection(stack);
    await frame().locator('[data-setting="unitStatusSync.inventory"] [data-variant]').click();
    await frame().locator('[role="option"]:has-text("Profitbase")').click();
    const field = (key: string) => frame().locator(`[data-setting="unitStatusSync.inventory.${key}"] input`);
    await until(frame, '[data-setting="unitStatusSync.inventory.baseUrl"]');
    await field('baseUrl').fill(connection.baseUrl);
    await field('apiKey').fill(connection.apiKey);
    await field('houseId').fill(String(connection.houseId));
    await frame().locator('[data-action="test-connection"]').click();
    await until(frame, '[data-test-result="ok"]');
    expect(await frame().locator('[data-test-result]').textContent()).toContain('✓ reachable, the API key is accepted');
    await frame().locator('[data-test-result]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot('inventory-test-ru-1024.png') });
    await field('apiKey').fill('app-wrong');
    await frame().locator('[data-action="test-connection"]').click();
    await until(frame, '[data-test-result="failed"]');
    expect(await frame().locator('[data-test-result]').textContent()).toContain('✗ Profitbase refused the API key');
    // Saved from the form: one whole connection, though it was typed field by field.
    await field('apiKey').fill(connection.apiKey);
    await frame().locator('[data-action="save"]').click();
    await until(frame, '[data-notice]:has-text("Изменения действуют")');
    const stored = (await stack.services.store.find(installationId))!.settings as { unitStatusSync?: { inventory?: unknown } };
    expect(stored.unitStatusSync?.inventory).toMatchObject(connection);
    await page.close();
  });

  it('in English: the editor speaks English and the preview is the English text managers would read', async () => {
    const { page, frame } = await openSettings('en');
    await frame().locator('[data-lang="en"]').click();
    await frame().locator('[data-section="stageGuard"]').click();
    await until(frame, '[data-regulations]:has-text("Funnel regulations")');
    await until(frame, '[data-binds="ok"]');
    await frame().locator('[data-message-locale]').selectOption('en');
    await frame().locator('[data-preview-from]').selectOption('needs_identified');
    await frame().locator('[data-preview-to]').selectOption('booking');
    await frame().locator('[data-action="preview-message"]').click();
    await until(frame, '[data-preview-text]');
    expect(await frame().locator('[data-preview-text]').textContent()).toContain('The deal cannot move from “Потребности выявлены” to “Бронь”');
    await page.screenshot({ path: screenshot('regulation-preview-en-1024.png') });
    await page.close();
  });
});
