import { existsSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { encryptionKeyBytes } from '../../src/config';
import { dpKeyFor } from '../../src/installations/amocrm-dp-key';
import { buildWidget } from '../../scripts/widget/build';
import { signWidgetToken, widgetTokenClaims } from '../helpers/amocrm-widget-token';
import { launchChromium } from '../helpers/chromium';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { setSetting } from '../helpers/inventory';
import { redisUrl } from '../helpers/test-services';

/** Debian's `libjs-jquery`: amoCRM loads widgets with its own jQuery (`define(['jquery'], …)`). */
const JQUERY = process.env.JQUERY_PATH ?? '/usr/share/javascript/jquery/jquery.min.js';

/**
 * The widget's Digital Pipeline settings in Chromium, on the emulated account's own origin: the
 * built script.js (AMD) gets jQuery, `dpSettings` runs over a form with the manifest's dp fields,
 * and `$authorizedAjax` is what amoCRM documents it to be, jQuery's ajax with the disposable
 * token in `X-Auth-Token`. The key the widget writes is then saved with the action (as amoCRM
 * does) and a lead entering the stage is acted on.
 */
describe('the widget’s Digital Pipeline settings in Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;
  let page: Page;
  let installationId: string;

  beforeAll(async () => {
    if (!existsSync(JQUERY)) throw new Error(`jQuery not found at ${JQUERY}: install it with \`apt-get install -y libjs-jquery\` (or set JQUERY_PATH).`);
    // Both the account and the app are on 127.0.0.1 here; Chromium's local-network-access checks
    // treat the routed account page as outside the loopback space and would block the app's answer.
    browser = await launchChromium(['--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests']);
  });
  afterAll(() => browser?.close());

  beforeEach(async () => {
    stack = await startLocalStack({ redisUrl: redisUrl() });
    expect((await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`)).status).toBe(200);
    installationId = (await stack.services.store.list())[0]!.id;
    page = await browser.newPage();
  });
  afterEach(async () => {
    await page?.close();
    await stack?.stop();
  });

  /** The account's DP settings page with the widget's action open, as user `userId`. */
  async function openActionSettings(userId: number): Promise<void> {
    const script = buildWidget({ publicUrl: stack.appUrl }).entries.find((e) => e.name === 'script.js')!.data.toString('utf8');
    const token = signWidgetToken(widgetTokenClaims(stack, { user_id: userId, is_admin: userId === 1 }), stack.services.config.AMOCRM_CLIENT_SECRET);
    const html =
      '<!doctype html><meta charset="utf-8"><title>amoCRM · Цифровая воронка</title>' +
      '<div class="dp-action-settings">' +
      '<div class="dp-field"><label>Действие Reglament</label><input type="text" name="action"></div>' +
      '<div class="dp-field"><label>Ключ Reglament</label><input type="text" name="reglament_key"></div>' +
      '</div>' +
      `<script>${readFileSync(JQUERY, 'utf8')}</script>` +
      '<script>window.define = function (deps, factory) { window.widgetFactory = factory; };</script>' +
      `<script>${script}</script>` +
      '<script>' +
      'var Widget = window.widgetFactory(jQuery); var widget = new Widget();' +
      'widget.get_settings = function () { return {}; };' +
      'widget.system = function () { return { area: "digital_pipeline" }; };' +
      `widget.$authorizedAjax = function (options) { return jQuery.ajax(jQuery.extend({}, options, { headers: { "X-Auth-Token": ${JSON.stringify(token)} } })); };` +
      'widget.callbacks.dpSettings();' +
      '</script>';
    const url = `${stack.amo.url}/settings/pipeline/leads/`;
    await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
    await page.goto(url);
  }

  it('an administrator’s action gets the account’s key in its hidden field, and the saved action renames the lead', async () => {
    await openActionSettings(1);
    await page.waitForFunction('document.querySelector(\'input[name="reglament_key"]\').value !== ""');
    const key = await page.inputValue('input[name="reglament_key"]');
    expect(key).toBe(dpKeyFor(encryptionKeyBytes(stack.services.config), installationId));
    expect(await page.isVisible('input[name="reglament_key"]')).toBe(false);
    expect(await page.isVisible('text=Ключ Reglament')).toBe(false);
    expect(await page.locator('.reglament-widget__dp select option').allTextContents()).toEqual([
      'Проверить переход по регламенту', 'Передать лид по распределению', 'Забронировать объект', 'Снять бронь', 'Переименовать сделку',
    ]);
    await page.selectOption('.reglament-widget__dp select', 'rename_deal');
    const action = await page.inputValue('input[name="action"]');
    expect(action).toBe('rename_deal');

    // amoCRM saves the form's fields with the action; a lead entering the stage runs it.
    await setSetting(stack.services, installationId, 'dealRenamer.enabled', false);
    const target = { id: stack.amo.statusId('Переговоры') };
    stack.amo.adminPlacesWidgetDpAction(target.id, { action, reglament_key: key }, buildWidget({ publicUrl: stack.appUrl }).manifest.dp!.webhook_url);
    const id = stack.amo.userAddLead({ name: 'Заявка', custom_fields_values: [{ field_id: stack.amo.leadFieldId('Объект'), values: [{ value: 'кв. 9' }] }] });
    await stack.idle();
    stack.amo.userMoveLead(id, target.id);
    await stack.idle();
    expect(stack.amo.getLead(id)?.name).toBe(`${id} / кв. 9`);
  });

  it('a manager gets no key: the field stays empty and the settings say why', async () => {
    await openActionSettings(2);
    await page.waitForSelector('.reglament-widget__unavailable');
    expect(await page.textContent('.reglament-widget__unavailable')).toContain('администратору аккаунта');
    expect(await page.inputValue('input[name="reglament_key"]')).toBe('');
  });
});
