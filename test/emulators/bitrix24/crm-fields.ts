/**
 * Standard field definitions of leads, deals and contacts: one table drives the `crm.item.*` view
 * (camelCase, restdocs `crm/universal/object-fields.md`), the legacy `crm.deal|lead|contact.*` view
 * (UPPER_CASE, all scalars as strings — restdocs `crm/deals/crm-deal-get.md`) and `crm.item.fields`.
 */
import type { EntityTypeId, MultiFieldValue } from './types';
import { isPlainObject, toInt, toList, toNumber } from './util';

export type FieldType =
  | 'integer'
  | 'double'
  | 'string'
  | 'text'
  | 'char'
  | 'user'
  | 'crm_status'
  | 'crm_category'
  | 'crm_currency'
  | 'crm_contact'
  | 'crm_company'
  | 'crm_lead'
  | 'date'
  | 'datetime';

export interface FieldSpec {
  name: string;
  /** Legacy name; `null` — the field does not exist in the legacy view. */
  upper: string | null;
  type: FieldType;
  title: string;
  readOnly?: boolean;
  multiple?: boolean;
}

const f = (name: string, upper: string | null, type: FieldType, title: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  upper,
  type,
  title,
  ...extra,
});
const ro = { readOnly: true };

const COMMON_HEAD: FieldSpec[] = [
  f('id', 'ID', 'integer', 'ID', ro),
  f('createdTime', 'DATE_CREATE', 'datetime', 'Создано', ro),
  f('updatedTime', 'DATE_MODIFY', 'datetime', 'Изменено', ro),
  f('createdBy', 'CREATED_BY_ID', 'user', 'Кем создана', ro),
  f('updatedBy', 'MODIFY_BY_ID', 'user', 'Кем изменена', ro),
  f('assignedById', 'ASSIGNED_BY_ID', 'user', 'Ответственный'),
  f('opened', 'OPENED', 'char', 'Доступна для всех'),
];
const ACTIVITY = [
  f('lastActivityBy', 'LAST_ACTIVITY_BY', 'user', 'Автор последней активности', ro),
  f('lastActivityTime', 'LAST_ACTIVITY_TIME', 'datetime', 'Последняя активность', ro),
];
const PERSON = [
  f('name', 'NAME', 'string', 'Имя'),
  f('lastName', 'LAST_NAME', 'string', 'Фамилия'),
  f('secondName', 'SECOND_NAME', 'string', 'Отчество'),
];
const DERIVED_COMMS = [f('hasPhone', 'HAS_PHONE', 'char', 'Есть телефон', ro), f('hasEmail', 'HAS_EMAIL', 'char', 'Есть e-mail', ro)];

