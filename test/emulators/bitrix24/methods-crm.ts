/** CRM REST methods: crm.item.*, legacy crm.deal|lead|contact.*, funnels/stages, history, timeline, duplicates. */
import { FIELD_SPECS } from './crm-fields';
import type { CrmStore, StoredItem } from './crm-store';
import { type FieldResolver, applySelect, matchFilter, paginate, sortRows } from './filter';
import { type MethodHandler, type Params, type PortalInternals, objectParam, param, requireParam } from './rest-context';
import type { EntityTypeId } from './types';
import { type UfNaming, ufOutputName } from './uf-names';
import { RestError, isPlainObject, toBool, toInt, toList } from './util';

const ENTITY_NAMES: Record<EntityTypeId, 'lead' | 'deal' | 'contact'> = { 1: 'lead', 2: 'deal', 3: 'contact' };
const FM_KEYS = ['PHONE', 'EMAIL', 'WEB', 'IM'];

function entityTypeParam(params: Params): EntityTypeId {
  const id = toInt(requireParam(params, 'entityTypeId'));
  if (id !== 1 && id !== 2 && id !== 3) throw new RestError(400, 'NOT_FOUND', 'Smart process not found');
  return id;
}

const namingOf = (params: Params): UfNaming => (toBool(params.useOriginalUfNames) ? 'original' : 'camel');

/** Field names accepted by crm.item.list `filter`/`order`/`select`. */
function itemResolver(store: CrmStore, entityTypeId: EntityTypeId, naming: UfNaming): FieldResolver {
  const names = new Set(FIELD_SPECS[entityTypeId].map((spec) => spec.name));
  names.add('entityTypeId');
  for (const original of store.ufDefs(entityTypeId).keys()) names.add(ufOutputName(original, naming));
  return (name) => (names.has(name) ? name : null);
}

/** Legacy names (case-insensitive); multi-fields filter by their values. */
function legacyResolver(store: CrmStore, entityTypeId: EntityTypeId): FieldResolver {
  const names = new Set(FIELD_SPECS[entityTypeId].flatMap((spec) => (spec.upper ? [spec.upper] : [])));
  for (const original of store.ufDefs(entityTypeId).keys()) names.add(original);
  if (entityTypeId !== 2) for (const key of FM_KEYS) names.add(key);
  return (name) => (names.has(name.toUpperCase()) ? name.toUpperCase() : null);
}

/** Legacy `select` masks: `*` (standard fields, no multi-fields), `UF_*`; default `*` + `UF_*`. */
function legacySelect(row: Record<string, unknown>, select: unknown): Record<string, unknown> {
  const names = toList(select).map((name) => String(name).toUpperCase());
  if (names.length === 0) names.push('*', 'UF_*');
  const out: Record<string, unknown> = { ID: row.ID };
  for (const [key, value] of Object.entries(row)) {
    const isUf = key.startsWith('UF_');
    const isMulti = FM_KEYS.includes(key);
    if (names.includes(key) || (names.includes('*') && !isUf && !isMulti) || (names.includes('UF_*') && isUf)) out[key] = value;
  }
  return out;
}

/**
 * Speed only (the 10,000-contact benchmark): an `id` / `@id` / `@contactId` / `@companyId`
 * condition narrows the items before their views are built. The full filter still runs on what
 * is left, so the answer is the same as scanning every item.
 */
function narrowByIds(items: StoredItem[], filter: unknown): StoredItem[] {
  if (!isPlainObject(filter)) return items;
  const wanted = (value: unknown): Set<number> => new Set(toList(value).map((v) => Number(v)).filter((n) => Number.isInteger(n)));
  let out = items;
  for (const [rawKey, value] of Object.entries(filter)) {
    const key = rawKey.replace(/^[@=]/, '');
    if (rawKey.startsWith('!') || rawKey.startsWith('>') || rawKey.startsWith('<') || rawKey.startsWith('%')) continue;
    if (/^id$/i.test(key)) {
      const ids = wanted(value);
      out = out.filter((item) => ids.has(item.id));
    } else if (key === 'contactId' || key === 'companyId') {
      const ids = wanted(value);
      const many = key === 'contactId' ? 'contactIds' : 'companyIds';
      out = out.filter((item) => ids.has(Number(item.data[key])) || (Array.isArray(item.data[many]) && (item.data[many] as unknown[]).some((v) => ids.has(Number(v)))));
    }
  }
  return out;
}

