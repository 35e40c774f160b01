import type { Browser } from 'playwright-core';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { CARD_PAGE_DIR } from '../../webhooks/card/card-router';
import { assertBuilt, screenshot, startHostPage, waitVisible } from '../helpers/browser-pages';
import { launchChromium } from '../helpers/chromium';
import { setupAmoPrimaryMarket } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { setSettings } from '../helpers/takeover';
import { redisUrl } from '../helpers/test-services';
import { amoLeadRevertedByGuard, widgetCardSession } from './card-helpers';

const ANNA = 2;
const HEAD = 4;

/**
 * The robot log in an amoCRM lead card, in a real headless Chromium: the widget trades amoCRM's
 * disposable token for a card session of that lead (as its lead-card area does) and the account page
 * frames the card page at 1024 px; the head of sales reads why the guard put the lead back and undoes it.
 * (The widget's own script and its Origin check are covered by card-amocrm.e2e.test.ts.)
 */
describe('card robot log in Chromium, inside the amoCRM lead card', () => {
  let stack: LocalStack;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof startHostPage>>;
  let stage: (name: string) => number;
  let pipelineId: number;

  beforeAll(async () => {
    assertBuilt(CARD_PAGE_DIR, 'card page');
    browser = await launchChromium();
    stack = await startLocalStack({ redisUrl: redisUrl() });
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    const installationId = `amo:${stack.amo.accountId}`;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'amocrm-primary-market', overrides: { settings: { exempt: { roles: [] } } } }])).toMatchObject({ ok: true });
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)], 'dealRenamer.enabled': false });
    // The "lead card": frames the card page address the widget was given (?page=…).
    host = await startHostPage((url) => {
      const page = (url.searchParams.get('page') ?? '').replace(/"/g, '&quot;');
      return (
        `<!doctype html><meta charset="utf-8"><title>amoCRM</title><body style="margin:0;background:#f5f5f5">` +
        `<div style="height:56px;background:#0f2231;color:#fff;font:16px sans-serif;padding:18px 20px;box-sizing:border-box">amoCRM · Сделка · Reglament</div>` +
        `<iframe name="card-frame" style="display:block;width:100%;height:700px;border:0;background:#fff" src="${page}"></iframe></body>`
      );
    });
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await stack?.stop();
  });

  it('the head of sales sees why the guard put the lead back, in Russian, undoes it, and the lead stays where the manager moved it', async () => {
    const id = await amoLeadRevertedByGuard(stack, stage, pipelineId, ANNA);
    expect(stack.amo.getLead(id)?.status_id).toBe(stage('Встреча назначена'));

    const granted = await widgetCardSession(stack, HEAD, id);
    expect(granted.status).toBe(200);
    const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
    await page.goto(`${host.url}?${new URLSearchParams({ page: granted.body.cardUrl })}`);
    const frame = () => page.frame({ name: 'card-frame' });
    await waitVisible(frame, '[data-kind="stage_reverted"]');
    const reverted = frame()!.locator('[data-kind="stage_reverted"]');
    expect(await reverted.textContent()).toContain('Вернул сделку на прежнюю стадию');
    expect(await frame()!.evaluate('getComputedStyle(document.body).fontFamily')).toContain('PT Sans');
    await page.screenshot({ path: screenshot('card-log-amocrm-ru-1024.png') });

    await reverted.locator('[data-action="undo"]').click();
    await reverted.locator('[data-undo-reason]').fill('встреча была онлайн');
    await reverted.locator('[data-action="confirm-undo"]').click();
    await waitVisible(frame, '[data-kind="undone"]');
    expect(await frame()!.locator('[data-kind="undone"] [data-why]').textContent()).toContain('Причина: встреча была онлайн');
    expect(await frame()!.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);

    await stack.idle();
    expect(stack.amo.getLead(id)?.status_id).toBe(stage('Отправлено КП'));
    await page.close();
  });
});
