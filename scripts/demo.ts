/**
 * `npm run demo`: the app with an emulated Bitrix24 portal and amoCRM account on 127.0.0.1.
 * Installs the app into both through the real install flows, binds the shipped regulations,
 * plays a manager's day (new deals, an edit, a stage jump the regulation forbids, a repeat call from a known client,
 * a lead not taken in time, stage timers with short limits: a stuck deal, an untouched one, the no-answer cadence,
 * next-step tasks), books a flat in the emulated Profitbase and lets the short booking expire, books one in the
 * 1C-style service from amoCRM, prints what each robot did, dry-runs the deal regulation on the portal's history,
 * prints the settings and card pages to open (with sessions as the CRM frame would issue), and keeps serving a
 * local page with installations and robot actions until Ctrl-C.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { resolveRedis } from '../src/infra/redis';
import { dryRunRegulation, dryRunRequestSchema } from '../src/installations/regulation-dry-run';
import { CardSessionSigner } from '../src/settings-access/card-session';
import { CARD_PAGE_PATH } from '../webhooks/card/card-router';
import { SETTINGS_PAGE_DIR, SETTINGS_PAGE_PATH } from '../webhooks/settings/entry-router';
import { SettingsSessions } from '../webhooks/settings/sessions';
import { configureRegulations } from '../src/installations/configure-regulations';
import { OPERATOR_AT_CLI } from '../src/settings/settings-history';
import { writeSettings } from '../src/settings/write-settings';
import { setupAmoPrimaryMarket, setupAmoSalesPipeline, setupBitrix24LeadFunnel, setupBitrix24SalesFunnel } from '../test/helpers/funnels';
import { onecConnection, profitbaseConnection, setSetting } from '../test/helpers/inventory';
import { startLocalStack, type LocalStack } from '../test/helpers/local-stack';

const MANAGER = 2;

async function main() {
  const redis = await resolveRedis();
  console.log(`Redis: ${redis.url} (${redis.source})`);
  const port = Number(process.env.PORT ?? 0) || undefined;
  const stack = await startLocalStack({ redisUrl: redis.url, prefix: `reglament-demo-${process.pid}`, port, logLevel: process.env.LOG_LEVEL ?? 'warn' });
  console.log(`Reglament: ${stack.appUrl}   Bitrix24 portal: ${stack.portal.url}   amoCRM account: ${stack.amo.url}`);
  console.log(`Profitbase account: ${stack.pb.url} (1 request/s, as the real one)   1C inventory service: ${stack.onec.url}\n`);

  const shutdown = async () => {
    console.log('\nStopping…');
    await stack.stop();
    await redis.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());

  await bitrix24Day(stack);
  await bookingDay(stack);
  await amocrmDay(stack);
  await bitrix24Timers(stack);
  await amocrmTimers(stack);
  await amocrmTakeover(stack);
  await printActions(stack);
  await dryRunDemo(stack);
  await printPages(stack);

  if (process.env.DEMO_EXIT) return shutdown();
  console.log(`\nInstallations and the latest robot actions: ${stack.appUrl}/   (Ctrl-C to stop)`);
}

async function bitrix24Day(stack: LocalStack) {
  const { portal, services } = stack;
  setupBitrix24SalesFunnel(portal);
  setupBitrix24LeadFunnel(portal);
  const install = await portal.install(`${stack.appUrl}/bitrix24/install`);
  console.log(`Bitrix24: install page answered ${install.status}, app installed: ${portal.isInstalled}, events bound: ${portal.bindings().length}`);
  const installationId = `b24:${portal.memberId}`;
  await regulation(services, installationId, { preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }, { preset: 'bitrix24-leads-004' });

  const contactId = portal.userAddContact({ name: 'Иван', lastName: 'Иванов', phones: ['+7 999 123-45-67'] }, MANAGER);
  const dealId = portal.userAddDeal({ title: 'Заявка с сайта', stageId: 'NEW', contactId, assignedById: MANAGER, ufCrmUnit: 'ЖК Демо, кв. 5-101' } as never, MANAGER);
  await stack.idle();
  console.log(`Bitrix24: manager created deal ${dealId} → title «${portal.getDeal(dealId)?.title}»`);
  portal.userUpdateDeal(dealId, { ufCrmUnit: 'ЖК Демо, кв. 7-12' } as never, MANAGER);
  await stack.idle();
  console.log(`Bitrix24: manager changed the unit → title «${portal.getDeal(dealId)?.title}»`);
  portal.userMoveDeal(dealId, 'EXECUTING', MANAGER);
  await stack.idle();
  console.log(`Bitrix24: manager jumped to «Договор» → deal is back in stage ${portal.getDeal(dealId)?.stageId}; comment in the card:`);
  for (const c of portal.comments('deal', dealId)) console.log(`    ${String((c as { comment?: string }).comment).replace(/\n/g, '\n    ')}`);
  await automationRobot(stack, dealId);
  await repeatCall(stack, contactId, dealId);
}

/** An automation rule in the portal runs Reglament's «Проверить переход по регламенту» robot; the answer comes back through bizproc.event.send. */
async function automationRobot(stack: LocalStack, dealId: number) {
  const { portal } = stack;
  console.log(`Bitrix24: robots in the automation designer: ${portal.robots().map((r) => `«${(r.name as { ru: string }).ru}»`).join(', ')}`);
  const call = await portal.runRobot('reglament_check_transition', { entity: 'deal', id: dealId }, { toStage: 'EXECUTING' });
  const answer = await portal.robotAnswer(call.eventToken);
  console.log(`Bitrix24: automation ran «Проверить переход по регламенту» (to «Договор») → allowed ${answer.returnValues.allowed}: ${answer.returnValues.violations}`);
}