function mustGet(store: CrmStore, entityTypeId: EntityTypeId, id: number | null, legacy: boolean): StoredItem {
  if (legacy && (!id || id <= 0)) throw new RestError(400, '', 'ID is not defined or invalid');
  const item = id ? store.get(entityTypeId, id) : undefined;
  if (!item) throw legacy ? new RestError(400, '', 'Not found') : new RestError(400, 'NOT_FOUND', 'Element not found');
  return item;
}

function legacyFields(params: Params): Params {
  const fields = param(params, 'fields');
  if (!isPlainObject(fields)) throw new RestError(400, '', "Parameter 'fields' must be array.");
  return fields;
}

function legacyMethods(internals: PortalInternals, entityTypeId: EntityTypeId): Record<string, MethodHandler> {
  const { store } = internals;
  const prefix = `crm.${ENTITY_NAMES[entityTypeId]}`;
  return {
    [`${prefix}.get`]: (params) => ({ result: store.legacyView(mustGet(store, entityTypeId, toInt(param(params, 'id')), true)) }),

    [`${prefix}.list`]: (params) => {
      const resolve = legacyResolver(store, entityTypeId);
      const filterRow = (item: StoredItem): Record<string, unknown> => {
        const row = store.legacyView(item);
        for (const key of FM_KEYS) row[key] = item.fm.filter((entry) => entry.typeId === key).map((entry) => entry.value);
        return row;
      };
      const matched = narrowByIds(store.list(entityTypeId), param(params, 'filter')).filter((item) => matchFilter(filterRow(item), param(params, 'filter'), resolve, 'ignore'));
      const rows = sortRows(matched.map((item) => store.legacyView(item)), param(params, 'order'), resolve, 'ID');
      const { page, total, next } = paginate(rows, param(params, 'start'));
      return { result: page.map((row) => legacySelect(row, param(params, 'select'))), total, next };
    },

    [`${prefix}.add`]: (params, ctx) => {
      const changes = store.parseLegacyFields(entityTypeId, legacyFields(params));
      return { result: store.create(entityTypeId, changes, ctx.userId).id };
    },

    [`${prefix}.update`]: (params, ctx) => {
      const item = mustGet(store, entityTypeId, toInt(param(params, 'id')), true);
      const changes = store.parseLegacyFields(entityTypeId, legacyFields(params));
      // "crm.deal.update cannot change the funnel (CATEGORY_ID)" — restdocs crm-deal-update.md.
      if (entityTypeId === 2) delete changes.data.categoryId;
      // Legacy update saves (and fires ONCRM*UPDATE) even when nothing changed: the no-op rule is documented for crm.item.update only.
      store.update(entityTypeId, item.id, changes, ctx.userId, false);
      return { result: true };
    },
  };
}

function itemFieldsDescription(store: CrmStore, entityTypeId: EntityTypeId): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const spec of FIELD_SPECS[entityTypeId]) {
    fields[spec.name] = {
      type: spec.type,
      isRequired: false,
      isReadOnly: spec.readOnly === true,
      isImmutable: false,
      isMultiple: spec.multiple === true,
      isDynamic: false,
      title: spec.title,
      ...(spec.name === 'stageId' ? { statusType: entityTypeId === 1 ? 'STATUS' : 'DEAL_STAGE' } : {}),
      upperName: spec.upper ?? spec.name.replace(/([A-Z])/g, '_$1').toUpperCase(),
    };
  }
  for (const def of store.ufDefs(entityTypeId).values()) {
    fields[ufOutputName(def.fieldName, 'camel')] = {
      type: def.type,
      isRequired: def.isRequired === true,
      isReadOnly: false,
      isImmutable: false,
      isMultiple: def.isMultiple === true,
      isDynamic: true,
      title: def.title,
      listLabel: def.title,
      formLabel: def.title,
      filterLabel: def.title,
      settings: {},
      upperName: def.fieldName,
    };
  }
  return fields;
}

