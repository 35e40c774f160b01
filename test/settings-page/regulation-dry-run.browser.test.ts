import type { Browser, Frame, Page } from 'playwright-core';
import { SessionSigner } from '../../src/settings-access/session';
import { SETTINGS_PAGE_DIR } from '../../webhooks/settings/entry-router';
import { assertBuilt, postIntoFrame, screenshot, startHostPage, waitVisible } from '../helpers/browser-pages';
import { launchChromium } from '../helpers/chromium';
import { setupAmoPrimaryMarket, setupBitrix24SalesFunnel } from '../helpers/funnels';
import { AMOCRM_APP, startLocalStack, type LocalStack } from '../helpers/local-stack';
import { redisUrl } from '../helpers/test-services';

const DAY = 24 * 3600 * 1000;
const CONTRACT = { ufCrmUnit: 'кв. 5-101', ufCrmPassport: '4510 123456', ufCrmContractNo: 'Д-15', ufCrmContractDate: '2026-11-20' };

/**
 * One flow in a real headless Chromium, inside the CRM's frame at 1024 px: the head of sales binds
 * the funnel in the regulation editor and edits its rules, replays the last 30 days under exactly
 * that edited regulation, sees what would have been put back by rule and by manager with the deals,
 * switches it on — and the stage guard then enforces the edited rule.
 */
