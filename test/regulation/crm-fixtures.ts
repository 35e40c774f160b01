/**
 * Funnels and fields as the CRM adapters return them (`CrmFunnel`, `CrmField`): amoCRM pipelines
 * with numeric status ids and the system statuses 142/143; Bitrix24 deal categories with `C1:`
 * stage ids and lead statuses. Each call returns fresh objects, so a test may change them.
 */
import type { CrmField, CrmFunnel, FunnelStage } from '../../src/crm/crm-port';
import { bindRegulation, formatRegulationErrors, loadPreset, type BoundRegulation, type OverridesInput, type PresetInput } from '../../src/regulation';

const stage = (id: string, name: string, sort: number, semantics: FunnelStage['semantics'] = 'process'): FunnelStage => ({
  id,
  name,
  sort,
  semantics,
});

/** amoCRM `GET /api/v4/leads/pipelines`: «Первичный рынок» as seed 002 describes it. */
export function amoPrimaryMarket(): CrmFunnel {
  return {
    id: '7281234',
    entity: 'deal',
    name: 'Первичный рынок',
    stages: [
      stage('61500001', 'Неразобранное', 10),
      stage('61500002', 'Технический этап', 20),
      stage('61500003', 'Новый лид', 30),
      stage('61500004', 'Квалификатор', 40),
      stage('61500005', 'Передан в работу', 50),
      stage('61500006', 'Для передачи', 60),
      stage('61500007', 'Не дозвонились', 70),
      stage('61500008', 'На закрытие', 80),
      stage('61500009', 'Отложенный спрос >7 мес', 90),
      stage('61500010', 'Потребности выявлены', 100),
      stage('61500011', 'Встреча назначена', 110),
      stage('61500012', 'Встреча состоялась', 120),
      stage('61500013', 'Отправлено КП', 130),
      stage('61500014', 'ОС получена', 140),
      stage('61500015', 'Архив', 150),
      stage('142', 'Успешно реализовано', 10000, 'success'),
      stage('143', 'Закрыто и не реализовано', 11000, 'failure'),
    ],
  };
}

/** Another pipeline of the same account, to check funnel selection. */
export function amoSecondaryMarket(): CrmFunnel {
  return {
    id: '7281299',
    entity: 'deal',
    name: 'Вторичный рынок',
    stages: [
      stage('61600001', 'Первичный контакт', 10),
      stage('61600002', 'Показ', 20),
      stage('142', 'Успешно реализовано', 10000, 'success'),
      stage('143', 'Закрыто и не реализовано', 11000, 'failure'),
    ],
  };
}

/** amoCRM lead custom fields (`GET /api/v4/leads/custom_fields`): numeric ids as codes. */
export function amoFields(): CrmField[] {
  return [
    { code: 'price', title: 'Бюджет', type: 'numeric' },
    { code: '584101', title: 'Источник', type: 'select' },
    { code: '584201', title: 'Дата встречи', type: 'date' },
    { code: '584202', title: 'Время встречи', type: 'text' },
    { code: '584203', title: 'Место встречи', type: 'text' },
    { code: '584204', title: 'Причина закрытия', type: 'select' },
  ];
}

/** Status ids of `amoPrimaryMarket`, by name, for readable tests. */
export const AMO = {
  unsorted: '61500001',
  technical: '61500002',
  newLead: '61500003',
  qualifier: '61500004',
  handedOver: '61500005',
  toHandOver: '61500006',
  noAnswer: '61500007',
  toClose: '61500008',
  deferred: '61500009',
  needs: '61500010',
  meetingSet: '61500011',
  meetingHeld: '61500012',
  proposal: '61500013',
  feedback: '61500014',
  archive: '61500015',
  won: '142',
  lost: '143',
} as const;

/** Bitrix24 deal category 1 (`crm.category.list` + `crm.status.list {ENTITY_ID: "DEAL_STAGE_1"}`). */
export function bitrixDealCategory(): CrmFunnel {
  return {
    id: '1',
    entity: 'deal',
    name: 'Продажи',
    stages: [
      stage('C1:NEW', 'Выявление потребностей', 10),
      stage('C1:PREPARATION', 'Встреча назначена', 20),
      stage('C1:UC_8XK2', 'Показ проведён', 30),
      stage('C1:UC_BK01', 'Бронь', 40),
      stage('C1:UC_BK02', 'Бронь истекла', 50),
      stage('C1:EXECUTING', 'Договор', 60),
      stage('C1:UC_RG01', 'Регистрация в Росреестре', 70),
      stage('C1:WON', 'Сделка успешна', 80, 'success'),
      stage('C1:LOSE', 'Сделка провалена', 90, 'failure'),
      stage('C1:UC_NC01', 'Новые контакты у активного клиента', 100, 'failure'),
      stage('C1:UC_DL01', 'Дольщик', 110, 'failure'),
      stage('C1:UC_AG01', 'Агент', 120, 'failure'),
      stage('C1:UC_PR01', 'Не устроила цена', 130, 'failure'),
    ],
  };
}