function itemMethods(internals: PortalInternals): Record<string, MethodHandler> {
  const { store } = internals;
  return {
    'crm.item.get': (params) => {
      const entityTypeId = entityTypeParam(params);
      const item = mustGet(store, entityTypeId, toInt(requireParam(params, 'id')), false);
      return { result: { item: store.itemView(item, namingOf(params)) } };
    },

    'crm.item.list': (params) => {
      const entityTypeId = entityTypeParam(params);
      const naming = namingOf(params);
      const resolve = itemResolver(store, entityTypeId, naming);
      validateOrder(params.order, resolve);
      const rows = narrowByIds(store.list(entityTypeId), params.filter).map((item) => store.itemView(item, naming));
      const matched = rows.filter((row) => matchFilter(row, params.filter, resolve, 'error'));
      const { page, total, next } = paginate(sortRows(matched, params.order, resolve, 'id'), params.start);
      return { result: { items: page.map((row) => applySelect(row, params.select, resolve, ['id'])) }, total, next };
    },

    'crm.item.add': (params, ctx) => {
      const entityTypeId = entityTypeParam(params);
      const changes = store.parseItemFields(entityTypeId, objectParam(requireParam(params, 'fields')), namingOf(params));
      return { result: { item: store.itemView(store.create(entityTypeId, changes, ctx.userId), namingOf(params)) } };
    },

    'crm.item.update': (params, ctx) => {
      const entityTypeId = entityTypeParam(params);
      const item = mustGet(store, entityTypeId, toInt(requireParam(params, 'id')), false);
      const changes = store.parseItemFields(entityTypeId, objectParam(requireParam(params, 'fields')), namingOf(params));
      store.update(entityTypeId, item.id, changes, ctx.userId, true);
      return { result: { item: store.itemView(mustGet(store, entityTypeId, item.id, false), namingOf(params)) } };
    },

    'crm.item.fields': (params) => ({ result: { fields: itemFieldsDescription(store, entityTypeParam(params)) } }),
  };
}

function directoryMethods(internals: PortalInternals): Record<string, MethodHandler> {
  const { store } = internals;
  return {
    'crm.category.list': (params) => {
      const entityTypeId = entityTypeParam(params);
      if (entityTypeId === 1) throw new RestError(400, 'NOT_FOUND', 'Smart process not found');
      const categories =
        entityTypeId === 3
          ? [{ id: 0, name: 'Контакты', sort: 100, entityTypeId: 3, isDefault: 'Y' }]
          : [...store.categories.values()]
              .sort((a, b) => a.sort - b.sort || a.id - b.id)
              .map((category) =>
                category.id === 0
                  ? { id: 0, name: category.name, sort: category.sort, entityTypeId: 2, isDefault: 'Y' }
                  : { id: category.id, name: category.name, sort: category.sort, entityTypeId: 2, isDefault: 'N', originId: '', originatorId: '' },
              );
      return { result: { categories }, total: categories.length };
    },

    'crm.settings.mode.get': () => ({ result: store.mode }),

    'crm.status.list': (params) => {
      const rows = [...store.statuses.keys()].flatMap((entityId) => {
        const all = store.stagesOf(entityId);
        return all.map((entry) => store.statusView(entry, all));
      });
      const resolve: FieldResolver = (name) => name.toUpperCase();
      const matched = rows.filter((row) => matchFilter(row, param(params, 'filter'), resolve, 'ignore'));
      const order = param(params, 'order') ?? { SORT: 'ASC' };
      const sorted = sortRows(matched, order, resolve, 'ID');
      return { result: sorted, total: sorted.length };
    },

    'crm.stagehistory.list': (params) => {
      const entityTypeId = toInt(param(params, 'entityTypeId'));
      if (entityTypeId !== 1 && entityTypeId !== 2) {
        throw new RestError(400, 'ENTITY_TYPE_NOT_SUPPORTED', `Entity type ${entityTypeId === 3 ? 'CONTACT' : String(entityTypeId)} is not supported`);
      }
      const rows = store.history
        .filter((record) => record.entityTypeId === entityTypeId)
        .map((record) => ({
          ID: record.id,
          TYPE_ID: record.typeId,
          OWNER_ID: record.ownerId,
          CREATED_TIME: record.createdTime,
          ...(entityTypeId === 2
            ? { CATEGORY_ID: record.categoryId, STAGE_SEMANTIC_ID: record.semantic, STAGE_ID: record.stageId }
            : { STATUS_SEMANTIC_ID: record.semantic, STATUS_ID: record.stageId }),
        }));
      const stageKeys = entityTypeId === 2 ? ['CATEGORY_ID', 'STAGE_SEMANTIC_ID', 'STAGE_ID'] : ['STATUS_SEMANTIC_ID', 'STATUS_ID'];
      const allowed = new Set(['ID', 'TYPE_ID', 'OWNER_ID', 'CREATED_TIME', ...stageKeys]);
      const resolve: FieldResolver = (name) => (allowed.has(name.toUpperCase()) ? name.toUpperCase() : null);
      const order = param(params, 'order');
      validateOrder(order, resolve);
      const matched = rows.filter((row) => matchFilter(row, param(params, 'filter'), resolve, 'error'));
      const { page, total, next } = paginate(sortRows(matched, order, resolve, 'ID'), param(params, 'start'));
      return { result: { items: page.map((row) => applySelect(row, param(params, 'select'), resolve, [])) }, total, next };
    },
  };
}