export const FIELD_SPECS: Record<EntityTypeId, FieldSpec[]> = {
  2: [
    ...COMMON_HEAD,
    f('leadId', 'LEAD_ID', 'crm_lead', 'Лид'),
    f('companyId', 'COMPANY_ID', 'crm_company', 'Компания'),
    f('contactId', 'CONTACT_ID', 'crm_contact', 'Контакт'),
    f('title', 'TITLE', 'string', 'Название'),
    f('categoryId', 'CATEGORY_ID', 'crm_category', 'Воронка'),
    f('stageId', 'STAGE_ID', 'crm_status', 'Стадия сделки'),
    f('stageSemanticId', 'STAGE_SEMANTIC_ID', 'string', 'Группа стадии', ro),
    f('isReturnCustomer', 'IS_RETURN_CUSTOMER', 'char', 'Повторная сделка'),
    f('isRepeatedApproach', 'IS_REPEATED_APPROACH', 'char', 'Повторное обращение'),
    f('closed', 'CLOSED', 'char', 'Сделка закрыта', ro),
    f('typeId', 'TYPE_ID', 'crm_status', 'Тип'),
    f('opportunity', 'OPPORTUNITY', 'double', 'Сумма'),
    f('isManualOpportunity', 'IS_MANUAL_OPPORTUNITY', 'char', 'Ручной расчёт суммы'),
    f('currencyId', 'CURRENCY_ID', 'crm_currency', 'Валюта'),
    f('probability', 'PROBABILITY', 'integer', 'Вероятность'),
    f('comments', 'COMMENTS', 'text', 'Комментарий'),
    f('begindate', 'BEGINDATE', 'date', 'Дата начала'),
    f('closedate', 'CLOSEDATE', 'date', 'Предполагаемая дата закрытия'),
    f('sourceId', 'SOURCE_ID', 'crm_status', 'Источник'),
    f('sourceDescription', 'SOURCE_DESCRIPTION', 'text', 'Дополнительно об источнике'),
    f('movedBy', 'MOVED_BY_ID', 'user', 'Кто изменил стадию', ro),
    f('movedTime', 'MOVED_TIME', 'datetime', 'Дата изменения стадии', ro),
    ...ACTIVITY,
    f('observers', null, 'user', 'Наблюдатели', { multiple: true }),
    f('contactIds', null, 'crm_contact', 'Контакты', { multiple: true }),
  ],
  1: [
    ...COMMON_HEAD,
    f('companyId', 'COMPANY_ID', 'crm_company', 'Компания'),
    f('contactId', 'CONTACT_ID', 'crm_contact', 'Контакт'),
    f('stageId', 'STATUS_ID', 'crm_status', 'Стадия'),
    f('statusDescription', 'STATUS_DESCRIPTION', 'text', 'Дополнительно о стадии'),
    f('stageSemanticId', 'STATUS_SEMANTIC_ID', 'string', 'Группа стадии', ro),
    f('opportunity', 'OPPORTUNITY', 'double', 'Сумма'),
    f('isManualOpportunity', 'IS_MANUAL_OPPORTUNITY', 'char', 'Ручной расчёт суммы'),
    f('currencyId', 'CURRENCY_ID', 'crm_currency', 'Валюта'),
    f('sourceId', 'SOURCE_ID', 'crm_status', 'Источник'),
    f('sourceDescription', 'SOURCE_DESCRIPTION', 'text', 'Дополнительно об источнике'),
    f('title', 'TITLE', 'string', 'Название лида'),
    ...PERSON,
    f('companyTitle', 'COMPANY_TITLE', 'string', 'Название компании'),
    f('post', 'POST', 'string', 'Должность'),
    f('comments', 'COMMENTS', 'text', 'Комментарий'),
    f('birthdate', 'BIRTHDATE', 'date', 'Дата рождения'),
    ...DERIVED_COMMS,
    f('isReturnCustomer', 'IS_RETURN_CUSTOMER', 'char', 'Повторный лид'),
    f('movedBy', 'MOVED_BY_ID', 'user', 'Кто изменил стадию', ro),
    f('movedTime', 'MOVED_TIME', 'datetime', 'Дата изменения стадии', ro),
    ...ACTIVITY,
    f('observers', null, 'user', 'Наблюдатели', { multiple: true }),
    f('contactIds', null, 'crm_contact', 'Контакты', { multiple: true }),
  ],
  3: [
    ...COMMON_HEAD,
    f('companyId', 'COMPANY_ID', 'crm_company', 'Компания'),
    f('sourceId', 'SOURCE_ID', 'crm_status', 'Источник'),
    f('sourceDescription', 'SOURCE_DESCRIPTION', 'text', 'Дополнительно об источнике'),
    ...PERSON,
    f('post', 'POST', 'string', 'Должность'),
    f('comments', 'COMMENTS', 'text', 'Комментарий'),
    f('leadId', 'LEAD_ID', 'crm_lead', 'Лид'),
    f('typeId', 'TYPE_ID', 'crm_status', 'Тип контакта'),
    f('birthdate', 'BIRTHDATE', 'date', 'Дата рождения'),
    f('honorific', 'HONORIFIC', 'crm_status', 'Обращение'),
    ...DERIVED_COMMS,
    f('categoryId', null, 'crm_category', 'Направление'),
    ...ACTIVITY,
    f('observers', null, 'user', 'Наблюдатели', { multiple: true }),
    f('companyIds', null, 'crm_company', 'Компании', { multiple: true }),
  ],
};

export const specOf = (entityTypeId: EntityTypeId, name: string): FieldSpec | undefined =>
  FIELD_SPECS[entityTypeId].find((spec) => spec.name === name);

export const specOfUpper = (entityTypeId: EntityTypeId, upper: string): FieldSpec | undefined =>
  FIELD_SPECS[entityTypeId].find((spec) => spec.upper !== null && spec.upper === upper.toUpperCase());