/** Иванов calls again; the call-center creates a lead with the number he called from and a new mobile. */
async function repeatCall(stack: LocalStack, contactId: number, dealId: number) {
  const { portal } = stack;
  const leadId = portal.userAddLead({ title: 'Входящий звонок', stageId: 'NEW', assignedById: 4, phones: ['8 (999) 123-45-67', '+7 916 555-44-33'], sourceId: 'CALL' } as never, 4);
  await stack.idle();
  const lead = portal.getLead(leadId);
  const status = portal.statusName('STATUS', String(lead?.stageId)) ?? lead?.stageId;
  console.log(`\nBitrix24: a repeat call from Иванов became lead ${leadId} → «${status}», linked to contact ${lead?.contactId === contactId ? contactId : lead?.contactId}`);
  console.log(`  contact phones now: ${portal.getContact(contactId)?.fm.filter((f) => f.typeId === 'PHONE').map((f) => f.value).join(', ')}`);
  for (const c of portal.comments('lead', leadId)) console.log(`  lead comment: ${String((c as { comment?: string }).comment)}`);
  for (const c of portal.comments('deal', dealId).slice(-1)) console.log(`  deal ${dealId} comment: ${String((c as { comment?: string }).comment)}`);
  for (const n of portal.notifications.filter((x) => x.message.includes('повторно'))) console.log(`  notification to user ${n.userId}: ${n.message}`);
}

async function amocrmDay(stack: LocalStack) {
  const { amo, services } = stack;
  const { pipelineId, stage } = setupAmoPrimaryMarket(amo);
  const install = await amo.install(`${stack.appUrl}/amocrm/oauth/callback`);
  console.log(`\namoCRM: OAuth redirect answered ${install.status}, webhooks subscribed: ${amo.webhooks().length}`);
  const sales = setupAmoSalesPipeline(amo);
  await regulations(services, `amo:${amo.accountId}`, [{ preset: 'amocrm-primary-market' }, { preset: 'amocrm-sales-004' }]);

  const contactId = amo.userAddContact({ name: 'Петров Пётр', phones: ['+79990001122'] }, MANAGER);
  const unit = amo.leadFieldId('Объект');
  const leadId = amo.userAddLead(
    { name: 'Звонок', pipeline_id: pipelineId, status_id: stage('Передан в работу'), responsible_user_id: MANAGER, contactId, custom_fields_values: [{ field_id: unit, values: [{ value: 'ЖК Демо, кв. 12-3' }] }] },
    MANAGER,
  );
  await stack.idle();
  console.log(`amoCRM: manager created lead ${leadId} → name «${amo.getLead(leadId)?.name}»`);
  amo.userMoveLead(leadId, 142, MANAGER);
  await stack.idle();
  const back = amo.pipelines.flatMap((p) => p.statuses).find((s) => s.id === amo.getLead(leadId)?.status_id)?.name;
  console.log(`amoCRM: manager closed it as won without a meeting → lead is back in «${back}»; note in the card:`);
  for (const n of amo.notes(leadId)) console.log(`    ${String((n.params as { text?: string } | undefined)?.text ?? '').replace(/\n/g, '\n    ')}`);

  // The same developer keeps its flats in 1C: «Бронь» books one through the HTTP service.
  await setSetting(services, `amo:${amo.accountId}`, 'unitStatusSync.inventory', onecConnection(stack));
  const buyer = amo.userAddLead(
    { name: 'Покупатель', pipeline_id: sales.pipelineId, status_id: sales.stage('Встреча состоялась'), responsible_user_id: MANAGER, custom_fields_values: [{ field_id: unit, values: [{ value: '5-101' }] }] },
    MANAGER,
  );
  await stack.idle();
  console.log(`amoCRM: lead ${buyer} chose flat 5-101; in 1C it is «${stack.onec.unit('5-101')?.status}»`);
  amo.userMoveLead(buyer, sales.stage('Бронь'), MANAGER);
  await stack.idle();
  const held = stack.onec.unit('5-101');
  console.log(`amoCRM: manager moved it to «Бронь» → 1C: «${held?.status}» for ${held?.booking?.dealId} until ${held?.booking?.expiresAt}`);
}

