import type { Browser } from 'playwright-core';
import { configureRegulations } from '../../src/installations/configure-regulations';
import { CARD_PAGE_DIR } from '../../webhooks/card/card-router';
import { assertBuilt, postIntoFrame, screenshot, startHostPage, waitVisible } from '../helpers/browser-pages';
import { launchChromium } from '../helpers/chromium';
import { setupBitrix24SalesFunnel } from '../helpers/funnels';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { setSettings } from '../helpers/takeover';
import { redisUrl } from '../helpers/test-services';

const MANAGER = 2;
const HEAD = 4;

/**
 * The deal tab in a real headless Chromium, opened the way Bitrix24 opens it: a host page on another origin
 * POSTs the placement form (AUTH_ID, member_id, PLACEMENT=CRM_DEAL_DETAIL_TAB, PLACEMENT_OPTIONS={"ID":…})
 * into an iframe at 1024 px; the head of sales reads the log in Russian and undoes the stage guard's revert.
 */
describe('card robot log in Chromium, inside the Bitrix24 deal tab', () => {
  let stack: LocalStack;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof startHostPage>>;
  let installationId: string;

  beforeAll(async () => {
    assertBuilt(CARD_PAGE_DIR, 'card page');
    browser = await launchChromium();
    stack = await startLocalStack({ redisUrl: redisUrl() });
    setupBitrix24SalesFunnel(stack.portal);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    installationId = `b24:${stack.portal.memberId}`;
    expect(await configureRegulations(stack.services, installationId, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0', settings: { exempt: { roles: [] } } } }])).toMatchObject({ ok: true });
    await setSettings(stack.services, installationId, { headsOfSales: [String(HEAD)], 'dealRenamer.enabled': false });
    host = await startHostPage((url) => {
      const frame = stack.portal.placementFrame('CRM_DEAL_DETAIL_TAB', url.searchParams.get('deal') ?? '0', Number(url.searchParams.get('user') ?? HEAD));
      return postIntoFrame({ frameName: 'card-frame', action: `${frame.handler}?${new URLSearchParams(frame.query)}`, form: frame.form, height: 700, banner: 'Сделка · Роботы Reglament' });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await stack?.stop();
  });

  it('the head of sales sees why the guard put the deal back, in Russian, undoes it with a reason, and sees the undo in the log', async () => {
    const id = stack.portal.userAddDeal({ title: 'Сделка', stageId: 'NEW', categoryId: 0, assignedById: MANAGER, ufCrmUnit: 'кв. 5-101', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' } as never, MANAGER);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'EXECUTING', MANAGER);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');

    const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
    await page.goto(`${host.url}?deal=${id}&user=${HEAD}`);
    const frame = () => page.frame({ name: 'card-frame' });
    await waitVisible(frame, '[data-kind="stage_reverted"]');
    const reverted = frame()!.locator('[data-kind="stage_reverted"]');
    expect(await reverted.textContent()).toContain('Вернул сделку на прежнюю стадию');
    expect(await reverted.locator('[data-why]').textContent()).toContain('«Договор»');
    expect(await frame()!.locator('h1').textContent()).toBe('Что сделали роботы');
    await page.screenshot({ path: screenshot('card-log-ru-1024.png') });

    await reverted.locator('[data-action="undo"]').click();
    await reverted.locator('[data-undo-reason]').fill('клиент уже подписал договор');
    await reverted.locator('[data-action="confirm-undo"]').click();
    await waitVisible(frame, '[data-kind="undone"]');
    const undone = frame()!.locator('[data-kind="undone"]');
    expect(await undone.textContent()).toContain('Действие робота отменено');
    expect(await undone.locator('[data-undone-by]').textContent()).toContain('Ольга Руководитель');
    expect(await undone.locator('[data-why]').textContent()).toContain('Причина: клиент уже подписал договор');
    expect(await frame()!.locator('[data-notice]').textContent()).toContain('Действие отменено');
    expect(await frame()!.locator('[data-kind="stage_reverted"] [data-undone]').count()).toBe(1);
    expect(await frame()!.locator('[data-kind="stage_reverted"] [data-action="undo"]').count()).toBe(0);
    expect(await frame()!.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: screenshot('card-undone-ru-1024.png') });

    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('EXECUTING');
    await page.close();
  });

  it('a manager sees the same log but no undo button', async () => {
    const id = stack.portal.userAddDeal({ title: 'Сделка 2', stageId: 'NEW', categoryId: 0, assignedById: MANAGER } as never, MANAGER);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'UC_BOOKING', MANAGER);
    await stack.idle();
    const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
    await page.goto(`${host.url}?deal=${id}&user=${MANAGER}`);
    const frame = () => page.frame({ name: 'card-frame' });
    await waitVisible(frame, '[data-kind="stage_reverted"]');
    expect(await frame()!.locator('[data-action="undo"]').count()).toBe(0);
    await waitVisible(frame, '[data-read-only]');
    await page.close();
  });
});
