/**
 * `npm run demo`: the app with an emulated Bitrix24 portal and amoCRM account on 127.0.0.1.
 * Installs the app into both through the real install flows, binds the shipped regulations,
 * plays a manager's day (new deals, an edit, a stage jump the regulation forbids), books a flat in
 * the emulated Profitbase and lets the short booking expire, books one in the 1C-style service from
 * amoCRM, prints what each robot did, and keeps serving a local page with installations and robot actions until Ctrl-C.
 */
import { resolveRedis } from '../src/infra/redis';
import { configureRegulations } from '../src/installations/configure-regulations';
import { setupAmoPrimaryMarket, setupAmoSalesPipeline, setupBitrix24SalesFunnel } from '../test/helpers/funnels';
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
  await printActions(stack);

  if (process.env.DEMO_EXIT) return shutdown();
  console.log(`\nInstallations and the latest robot actions: ${stack.appUrl}/   (Ctrl-C to stop)`);
}

async function bitrix24Day(stack: LocalStack) {
  const { portal, services } = stack;
  setupBitrix24SalesFunnel(portal);
  const install = await portal.install(`${stack.appUrl}/bitrix24/install`);
  console.log(`Bitrix24: install page answered ${install.status}, app installed: ${portal.isInstalled}, events bound: ${portal.bindings().length}`);
  const installationId = `b24:${portal.memberId}`;
  await regulation(services, installationId, { preset: 'bitrix24-deals-004', overrides: { funnelId: '0' } });

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

async function regulation(services: LocalStack['services'], installationId: string, spec: { preset: string; overrides?: Record<string, unknown> }) {
  await regulations(services, installationId, [spec]);
}

async function regulations(services: LocalStack['services'], installationId: string, specs: Array<{ preset: string; overrides?: Record<string, unknown> }>) {
  const result = await configureRegulations(services, installationId, specs);
  console.log(result.ok ? `  regulation ${specs.map((s) => `«${s.preset}»`).join(', ')} bound to the portal's funnels` : `  regulation refused:\n${result.report}`);
}

async function printActions(stack: LocalStack) {
  console.log('\nWhat the robots did (deal: before → after):');
  for (const a of (await stack.services.actions.latest(50)).reverse()) {
    console.log(`  [${a.installationId}] ${a.robot} ${a.target.entity} ${a.target.id}: ${a.summary}${a.before || a.after ? `  «${a.before ?? ''}» → «${a.after ?? ''}»` : ''}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