/** Bitrix24 + Profitbase: a flat booked at «Бронь», a second deal refused, the short booking expiring. */
async function bookingDay(stack: LocalStack) {
  const { portal, services, pb } = stack;
  const installationId = `b24:${portal.memberId}`;
  await setSetting(services, installationId, 'unitStatusSync.inventory', profitbaseConnection(stack));
  await setSetting(services, installationId, 'bookingReleaser.duration', '15s');
  const flat = pb.units()[3]!;
  console.log(`\nBitrix24 + Profitbase: flat №${flat.number} (${flat.id}) is «${flat.status}»; bookings last 15 s in this demo (default "3d")`);
  const meeting = { ufCrmMeetingAt: '2026-11-25T15:00:00+03:00', ufCrmMeetingResult: 'выбрали квартиру' };
  const dealId = portal.userAddDeal({ title: 'Покупатель', stageId: 'UC_MEETING', assignedById: MANAGER, ufCrmUnit: `кв. ${flat.number}`, ...meeting } as never, MANAGER);
  await stack.idle();
  portal.userMoveDeal(dealId, 'UC_BOOKING', MANAGER);
  await stack.idle();
  const booked = pb.unit(flat.id)!;
  console.log(`Bitrix24: deal ${dealId} moved to «Бронь» → Profitbase: «${booked.status}» for deal ${pb.dealOf(flat.id)} until ${booked.bookedUntilDate} ${booked.bookedUntilTime}`);
  const rival = portal.userAddDeal({ title: 'Другой покупатель', stageId: 'UC_MEETING', assignedById: 3, ufCrmUnit: `кв. ${flat.number}`, ...meeting } as never, 3);
  await stack.idle();
  portal.userMoveDeal(rival, 'UC_BOOKING', 3);
  await stack.idle();
  console.log(`Bitrix24: deal ${rival} tried to book the same flat → back in ${portal.getDeal(rival)?.stageId}; the card says:`);
  for (const c of portal.comments('deal', rival)) console.log(`    ${String((c as { comment?: string }).comment)}`);
  process.stdout.write('Waiting for the booking to expire');
  const deadline = Date.now() + 60_000;
  while (portal.getDeal(dealId)?.stageId !== 'UC_EXPIRED' && Date.now() < deadline) {
    process.stdout.write('.');
    await new Promise((r) => setTimeout(r, 1000));
  }
  await stack.idle();
  console.log(`\nBitrix24: deal ${dealId} is now ${portal.getDeal(dealId)?.stageId} (Бронь истекла) → Profitbase: «${pb.unit(flat.id)?.status}»; the card says:`);
  for (const c of portal.comments('deal', dealId).slice(-1)) console.log(`    ${String((c as { comment?: string }).comment)}`);
}