describe('regulation dry run on the settings page, in Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;
  let host: Awaited<ReturnType<typeof startHostPage>>;
  let b24: string;
  let amo: string;
  let stage: (name: string) => number;
  let pipelineId: number;
  let contract: number;
  let sale: number;

  beforeAll(async () => {
    assertBuilt(SETTINGS_PAGE_DIR, 'settings page');
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
    host = await startHostPage((url) => {
      if (url.pathname === '/amocrm') {
        const session = new SessionSigner(AMOCRM_APP.clientSecret).issue({ installationId: amo, userId: '1', role: 'admin' }, stack.services.now().getTime()).token;
        return `<!doctype html><meta charset="utf-8"><body style="margin:0;background:#eef2f4"><iframe name="app-frame" style="display:block;width:100%;height:1400px;border:0" src="${stack.appUrl}/apps/settings/#installation=${encodeURIComponent(amo)}&session=${session}&lang=ru"></iframe></body>`;
      }
      const frame = stack.portal.appFrame(1, url.searchParams.get('lang') ?? 'ru');
      return postIntoFrame({ frameName: 'app-frame', action: `${stack.appUrl}/apps/bitrix24/index.html?${new URLSearchParams(frame.query)}`, form: frame.form, height: 1400 });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await stack?.stop();
  });

  async function open(url: string): Promise<{ page: Page; frame: () => Frame }> {
    const page = await browser.newPage({ viewport: { width: 1024, height: 1460 } });
    await page.route('**/api.bitrix24.com/**', (route) => route.abort());
    await page.goto(url);
    return { page, frame: () => page.frame({ name: 'app-frame' })! };
  }

  const visible = (frame: () => Frame, selector: string, timeout = 30_000) => waitVisible(frame, selector, timeout, 'regulation-dry-run-failure.png');

  const text = async (frame: () => Frame, selector: string) => (await frame().locator(selector).first().textContent())?.replace(/\s+/g, ' ').trim() ?? '';
  /** The server has answered the last edit: the editor's status line no longer says it is checking. */
  const settled = (frame: () => Frame) => visible(frame, '[data-binds]:not(:has-text("Проверяем")):not(:has-text("Checking"))');
  /** Binds a funnel to a preset in the regulation editor, as the admin does. */
  async function bindFunnel(frame: () => Frame, preset: string, funnelId: string) {
    await visible(frame, '[data-regulations] [data-new-preset]');
    await frame().locator('[data-new-preset]').selectOption(preset);
    await frame().locator('[data-action="add-funnel"]').click();
    await visible(frame, `[data-regulation="${preset}"] [data-funnel-select]`);
    await settled(frame);
    await frame().locator('[data-funnel-select]').selectOption(funnelId);
    await visible(frame, '[data-binds="ok"]');
  }
  const regulations = async (id: string) => ((await stack.services.store.find(id))!.settings.stageGuard as { regulations?: unknown } | undefined)?.regulations;

  it('Bitrix24, in Russian: an edited matrix is what the 30-day dry run replays and what is switched on; the guard then enforces the edit', async () => {
    const { page, frame } = await open(`${host.url}?lang=ru`);
    await visible(frame, '#open-settings');
    await frame().locator('#open-settings').click();
    await visible(frame, '[data-section="stageGuard"]');
    expect(await text(frame, '[data-section="stageGuard"]')).toContain('ждёт регламента');
    await frame().locator('[data-section="stageGuard"]').click();
    await bindFunnel(frame, 'bitrix24-deals-004', '0');
    expect(await text(frame, '[data-regulation-state]')).toContain('Не включён');
    // The editor is the one UI for the regulations: no raw JSON field beside it.
    expect(await frame().locator('[data-setting="stageGuard.regulations"]').count()).toBe(0);

    // As shipped, the preset would put back two moves of the last 30 days (the older deal is out of the period).
    await frame().locator('[data-regulations] [data-action="dry-run"]').click();
    await visible(frame, '[data-dry-run-report]');
    expect(await text(frame, '[data-dry-run-total] .dry-run__number')).toBe('2');
    expect(await frame().locator('[data-rule="transition_not_allowed"]').count()).toBe(0);

    // The admin closes «Потребности выявлены → Бронь», a move a manager made: the report goes (it was another regulation)…
    await frame().locator('[data-move="needs_identified>booking"]').uncheck();
    await settled(frame);
    await visible(frame, '[data-binds="ok"]');
    expect(await frame().locator('[data-dry-run-report]').count()).toBe(0);
    // …and the dry run of the edited regulation shows that move as a would-be revert.
    await frame().locator('[data-action="dry-run"]').click();
    await visible(frame, '[data-dry-run-report]');
    expect(await text(frame, '[data-dry-run-total] .dry-run__number')).toBe('3');
    expect(await text(frame, '[data-dry-run-total]')).toContain('Было бы возвращено');
    expect(await text(frame, '[data-rule="transition_not_allowed"]')).toContain('Переход не предусмотрен регламентом');
    expect(await text(frame, '[data-rule="transition_not_allowed"] [data-rule-count]')).toBe('1');
    expect(await text(frame, '[data-rule="transition_not_allowed"] [data-example]')).toContain('Потребности выявлены → Бронь');
    expect(await text(frame, '[data-rule="skipped_stage:booking"]')).toContain('Пропущен этап «Бронь»');
    // The example is the deal, by its title as it is now (the deal renamer has been at work), linked to its card.
    const example = frame().locator('[data-rule="skipped_stage:booking"] [data-example] a');
    expect(await example.textContent()).toBe(stack.portal.getDeal(contract)!.title);
    expect(await example.getAttribute('href')).toBe(`${new URL(stack.portal.url).origin}/crm/deal/details/${contract}/`);
    expect(await text(frame, '[data-rule="reason_empty:lost:loss_reason"]')).toContain('по текущим значениям');
    expect(await text(frame, '[data-dry-run-managers]')).toContain('Мария Менеджерова');
    expect(await frame().locator('[data-dry-run-report]').textContent()).not.toContain('Давняя сделка');
    expect(await frame().locator('[data-dry-run-report]').textContent()).toContain('Битрикс24 не записывает');
    expect(await frame().evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await frame().locator('[data-dry-run]').screenshot({ path: screenshot('regulation-dry-run-ru-1024.png') });

    await frame().locator('[data-action="enable-regulation"]').click();
    await visible(frame, '[data-regulation-enabled-notice]');
    await visible(frame, '[data-regulation-state="on"]:has-text("Включён в этом виде")');
    // What is switched on is the edited regulation the dry run replayed.
    const [saved, ...more] = (await regulations(b24)) as Array<{ preset: string; overrides: Record<string, any> }>;
    expect(more).toEqual([]);
    expect(saved).toMatchObject({ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } });
    const fromFirstCall = saved!.overrides.transitions.allow.find((r: { from: string }) => r.from === 'needs_identified').to;
    expect(fromFirstCall).toEqual(expect.arrayContaining(['meeting_set', 'meeting_held']));
    expect(fromFirstCall).not.toContain('booking');
    // The page reloaded its view: the stage guard no longer waits for a regulation.
    await visible(frame, '[data-section="stageGuard"]:has-text("включён")');
    await frame().locator('[data-regulation-enabled-notice]').scrollIntoViewIfNeeded();
    await frame().locator('[data-dry-run]').screenshot({ path: screenshot('regulation-dry-run-enabled-ru-1024.png') });
    await page.close();

    // The preset allowed this move; the edited regulation does not, and the guard puts it back.
    const id = stack.portal.userAddDeal({ title: 'После включения', stageId: 'NEW', categoryId: 0, assignedById: 2, ufCrmUnit: 'кв. 9' } as never, 2);
    await stack.idle();
    stack.portal.userMoveDeal(id, 'UC_BOOKING', 2);
    await stack.idle();
    expect(stack.portal.getDeal(id)?.stageId).toBe('NEW');
    // The rule the preset brings stays too: a contract without a booking goes back.
    const skip = stack.portal.userAddDeal({ title: 'Договор после включения', stageId: 'NEW', categoryId: 0, assignedById: 2, ...CONTRACT } as never, 2);
    await stack.idle();
    stack.portal.userMoveDeal(skip, 'EXECUTING', 2);
    await stack.idle();
    expect(stack.portal.getDeal(skip)?.stageId).toBe('NEW');
  });

  it('amoCRM, in English: the editor\'s dry run names the manager who moved, and switches on for the account', async () => {
    const { page, frame } = await open(`${host.url}amocrm`);
    await visible(frame, '[data-lang="en"]');
    await frame().locator('[data-lang="en"]').click();
    await frame().locator('[data-section="stageGuard"]').click();
    await visible(frame, '[data-regulations]:has-text("Funnel regulations")');
    await bindFunnel(frame, 'amocrm-primary-market', String(pipelineId));
    await frame().locator('[data-action="dry-run"]').click();
    await visible(frame, '[data-dry-run-report]');
    expect(await text(frame, '[data-dry-run-total] .dry-run__number')).toBe('1');
    expect(await text(frame, '[data-dry-run-total]')).toContain('Would have been put back');
    expect(await text(frame, '[data-rule="skipped_stage:meeting_held"]')).toContain('Skipped stage «Встреча состоялась»');
    const example = frame().locator('[data-rule="skipped_stage:meeting_held"] [data-example] a');
    expect(await example.textContent()).toBe(stack.amo.getLead(sale)!.name);
    expect(await example.getAttribute('href')).toBe(`${stack.amo.url}/leads/detail/${sale}`);
    expect(await text(frame, '[data-dry-run-managers]')).toContain('Анна Менеджерова');
    await frame().locator('[data-dry-run]').screenshot({ path: screenshot('regulation-dry-run-amocrm-en-1024.png') });
    await frame().locator('[data-action="enable-regulation"]').click();
    await visible(frame, '[data-regulation-enabled-notice]');
    expect(await regulations(amo)).toEqual([{ preset: 'amocrm-primary-market', overrides: { funnelId: String(pipelineId) } }]);
    await page.close();
  });
});