const ENTITY_BY_NAME: Record<string, EntityTypeId> = { lead: 1, deal: 2, contact: 3 };

function timelineAndActivityMethods(internals: PortalInternals): Record<string, MethodHandler> {
  const { store } = internals;
  return {
    'crm.timeline.comment.add': (params, ctx) => {
      // Only lower-case `fields` is accepted since crm 23.100.0 (restdocs crm-timeline-comment-add.md).
      const fields = params.fields;
      if (!isPlainObject(fields)) throw new RestError(400, '100', 'Required fields are not provided');
      const entityType = String(fields.ENTITY_TYPE ?? '').toLowerCase();
      const entityId = toInt(fields.ENTITY_ID);
      const entityTypeId = ENTITY_BY_NAME[entityType];
      if (!entityTypeId || !entityId) throw new RestError(400, '100', 'Required fields are not provided');
      if (!store.get(entityTypeId, entityId)) throw new RestError(400, 'OWNER_NOT_FOUND', 'Owner of the item not found');
      const comment = String(fields.COMMENT ?? '');
      if (comment.trim() === '') throw new RestError(400, 'INVALID_ARG_VALUE', 'Empty comment');
      const id = internals.nextId('comment');
      internals.comments.push({
        id,
        entityType: ENTITY_NAMES[entityTypeId],
        entityId,
        comment,
        authorId: toInt(fields.AUTHOR_ID) ?? ctx.userId,
        created: internals.stamp(),
      });
      return { result: id };
    },

    'crm.timeline.comment.list': (params) => {
      const filter = objectParam(param(params, 'filter'));
      if (filter.ENTITY_ID === undefined || filter.ENTITY_TYPE === undefined) {
        throw new RestError(400, '100', 'Required fields are not provided');
      }
      const rows = internals.comments.map((comment) => ({
        ID: String(comment.id),
        ENTITY_ID: String(comment.entityId),
        ENTITY_TYPE: comment.entityType,
        CREATED: comment.created,
        COMMENT: comment.comment,
        AUTHOR_ID: String(comment.authorId),
        FILES: {},
      }));
      const resolve: FieldResolver = (name) => name.toUpperCase();
      const normalizedFilter = { ...filter, ENTITY_TYPE: String(filter.ENTITY_TYPE).toLowerCase() };
      const matched = rows.filter((row) => matchFilter(row, normalizedFilter, resolve, 'ignore'));
      const { page, total, next } = paginate(sortRows(matched, param(params, 'order'), resolve, 'ID'), param(params, 'start'));
      return { result: page.map((row) => applySelect(row, param(params, 'select'), resolve, [])), total, next };
    },


    'crm.activity.todo.add': (params, ctx) => {
      const ownerTypeId = toInt(requireParam(params, 'ownerTypeId'));
      const ownerId = toInt(requireParam(params, 'ownerId'));
      const deadline = String(requireParam(params, 'deadline'));
      if (Number.isNaN(Date.parse(deadline))) throw new RestError(400, 'WRONG_DATETIME_FORMAT', 'Incorrect date format');
      if ((ownerTypeId !== 1 && ownerTypeId !== 2 && ownerTypeId !== 3) || !ownerId || !store.get(ownerTypeId, ownerId)) {
        throw new RestError(400, 'NOT_FOUND', 'Not found.');
      }
      const id = internals.nextId('activity');
      internals.todos.push({
        id,
        ownerTypeId,
        ownerId,
        deadline,
        title: String(params.title ?? ''),
        description: String(params.description ?? ''),
        responsibleId: toInt(params.responsibleId) ?? ctx.userId,
        createdBy: ctx.userId,
        completed: false,
        created: internals.stamp(),
      });
      return { result: { id } };
    },
  };
}