/** Stage timers on Bitrix24: the meeting to-do, and the no-answer cadence on a lead. */
async function bitrix24Timers(stack: LocalStack) {
  const { portal, services } = stack;
  setupBitrix24LeadFunnel(portal);
  const installationId = `b24:${portal.memberId}`;
  const result = await configureRegulations(services, installationId, [{ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }, { preset: 'bitrix24-leads-004' }], OPERATOR_AT_CLI);
  console.log(`\nBitrix24 stage timers: regulations ${result.ok ? 'bound' : `refused:\n${result.report}`}`);
  const dealId = portal.userAddDeal({ title: 'Показ в ЖК Демо', stageId: 'NEW', assignedById: MANAGER, ufCrmMeetingAt: new Date(Date.now() + 2 * 86_400_000).toISOString() } as never, MANAGER);
  await stack.idle();
  portal.userMoveDeal(dealId, 'PREPARATION', MANAGER);
  await stack.idle();
  for (const t of portal.todosOf('deal', dealId)) console.log(`Bitrix24: «Встреча назначена» with a date → to-do «${t.title}» due ${t.deadline}`);
  const leadId = portal.userAddLead({ title: 'Звонок с сайта', stageId: 'NEW', assignedById: MANAGER, name: 'Анна' } as never, MANAGER);
  await stack.idle();
  portal.userUpdateLead(leadId, { stageId: 'PROCESSED' } as never, MANAGER);
  await stack.idle();
  for (const t of portal.todosOf('lead', leadId)) console.log(`Bitrix24: lead to «Попытки связаться» → to-do «${t.title}» due ${t.deadline}`);
}

/**
 * Stage timers on amoCRM with the seed's rules made short by the installation's overrides
 * (`timeLimits`): «Для передачи» 3 s → head of sales; «Отложенный спрос» untouched 4 s → a task.
 */
async function amocrmTimers(stack: LocalStack) {
  const { amo, services } = stack;
  const installationId = `amo:${amo.accountId}`;
  const HEAD = 4;
  await writeSettings(services, installationId, OPERATOR_AT_CLI, (current) => ({ ...current.settings, schedule: '24/7', headsOfSales: [String(HEAD)] }));
  await regulation(services, installationId, {
    preset: 'amocrm-primary-market',
    overrides: { timeLimits: { to_hand_over: { maxTime: '3s' }, deferred: { maxTime: '4s' }, proposal_sent: { maxTime: '1h', repeatEvery: '1h', escalation: { after: '2h' } } } },
  });
  const pipeline = amo.pipelines.find((p) => p.name === 'Первичный рынок')!;
  const stage = (name: string) => pipeline.statuses.find((s) => s.name === name)!.id;
  const lead = async (at: string) => {
    const id = amo.userAddLead({ name: 'Клиент', pipeline_id: pipeline.id, status_id: stage(at), responsible_user_id: MANAGER }, MANAGER);
    await stack.idle();
    return id;
  };
  const move = async (id: number, to: string) => {
    amo.userMoveLead(id, stage(to), MANAGER);
    await stack.idle();
  };
  const stuck = await lead('Передан в работу');
  await move(stuck, 'Для передачи');
  const deferred = await lead('Потребности выявлены');
  await move(deferred, 'Отложенный спрос >7 мес');
  const noAnswer = await lead('Передан в работу');
  await move(noAnswer, 'Не дозвонились');
  const proposal = await lead('Потребности выявлены');
  await move(proposal, 'Отправлено КП');
  console.log('\namoCRM stage timers (short limits from the installation\'s overrides): waiting 6 s…');
  await new Promise((r) => setTimeout(r, 6000));
  await stack.idle();
  const show = (who: string, id: number, userId: number) => {
    for (const t of amo.tasks.filter((x) => x.entity_id === id && x.responsible_user_id === userId)) console.log(`amoCRM: ${who}: task «${t.text}»`);
  };
  show('«Для передачи» over 3 s → head of sales', stuck, HEAD);
  show('«Отложенный спрос» untouched 4 s → manager', deferred, MANAGER);
  show('«Не дозвонились» → manager', noAnswer, MANAGER);
  show('«Отправлено КП» → manager', proposal, MANAGER);
}

/**
 * The takeover timer on amoCRM with a 3-second timeout (24/7 schedule from the stage timers part):
 * a request lands in «Передан в работу» under the administrator, the distribution gives it to a
 * manager, nobody takes it, and it goes to the next manager with a note in the card.
 */