/** Normalizes one input value to the stored form for its type (`undefined`: the value is invalid). */
export function normalizeValue(type: FieldType, multiple: boolean, value: unknown): unknown {
  if (multiple) return toList(value).map((item) => normalizeValue(type, false, item)).filter((item) => item !== null);
  if (value === null || value === undefined || value === '') {
    return ['integer', 'user', 'crm_contact', 'crm_company', 'crm_category'].includes(type) ? 0 : null;
  }
  switch (type) {
    case 'integer':
    case 'user':
    case 'crm_contact':
    case 'crm_company':
    case 'crm_lead':
    case 'crm_category':
      return toInt(value) ?? undefined;
    case 'double':
      return toNumber(value) ?? undefined;
    case 'char':
      if (value === true || value === 'Y' || value === 'y' || value === 1 || value === '1') return 'Y';
      if (value === false || value === 'N' || value === 'n' || value === 0 || value === '0') return 'N';
      return undefined;
    default:
      return typeof value === 'object' ? undefined : String(value);
  }
}

/** Legacy view renders every scalar as a string (`"ID": "410"`, `"OPPORTUNITY": "1000000.00"`). */
export function legacyScalar(type: FieldType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'double' && typeof value === 'number') return value.toFixed(2);
  if (['crm_contact', 'crm_company', 'crm_lead'].includes(type) && value === 0) return null;
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'number' ? String(item) : item));
  return typeof value === 'number' ? String(value) : value;
}

/** Flat aliases of the first multi-field values (`phoneWork`, `emailWork`, …) as in the crm.item.get sample. */
export function fmAliases(fm: MultiFieldValue[]): Record<string, string> {
  const first = (typeId: string, valueType?: string): string =>
    fm.find((entry) => entry.typeId === typeId && (valueType === undefined || entry.valueType === valueType))?.value ?? '';
  return {
    phoneMobile: first('PHONE', 'MOBILE'),
    phoneWork: first('PHONE', 'WORK'),
    phoneMailing: first('PHONE', 'MAILING'),
    emailHome: first('EMAIL', 'HOME'),
    emailWork: first('EMAIL', 'WORK'),
    emailMailing: first('EMAIL', 'MAILING'),
    email: first('EMAIL'),
    phone: first('PHONE'),
  };
}

/** One requested multi-field change, in either the crm.item (`fm`) or the legacy (`PHONE`/`EMAIL`) form. */
export interface FmOperation {
  id: number | null;
  typeId: MultiFieldValue['typeId'];
  valueType: string;
  value: string;
  remove: boolean;
}

const FM_TYPES = ['PHONE', 'EMAIL', 'WEB', 'IM'] as const;
const asFmType = (value: unknown): MultiFieldValue['typeId'] | null =>
  (FM_TYPES as readonly string[]).includes(String(value).toUpperCase()) ? (String(value).toUpperCase() as MultiFieldValue['typeId']) : null;

/**
 * crm.item `fm`: an array of `{typeId, valueType, value}` (add), or an object keyed by `n0`, `n1`…
 * (add) / existing numeric id (update; empty `value` deletes) — restdocs `crm-item-update.md`.
 */
export function parseItemFm(value: unknown): FmOperation[] {
  const ops: FmOperation[] = [];
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((entry, index) => [`n${index}`, entry])
    : isPlainObject(value)
      ? Object.entries(value)
      : [];
  for (const [key, raw] of entries) {
    if (!isPlainObject(raw)) continue;
    const id = /^\d+$/.test(key) ? Number(key) : (toInt(raw.id) ?? null);
    const typeId = asFmType(raw.typeId ?? raw.TYPE_ID);
    if (!typeId) continue;
    const text = raw.value === undefined || raw.value === null ? '' : String(raw.value);
    ops.push({ id, typeId, valueType: String(raw.valueType ?? raw.VALUE_TYPE ?? 'WORK'), value: text, remove: text === '' });
  }
  return ops;
}

/** Legacy `PHONE: [{VALUE, VALUE_TYPE}]` (add), `{ID, VALUE…}` (change), `{ID, DELETE:'Y'}` or empty VALUE (delete). */
export function parseLegacyFm(typeId: MultiFieldValue['typeId'], value: unknown): FmOperation[] {
  return toList(value)
    .filter(isPlainObject)
    .map((raw) => {
      const text = raw.VALUE === undefined || raw.VALUE === null ? '' : String(raw.VALUE);
      return {
        id: toInt(raw.ID),
        typeId,
        valueType: String(raw.VALUE_TYPE ?? 'WORK'),
        value: text,
        remove: text === '' || String(raw.DELETE ?? '').toUpperCase() === 'Y',
      };
    });
}