/** Phones compare by digits (a leading Russian trunk `8` counts as `7`); e-mails case-insensitively. */
function normalizeComm(type: 'PHONE' | 'EMAIL', value: string): string {
  if (type === 'EMAIL') return value.trim().toLowerCase();
  const digits = value.replace(/(ext|доб)\.?.*$/i, '').replace(/\D/g, '');
  return digits.length === 11 && digits.startsWith('8') ? `7${digits.slice(1)}` : digits;
}

function duplicateMethods(internals: PortalInternals): Record<string, MethodHandler> {
  return {
    'crm.duplicate.findbycomm': (params) => {
      const type = String(param(params, 'type') ?? '').toUpperCase();
      if (!type) throw new RestError(400, 'Communication type is not defined', "Parameter 'type' is required.");
      if (type !== 'PHONE' && type !== 'EMAIL') {
        throw new RestError(400, `Communication type '${type}' is not supported in current context`, '');
      }
      const values = toList(param(params, 'values')).map(String).filter((value) => value !== '');
      if (values.length === 0) throw new RestError(400, 'Communication values is not defined', "Parameter 'values' is required.");
      const wanted = new Set(values.slice(0, 20).map((value) => normalizeComm(type, value)));
      const entityFilter = String(param(params, 'entity_type') ?? '').toUpperCase();
      const result: Record<string, number[]> = {};
      // The emulated portal keeps no companies: COMPANY is accepted and never found.
      for (const [key, entityTypeId] of [['LEAD', 1], ['CONTACT', 3], ['COMPANY', null]] as const) {
        if (entityFilter && entityFilter !== key) continue;
        const ids = entityTypeId === null ? [] : internals.store
          .list(entityTypeId)
          .filter((item) => item.fm.some((entry) => entry.typeId === type && wanted.has(normalizeComm(type, entry.value))))
          .map((item) => item.id);
        if (ids.length > 0) result[key] = ids;
        // "If 20 or more duplicates are found for one object, the other types are not returned."
        if (ids.length >= 20) break;
      }
      // Nothing found → an empty ARRAY (restdocs tutorials/crm/how-to-get-lists/search-by-phone-and-email.md).
      return { result: Object.keys(result).length > 0 ? result : [] };
    },

    'crm.entity.mergebatch': (params, ctx) => {
      const inner = objectParam(requireParam(params, 'params'));
      const entityTypeId = toInt(inner.entityTypeId);
      if (!entityTypeId) throw new RestError(400, '', 'The parameter entityTypeId is required.');
      if (entityTypeId !== 1 && entityTypeId !== 2 && entityTypeId !== 3) throw new RestError(400, '', `Entity type ${entityTypeId} is not supported`);
      const ids = toList(inner.entityIds).map(toInt).filter((id): id is number => id !== null && id > 0);
      if (ids.length === 0) throw new RestError(400, '', 'The parameter entityIds does not contains valid elements.');
      if (ids.length < 2) throw new RestError(400, '', 'The parameter entityIds must contains at least two elements.');
      const merged = internals.store.merge(entityTypeId, ids, ctx.userId);
      return { result: { STATUS: merged.status, ENTITY_IDS: merged.deleted } };
    },
  };
}

export function crmMethods(internals: PortalInternals): Record<string, MethodHandler> {
  return {
    ...itemMethods(internals),
    ...legacyMethods(internals, 2),
    ...legacyMethods(internals, 1),
    ...legacyMethods(internals, 3),
    ...directoryMethods(internals),
    ...timelineAndActivityMethods(internals),
    ...duplicateMethods(internals),
  };
}

/** `order` errors of crm.item.list and crm.stagehistory.list (restdocs: "Invalid order: …"). */
function validateOrder(order: unknown, resolve: FieldResolver): void {
  if (!isPlainObject(order)) return;
  for (const [name, direction] of Object.entries(order)) {
    if (!resolve(name)) throw new RestError(400, 'INVALID_ARG_VALUE', `Invalid order: field '${name}' is not allowed in order`);
    if (!['ASC', 'DESC'].includes(String(direction).toUpperCase())) {
      throw new RestError(400, 'INVALID_ARG_VALUE', `Invalid order: allowed sort directions are ASC, DESC. But got '${String(direction)}' for field '${name}'`);
    }
  }
}
