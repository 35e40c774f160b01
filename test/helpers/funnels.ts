import type { AmoCrmAccountEmulator } from '../emulators/amocrm-account';
import type { Bitrix24PortalEmulator } from '../emulators/bitrix24-portal';

/** The deal funnel of seed 004 as a developer's portal would have it (stage ids are the portal's own). */
export function setupBitrix24SalesFunnel(portal: Bitrix24PortalEmulator): void {
  portal.setStages('DEAL_STAGE', [
    { statusId: 'NEW', name: 'Потребности выявлены', sort: 10 },
    { statusId: 'PREPARATION', name: 'Встреча назначена', sort: 20 },
    { statusId: 'UC_MEETING', name: 'Встреча состоялась', sort: 30 },
    { statusId: 'UC_BOOKING', name: 'Бронь', sort: 40 },
    { statusId: 'UC_EXPIRED', name: 'Бронь истекла', sort: 50 },
    { statusId: 'EXECUTING', name: 'Договор', sort: 60 },
    { statusId: 'FINAL_INVOICE', name: 'Регистрация', sort: 70 },
    { statusId: 'WON', name: 'Сделка успешна', sort: 80, semantics: 'S' },
    { statusId: 'LOSE', name: 'Сделка провалена', sort: 90, semantics: 'F' },
    { statusId: 'UC_ACTIVE', name: 'Новые контакты у активного клиента', sort: 100, semantics: 'F' },
    { statusId: 'UC_HOLDER', name: 'Дольщик', sort: 110, semantics: 'F' },
    { statusId: 'UC_AGENT', name: 'Агент', sort: 120, semantics: 'F' },
  ]);
  for (const [fieldName, title, type] of [
    ['UF_CRM_MEETING_AT', 'Дата и время встречи', 'datetime'],
    ['UF_CRM_MEETING_RESULT', 'Результат встречи', 'string'],
    ['UF_CRM_PASSPORT', 'Паспортные данные', 'string'],
    ['UF_CRM_CONTRACT_NO', 'Номер договора', 'string'],
    ['UF_CRM_CONTRACT_DATE', 'Дата договора', 'date'],
    ['UF_CRM_LOSS_REASON', 'Причина проигрыша', 'string'],
  ] as const) {
    portal.addUserField(2, { fieldName, title, type });
  }
}

/** The "Первичный рынок" pipeline of seed 002 in an amoCRM account. */
export function setupAmoPrimaryMarket(amo: AmoCrmAccountEmulator) {
  const names = [
    'Технический этап', 'Новый лид', 'Квалификатор', 'Передан в работу', 'Для передачи', 'Не дозвонились', 'На закрытие',
    'Отложенный спрос >7 мес', 'Потребности выявлены', 'Встреча назначена', 'Встреча состоялась', 'Отправлено КП', 'ОС получена',
  ];
  const pipeline = amo.addPipeline('Первичный рынок', names.map((name, i) => ({ name, sort: (i + 1) * 10 })));
  amo.addLeadCustomField({ name: 'Время встречи', type: 'text' });
  amo.addLeadCustomField({ name: 'Место встречи', type: 'text' });
  const stage = (name: string) => pipeline.statuses.find((s) => s.name === name)!.id;
  return { pipelineId: pipeline.id, stage };
}

/** The lead funnel of seed 004, with the special loss statuses that keep reports honest. */
export function setupBitrix24LeadFunnel(portal: Bitrix24PortalEmulator): void {
  portal.setStages('STATUS', [
    { statusId: 'NEW', name: 'Принять в работу', sort: 10 },
    { statusId: 'IN_PROCESS', name: 'Назначен ответственный', sort: 20 },
    { statusId: 'PROCESSED', name: 'Попытки связаться', sort: 30 },
    { statusId: 'CONVERTED', name: 'Качественный лид', sort: 40, semantics: 'S' },
    { statusId: 'JUNK', name: 'Забраковать', sort: 50, semantics: 'F' },
    { statusId: 'UC_ACTIVE', name: 'Новые контакты у активного клиента', sort: 60, semantics: 'F' },
    { statusId: 'UC_HOLDER', name: 'Дольщик', sort: 70, semantics: 'F' },
    { statusId: 'UC_AGENT', name: 'Агент', sort: 80, semantics: 'F' },
  ]);
  portal.addUserField(1, { fieldName: 'UF_CRM_JUNK_REASON', title: 'Причина брака', type: 'string' });
}

/** An amoCRM sales pipeline after the meeting, with «Бронь» and «Бронь истекла» (preset amocrm-sales-004). */
export function setupAmoSalesPipeline(amo: AmoCrmAccountEmulator) {
  const names = ['Встреча состоялась', 'Бронь', 'Бронь истекла', 'Договор', 'Регистрация'];
  const pipeline = amo.addPipeline('Продажи', names.map((name, i) => ({ name, sort: (i + 1) * 10 })));
  const stage = (name: string) => pipeline.statuses.find((s) => s.name === name)!.id;
  return { pipelineId: pipeline.id, stage };
}