/** The default deal category 0 ("Общая") of the same portal. */
export function bitrixDefaultCategory(): CrmFunnel {
  return {
    id: '0',
    entity: 'deal',
    name: 'Общая',
    stages: [
      stage('NEW', 'Новая', 10),
      stage('PREPARATION', 'Подготовка документов', 20),
      stage('WON', 'Сделка успешна', 30, 'success'),
      stage('LOSE', 'Сделка провалена', 40, 'failure'),
    ],
  };
}

/** Bitrix24 deal fields (`crm.item.fields`, camelCase codes). */
export function bitrixDealFields(): CrmField[] {
  return [
    { code: 'title', title: 'Название', type: 'string' },
    { code: 'opportunity', title: 'Сумма', type: 'double' },
    { code: 'ufCrm_1712345601', title: 'Дата и время встречи', type: 'datetime' },
    { code: 'ufCrm_1712345602', title: 'Результат показа', type: 'string' },
    { code: 'ufCrm_1712345603', title: 'Квартира', type: 'string' },
    { code: 'ufCrm_1712345604', title: 'Паспортные данные', type: 'string' },
    { code: 'ufCrm_1712345605', title: 'Номер договора', type: 'string' },
    { code: 'ufCrm_1712345606', title: 'Дата договора', type: 'date' },
    { code: 'ufCrm_1712345607', title: 'Причина проигрыша', type: 'enumeration' },
  ];
}

export const B24_DEAL = {
  needs: 'C1:NEW',
  meetingSet: 'C1:PREPARATION',
  meetingHeld: 'C1:UC_8XK2',
  booking: 'C1:UC_BK01',
  bookingExpired: 'C1:UC_BK02',
  contract: 'C1:EXECUTING',
  registration: 'C1:UC_RG01',
  won: 'C1:WON',
  lost: 'C1:LOSE',
  activeClientContact: 'C1:UC_NC01',
  existingBuyer: 'C1:UC_DL01',
  agent: 'C1:UC_AG01',
  priceRefused: 'C1:UC_PR01',
} as const;

/** Bitrix24 lead statuses (`crm.status.list {ENTITY_ID: "STATUS"}`). */
export function bitrixLeadStatuses(): CrmFunnel {
  return {
    id: 'lead',
    entity: 'lead',
    name: 'Лиды',
    stages: [
      stage('NEW', 'Принять в работу', 10),
      stage('UC_ASGN01', 'Назначен ответственный', 20),
      stage('IN_PROCESS', 'Попытки связаться', 30),
      stage('CONVERTED', 'Качественный лид', 40, 'success'),
      stage('JUNK', 'Забраковать', 50, 'failure'),
      stage('UC_NC01', 'Новые контакты у активного клиента', 60, 'failure'),
      stage('UC_DL01', 'Дольщик', 70, 'failure'),
      stage('UC_AG01', 'Агент', 80, 'failure'),
      stage('UC_SP01', 'Спам', 90, 'failure'),
    ],
  };
}

export function bitrixLeadFields(): CrmField[] {
  return [
    { code: 'title', title: 'Название лида', type: 'string' },
    { code: 'ufCrm_1712345701', title: 'Причина брака', type: 'enumeration' },
  ];
}

export const B24_LEAD = {
  accept: 'NEW',
  assigned: 'UC_ASGN01',
  attempts: 'IN_PROCESS',
  qualified: 'CONVERTED',
  junk: 'JUNK',
  activeClientContact: 'UC_NC01',
  existingBuyer: 'UC_DL01',
  agent: 'UC_AG01',
  spam: 'UC_SP01',
} as const;

/** Binds and fails the test with the formatted errors if binding fails. */
export function bindOrFail(
  preset: PresetInput | string,
  funnels: CrmFunnel | CrmFunnel[],
  fields: CrmField[],
  overrides?: OverridesInput,
): BoundRegulation {
  const result = bindRegulation(typeof preset === 'string' ? loadPreset(preset) : preset, funnels, fields, overrides);
  if (!result.ok) throw new Error(`binding failed:\n${formatRegulationErrors(result.errors)}`);
  return result.regulation;
}

/** A deep copy of a shipped preset, to break it on purpose. */
export function presetCopy(name: string): PresetInput {
  return structuredClone(loadPreset(name)) as PresetInput;
}