async function amocrmTakeover(stack: LocalStack) {
  const { amo, services } = stack;
  const installationId = `amo:${amo.accountId}`;
  const ADMIN = 1;
  await setSetting(services, installationId, 'takeoverTimer.timeout', '3s');
  const pipeline = amo.pipelines.find((p) => p.name === 'Первичный рынок')!;
  const inWork = pipeline.statuses.find((s) => s.name === 'Передан в работу')!.id;
  const id = amo.userAddLead({ name: 'Заявка с сайта', pipeline_id: pipeline.id, status_id: inWork, responsible_user_id: ADMIN }, ADMIN);
  await stack.idle();
  const name = (userId: number | null | undefined) => amo.users.find((u) => u.id === userId)?.name ?? `#${userId}`;
  console.log(`
amoCRM takeover (timeout "3s"): request ${id} in «Передан в работу» → assigned to ${name(amo.getLead(id)?.responsible_user_id)}; nobody takes it…`);
  await new Promise((r) => setTimeout(r, 4500));
  await stack.idle();
  console.log(`amoCRM: now with ${name(amo.getLead(id)?.responsible_user_id)}; note in the card:`);
  for (const n of amo.notes(id).filter((x) => x.note_type === 'service_message')) console.log(`    ${String((n.params as { text?: string } | undefined)?.text ?? '')}`);
}

async function regulation(services: LocalStack['services'], installationId: string, ...specs: Array<{ preset: string; overrides?: Record<string, unknown> }>) {
  const result = await configureRegulations(services, installationId, specs, OPERATOR_AT_CLI);
  const names = specs.map((s) => `«${s.preset}»`).join(', ');
  console.log(result.ok ? `  regulation ${names} bound to the portal's funnels` : `  regulation refused:\n${result.report}`);
}

async function regulations(services: LocalStack['services'], installationId: string, specs: Array<{ preset: string; overrides?: Record<string, unknown> }>) {
  await regulation(services, installationId, ...specs);
}

async function printActions(stack: LocalStack) {
  console.log('\nWhat the robots did (deal: before → after):');
  const installations = (await stack.services.store.list()).map((i) => i.id);
  for (const a of (await stack.services.actions.latestOf(installations, 50)).reverse()) {
    console.log(`  [${a.installationId}] ${a.robot} ${a.target.entity} ${a.target.id}: ${a.summary}${a.before || a.after ? `  «${a.before ?? ''}» → «${a.after ?? ''}»` : ''}`);
  }
}

/** The dry run of the settings page, from the service it calls: what the deal regulation would have put back. */
async function dryRunDemo(stack: LocalStack) {
  const installation = await stack.services.store.find(`b24:${stack.portal.memberId}`);
  if (!installation) return;
  const outcome = await dryRunRegulation(stack.services, installation, dryRunRequestSchema.parse({ preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } }));
  if (!outcome.ok) return console.log(`\nDry run refused: ${outcome.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  const r = outcome.report;
  console.log(`\nDry run of «bitrix24-deals-004» on the portal's last ${r.period.days} days: ${r.transitions} moves, ${r.wouldRevert} would have been put back`);
  console.log('  by rule (a move may break several):');
  for (const rule of r.byRule) console.log(`    ${rule.count} × ${rule.text || rule.id}`);
  console.log('  by manager:');
  for (const m of r.byManager) console.log(`    ${m.name}: ${m.count}`);
}

/**
 * The pages a CRM opens in its frame, with sessions the CRM's frame check would issue (30 minutes):
 * the settings (regulation editor, dry run, previews) for an administrator of each CRM, and the
 * robot log of the first deal with undo.
 */
async function printPages(stack: LocalStack) {
  if (!existsSync(path.join(SETTINGS_PAGE_DIR, 'index.html'))) {
    return console.log('\nThe settings and card pages are not built: `npm run build:pages`, then run the demo again to open them.');
  }
  const sessions = new SettingsSessions(stack.services.config, () => stack.services.now());
  console.log('\nOpen in a browser (sessions valid 30 minutes):');
  for (const installation of await stack.services.store.list()) {
    const session = sessions.issue(installation, '1', 'admin');
    const crm = installation.crm === 'bitrix24' ? 'Bitrix24' : 'amoCRM';
    if (session) console.log(`  ${crm} settings: ${stack.appUrl}${SETTINGS_PAGE_PATH}#${new URLSearchParams({ installation: installation.id, session: session.token, lang: 'ru' })}`);
  }
  const b24 = `b24:${stack.portal.memberId}`;
  const card = new CardSessionSigner(stack.services.config.BITRIX24_CLIENT_SECRET).issue({ installationId: b24, userId: '1', role: 'admin', entity: 'deal', dealId: '1' }, stack.services.now().getTime());
  console.log(`  Bitrix24 deal 1, robot log with undo: ${stack.appUrl}${CARD_PAGE_PATH}#${new URLSearchParams({ installation: b24, session: card.token, entity: 'deal', id: '1', role: 'admin', lang: 'ru' })}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
