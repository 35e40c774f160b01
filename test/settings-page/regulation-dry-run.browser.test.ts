import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { SessionSigner } from '../../src/settings-access/session';
import { SETTINGS_PAGE_DIR } from '../../webhooks/settings/entry-router';
import { launchChromium } from '../helpers/chromium';
import { setupAmoPrimaryMarket, setupBitrix24SalesFunnel } from '../helpers/funnels';
import { AMOCRM_APP, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

/** As in settings-page.browser.test.ts: a temporary folder unless SCREENSHOTS_DIR says where. */
const SCREENSHOTS = path.resolve(process.env.SCREENSHOTS_DIR ?? path.join(tmpdir(), 'reglament-screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });
const DAY = 24 * 3600 * 1000;
const CONTRACT = { ufCrmUnit: 'кв. 5-101', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' };

/**
 * The «Регламент» dry run in a real headless Chromium, inside the CRM's frame: the head of sales
 * replays the last 30 days under the deal regulation, sees what would have been put back by rule
 * and by manager with the deals, switches it on — and the stage guard then puts such a move back.
 */
describe('regulation dry run on the settings page, in Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;
  let host: Server;
  let hostUrl: string;
  let b24: string;
  let amo: string;
  let stage: (name: string) => number;
  let pipelineId: number;
  let contract: number;
  let sale: number;

  beforeAll(async () => {
    if (!existsSync(path.join(SETTINGS_PAGE_DIR, 'index.html'))) throw new Error('The settings page is not built: run `npm run build:pages` (npm test does it first).');
    browser = await launchChromium();
    stack = await startLocalStack({ redisUrl: redisUrl(), startAt: new Date(Date.now() - 40 * DAY).toISOString() });
    setupBitrix24SalesFunnel(stack.portal);
    expect((await stack.portal.install(`${stack.appUrl}/bitrix24/install`)).status).toBe(200);
    b24 = `b24:${stack.portal.memberId}`;
    ({ stage, pipelineId } = setupAmoPrimaryMarket(stack.amo));
    await stack.amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
    amo = `amo:${stack.amo.accountId}`;

    const old = stack.portal.userAddDeal({ title: 'Давняя сделка', stageId: 'NEW', categoryId: 0, assignedById: 3, ...CONTRACT } as never, 3);
    stack.portal.userMoveDeal(old, 'EXECUTING', 3);
    await stack.idle();
    stack.timeTravel(25 * DAY);
    contract = stack.portal.userAddDeal({ title: 'Договор без брони', stageId: 'NEW', categoryId: 0, assignedById: 2, ...CONTRACT } as never, 2);
    stack.portal.userMoveDeal(contract, 'EXECUTING', 2);
    const booked = stack.portal.userAddDeal({ title: 'Бронь по правилам', stageId: 'NEW', categoryId: 0, assignedById: 3, ufCrmUnit: 'кв. 7' } as never, 3);
    stack.portal.userMoveDeal(booked, 'UC_BOOKING', 3);
    const lost = stack.portal.userAddDeal({ title: 'Проигрыш без причины', stageId: 'NEW', categoryId: 0, assignedById: 2 } as never, 2);
    stack.portal.userMoveDeal(lost, 'LOSE', 2);
    sale = stack.amo.userAddLead({ name: 'Продажа без встречи', pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: 2 } as never, 2);
    stack.amo.userMoveLead(sale, 142, 2);
    await stack.idle();
    stack.timeTravel(15 * DAY);

    // The "CRM": a page on another origin that frames the app. Bitrix24 POSTs its frame form;
    // amoCRM's widget opens the settings URL with the session the app issued for the account.
    host = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body: string;
      if (url.pathname === '/amocrm') {
        const session = new SessionSigner(AMOCRM_APP.clientSecret).issue({ installationId: amo, userId: '1', role: 'admin' }, stack.services.now().getTime()).token;
        body = `<iframe name="app-frame" style="display:block;width:100%;height:1400px;border:0" src="${stack.appUrl}/apps/settings/#installation=${encodeURIComponent(amo)}&session=${session}&lang=ru"></iframe>`;
      } else {
        const frame = stack.portal.appFrame(1, url.searchParams.get('lang') ?? 'ru');
        const action = `${stack.appUrl}/apps/bitrix24/index.html?${new URLSearchParams(frame.query)}`;
        const inputs = Object.entries(frame.form).map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, '&quot;')}">`).join('');
        body = `<iframe name="app-frame" style="display:block;width:100%;height:1400px;border:0"></iframe><form id="f" method="post" target="app-frame" action="${action}">${inputs}</form><script>document.getElementById('f').submit()</script>`;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><meta charset="utf-8"><body style="margin:0;background:#eef2f4">${body}</body>`);
    });
    await new Promise<void>((r) => host.listen(0, 'localhost', () => r()));
    hostUrl = `http://localhost:${(host.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (host ? host.close(() => r()) : r()));
    await stack?.stop();
  });

  async function open(url: string): Promise<{ page: Page; frame: () => Frame }> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 1460 } });
    await page.route('**/api.bitrix24.com/**', (route) => route.abort());
    await page.goto(url);
    return { page, frame: () => page.frame({ name: 'app-frame' })! };
  }

  async function visible(frame: () => Frame, selector: string, timeout = 30_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const f = frame();
      if (f && (await f.locator(selector).first().isVisible().catch(() => false))) return;
      if (Date.now() > deadline) {
        await f?.page().screenshot({ path: path.join(SCREENSHOTS, 'regulation-dry-run-failure.png') }).catch(() => {});
        throw new Error(`${selector} did not show in the app frame (screenshot: ${path.join(SCREENSHOTS, 'regulation-dry-run-failure.png')})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const text = async (frame: () => Frame, selector: string) => (await frame().locator(selector).first().textContent())?.replace(/\s+/g, ' ').trim() ?? '';
  /** Picks an item of a b24ui select (a listbox in a portal, as the user does it). */
  async function pick(frame: () => Frame, which: 'preset' | 'funnel', label: string) {
    await frame().locator(`[data-pick="${which}"]`).click();
    await frame().getByRole('option', { name: label, exact: true }).click();
    await visible(frame, `[data-pick="${which}"]:has-text("${label}")`);
  }
  const funnelName = async (installationId: string, id: string) => {
    const crm = await stack.services.clients.forInstallation((await stack.services.store.find(installationId))!);
    return (await crm.listFunnels()).find((f) => f.id === id && f.entity === 'deal')!.name;
  };
  const regulations = async (id: string) => ((await stack.services.store.find(id))!.settings.stageGuard as { regulations?: unknown } | undefined)?.regulations;

  it('Bitrix24, in Russian: run on 30 days, see the counts by rule and manager with the deals, switch on; the guard then enforces it', async () => {
    const { page, frame } = await open(`${hostUrl}/?lang=ru`);
    await visible(frame, '#open-settings');
    await frame().locator('#open-settings').click();
    await visible(frame, '[data-section="stageGuard"]');
    await frame().locator('[data-section="stageGuard"]').click();
    await visible(frame, '[data-dry-run] [data-action="dry-run"]');
    // The preset and the funnel come preselected: the first preset of this CRM, the funnel it names.
    await visible(frame, '[data-pick="funnel"]:has-text("Определить по регламенту")');
    expect(await text(frame, '[data-pick="preset"]')).toContain('Битрикс24');
    await pick(frame, 'funnel', await funnelName(b24, '0'));

    await frame().locator('[data-action="dry-run"]').click();
    await visible(frame, '[data-dry-run-report]');
    expect(await text(frame, '[data-dry-run-total] .dry-run__number')).toBe('2');
    expect(await text(frame, '[data-dry-run-total]')).toContain('Было бы возвращено');
    expect(await text(frame, '[data-rule="skipped_stage:booking"]')).toContain('Пропущен этап «Бронь»');
    expect(await text(frame, '[data-rule="skipped_stage:booking"] [data-rule-count]')).toBe('1');
    // The example is the deal, by its title as it is now (the deal renamer has been at work), linked to its card.
    const example = frame().locator('[data-rule="skipped_stage:booking"] [data-example] a');
    expect(await example.textContent()).toBe(stack.portal.getDeal(contract)!.title);
    expect(await example.getAttribute('href')).toBe(`${new URL(stack.portal.url).origin}/crm/deal/details/${contract}/`);
    expect(await text(frame, '[data-rule="reason_empty:lost:loss_reason"]')).toContain('по текущим значениям');
    expect(await text(frame, '[data-dry-run-managers]')).toContain('Мария Менеджерова');
    expect(await frame().locator('[data-dry-run-report]').textContent()).not.toContain('Давняя сделка');
    expect(await frame().locator('[data-dry-run-report]').textContent()).toContain('Битрикс24 не записывает');
    expect(await frame().evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await frame().locator('[data-dry-run]').screenshot({ path: path.join(SCREENSHOTS, 'regulation-dry-run-ru-1024.png') });

    await frame().locator('[data-action="enable-regulation"]').click();
    await visible(frame, '[data-regulation-enabled-notice]');
    expect(await regulations(b24)).toEqual([{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }]);
    // The page shows the saved regulation in the stage guard's settings.
    await visible(frame, '[data-setting="stageGuard.regulations"]');
    expect(await frame().locator('[data-setting="stageGuard.regulations"] textarea').inputValue()).toContain('bitrix24-deals-004');
    await page.close();

    const id = stack.portal.userAddDeal({ title: 'После включения', stageId: 'NEW', categoryId: 0, assignedById: 2, ...CONTRACT } as never, 2);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'EXECUTING', 2);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
  });

  it('amoCRM, in English: the dry run names the manager who moved, and switches on for the account', async () => {
    const { page, frame } = await open(`${hostUrl}/amocrm`);
    await visible(frame, '[data-lang="en"]');
    await frame().locator('[data-lang="en"]').click();
    await frame().locator('[data-section="stageGuard"]').click();
    await visible(frame, '[data-dry-run] [data-action="dry-run"]');
    await pick(frame, 'funnel', 'Первичный рынок');
    await frame().locator('[data-action="dry-run"]').click();
    await visible(frame, '[data-dry-run-report]');
    expect(await text(frame, '[data-dry-run-total] .dry-run__number')).toBe('1');
    expect(await text(frame, '[data-dry-run-total]')).toContain('Would have been put back');
    expect(await text(frame, '[data-rule="skipped_stage:meeting_held"]')).toContain('Skipped stage «Встреча состоялась»');
    const example = frame().locator('[data-rule="skipped_stage:meeting_held"] [data-example] a');
    expect(await example.textContent()).toBe(stack.amo.getLead(sale)!.name);
    expect(await example.getAttribute('href')).toBe(`${stack.amo.url}/leads/detail/${sale}`);
    expect(await text(frame, '[data-dry-run-managers]')).toContain('Анна Менеджерова');
    await frame().locator('[data-dry-run]').screenshot({ path: path.join(SCREENSHOTS, 'regulation-dry-run-amocrm-en-1024.png') });
    await frame().locator('[data-action="enable-regulation"]').click();
    await visible(frame, '[data-regulation-enabled-notice]');
    expect(await regulations(amo)).toEqual([{ preset: 'amocrm-primary-market', overrides: { funnelId: String(pipelineId) } }]);
    await page.close();
  });
});
