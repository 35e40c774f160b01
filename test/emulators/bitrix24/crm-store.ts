/**
 * In-memory CRM state of the emulated portal: funnels, stage directories, user fields, leads/deals/contacts
 * (one store behind both `crm.item.*` and legacy `crm.deal|lead|contact.*`), stage history.
 * Every committed change is reported through `onEvent` so the portal can queue ONCRM* events.
 */
import {
  FIELD_SPECS,
  type FmOperation,
  fmAliases,
  legacyScalar,
  normalizeValue,
  parseItemFm,
  parseLegacyFm,
  specOf,
  specOfUpper,
} from './crm-fields';
import type {
  EntityTypeId,
  MultiFieldValue,
  StageDefinition,
  StageHistoryRecord,
  StageSemantic,
  UserFieldDefinition,
} from './types';
import { type UfNaming, resolveUfName, ufOutputName } from './uf-names';
import { RestError, formatDateTime, sameValue, toList } from './util';

export interface StatusEntry {
  id: number;
  entityId: string;
  statusId: string;
  name: string;
  sort: number;
  system: boolean;
  categoryId: number | null;
  color: string;
  semantics: 'S' | 'F' | null;
}

export interface Category {
  id: number;
  name: string;
  sort: number;
}

export interface StoredItem {
  entityTypeId: EntityTypeId;
  id: number;
  /** Standard fields, camelCase, stored form. */
  data: Record<string, unknown>;
  /** User fields keyed by the original `UF_CRM_…` name. */
  uf: Record<string, unknown>;
  fm: MultiFieldValue[];
}

/** A parsed, validated set of requested changes. */
export interface ItemChanges {
  data: Record<string, unknown>;
  uf: Record<string, unknown>;
  fm: FmOperation[];
}

/** Who made a change: a user id, or `null` for an automation rule / workflow / agent (events carry no tokens). */
export type Actor = number | null;

export interface CrmEvent {
  event: string;
  fields: Record<string, string>;
  actor: Actor;
}

const EVENT_PREFIX: Record<EntityTypeId, string> = { 1: 'ONCRMLEAD', 2: 'ONCRMDEAL', 3: 'ONCRMCONTACT' };
const TITLE_PREFIX: Record<EntityTypeId, string> = { 1: 'Лид', 2: 'Сделка', 3: 'Контакт' };

const DEFAULT_DEAL_STAGES: StageDefinition[] = [
  { statusId: 'NEW', name: 'Новая', sort: 10, color: '#39A8EF' },
  { statusId: 'PREPARATION', name: 'Подготовка документов', sort: 20, color: '#2FC6F6' },
  { statusId: 'PREPAYMENT_INVOICE', name: 'Счёт на предоплату', sort: 30, color: '#55D0E0' },
  { statusId: 'EXECUTING', name: 'В работе', sort: 40, color: '#47E4C2' },
  { statusId: 'FINAL_INVOICE', name: 'Финальный счёт', sort: 50, color: '#FFA900' },
  { statusId: 'WON', name: 'Сделка успешна', sort: 60, semantics: 'S', color: '#7BD500' },
  { statusId: 'LOSE', name: 'Сделка провалена', sort: 70, semantics: 'F', color: '#FF5752' },
  { statusId: 'APOLOGY', name: 'Анализ причины провала', sort: 80, semantics: 'F', color: '#FF5752' },
];
const DEFAULT_LEAD_STATUSES: StageDefinition[] = [
  { statusId: 'NEW', name: 'Не обработан', sort: 10, color: '#39A8EF' },
  { statusId: 'IN_PROCESS', name: 'В работе', sort: 20, color: '#2FC6F6' },
  { statusId: 'PROCESSED', name: 'Обработан', sort: 30, color: '#55D0E0' },
  { statusId: 'CONVERTED', name: 'Качественный лид', sort: 40, semantics: 'S', color: '#7BD500' },
  { statusId: 'JUNK', name: 'Некачественный лид', sort: 50, semantics: 'F', color: '#FF5752' },
];
const SYSTEM_STATUSES = new Set(['NEW', 'WON', 'LOSE', 'CONVERTED', 'JUNK']);
/** Contact types of a new portal (crm.status.list ENTITY_ID CONTACT_TYPE); portals add their own, e.g. an agent type. */
const DEFAULT_CONTACT_TYPES: StageDefinition[] = [
  { statusId: 'CLIENT', name: 'Клиенты', sort: 10 },
  { statusId: 'SUPPLIER', name: 'Поставщики', sort: 20 },
  { statusId: 'PARTNER', name: 'Партнеры', sort: 30 },
  { statusId: 'OTHER', name: 'Другое', sort: 40 },
];
/** Directories of crm.status.list that are not stages (no semantics). */
const PLAIN_DIRECTORIES = new Set(['CONTACT_TYPE', 'SOURCE']);

export const dealStageEntity = (categoryId: number): string => (categoryId === 0 ? 'DEAL_STAGE' : `DEAL_STAGE_${categoryId}`);

export class CrmStore {
  readonly categories = new Map<number, Category>([[0, { id: 0, name: 'Общая', sort: 300 }]]);
  readonly statuses = new Map<string, StatusEntry[]>();
  readonly userFields = new Map<EntityTypeId, Map<string, UserFieldDefinition>>([
    [1, new Map()],
    [2, new Map()],
    [3, new Map()],
  ]);
  readonly items = new Map<EntityTypeId, Map<number, StoredItem>>([
    [1, new Map()],
    [2, new Map()],
    [3, new Map()],
  ]);
  readonly history: StageHistoryRecord[] = [];
  /** crm.settings.mode.get: 1 classic CRM (with leads), 2 simple CRM (without leads) — crm.enum.settings.mode. */
  mode: 1 | 2 = 1;
  private seq = { status: 101, category: 1, fm: 1, history: 1, item: { 1: 1, 2: 1, 3: 1 } as Record<EntityTypeId, number> };

  constructor(
    private readonly now: () => number,
    private readonly utcOffset: string,
    private readonly onEvent: (event: CrmEvent) => void,
  ) {
    this.setStages('DEAL_STAGE', DEFAULT_DEAL_STAGES);
    this.setStages('STATUS', DEFAULT_LEAD_STATUSES);
    this.setStages('CONTACT_TYPE', DEFAULT_CONTACT_TYPES);
    this.addUserField(2, { fieldName: 'UF_CRM_UNIT', title: 'Объект', type: 'string' });
  }

  private stamp(): string {
    return formatDateTime(this.now(), this.utcOffset);
  }

  // region Setup: funnels, stages, user fields

  addCategory(name: string): number {
    const id = this.seq.category++;
    this.categories.set(id, { id, name, sort: 200 });
    this.setStages(dealStageEntity(id), DEFAULT_DEAL_STAGES);
    return id;
  }

  /** Replaces a stage directory; for `DEAL_STAGE_<n>` ids get the `C<n>:` prefix if missing. */
  setStages(entityId: string, stages: StageDefinition[]): void {
    const categoryMatch = /^DEAL_STAGE_(\d+)$/.exec(entityId);
    const categoryId = categoryMatch ? Number(categoryMatch[1]) : null;
    if (categoryId !== null && !this.categories.has(categoryId)) throw new Error(`No deal category ${categoryId}`);
    if (entityId !== 'DEAL_STAGE' && entityId !== 'STATUS' && !PLAIN_DIRECTORIES.has(entityId) && categoryId === null) throw new Error(`Unsupported ${entityId}`);
    const prefix = categoryId === null ? '' : `C${categoryId}:`;
    this.statuses.set(
      entityId,
      stages.map((stage) => {
        const statusId = stage.statusId.startsWith(prefix) ? stage.statusId : `${prefix}${stage.statusId}`;
        return {
          id: (this.seq.status += 2),
          entityId,
          statusId,
          name: stage.name,
          sort: stage.sort,
          system: !PLAIN_DIRECTORIES.has(entityId) && SYSTEM_STATUSES.has(stage.statusId.replace(prefix, '')),
          categoryId,
          color: stage.color ?? (stage.semantics === 'S' ? '#7BD500' : stage.semantics === 'F' ? '#FF5752' : '#39A8EF'),
          semantics: stage.semantics ?? null,
        };
      }),
    );
  }

  stagesOf(entityId: string): StatusEntry[] {
    return [...(this.statuses.get(entityId) ?? [])].sort((a, b) => a.sort - b.sort || a.id - b.id);
  }

  addUserField(entityTypeId: EntityTypeId, def: UserFieldDefinition): void {
    const fieldName = def.fieldName.toUpperCase();
    if (!fieldName.startsWith('UF_CRM_')) throw new Error(`User field name must start with UF_CRM_: ${def.fieldName}`);
    this.userFields.get(entityTypeId)?.set(fieldName, { ...def, fieldName });
  }

  ufDefs(entityTypeId: EntityTypeId): Map<string, UserFieldDefinition> {
    return this.userFields.get(entityTypeId) ?? new Map();
  }

  private stageEntityFor(entityTypeId: EntityTypeId, categoryId: number): string {
    return entityTypeId === 1 ? 'STATUS' : dealStageEntity(categoryId);
  }

  semanticOf(entityTypeId: EntityTypeId, categoryId: number, stageId: string): StageSemantic {
    const stage = this.stagesOf(this.stageEntityFor(entityTypeId, categoryId)).find((s) => s.statusId === stageId);
    return stage?.semantics ?? 'P';
  }

  // endregion

  // region Input parsing

  /** Parses `crm.item.*` `fields` (camelCase; UF per `useOriginalUfNames`). Unknown/read-only fields are ignored. */
  parseItemFields(entityTypeId: EntityTypeId, fields: Record<string, unknown>, naming: UfNaming): ItemChanges {
    const changes: ItemChanges = { data: {}, uf: {}, fm: [] };
    for (const [key, value] of Object.entries(fields)) {
      if (key === 'fm' && entityTypeId !== 2) {
        changes.fm.push(...parseItemFm(value));
        continue;
      }
      const spec = specOf(entityTypeId, key);
      if (spec) {
        if (!spec.readOnly) changes.data[key] = this.normalize(spec.type, spec.multiple ?? false, value, spec.title);
        continue;
      }
      this.collectUf(entityTypeId, key, value, naming, changes);
    }
    return changes;
  }

  /** Parses legacy `fields` (UPPER_CASE, `PHONE`/`EMAIL` multi-fields, `UF_CRM_…`). */
  parseLegacyFields(entityTypeId: EntityTypeId, fields: Record<string, unknown>): ItemChanges {
    const changes: ItemChanges = { data: {}, uf: {}, fm: [] };
    for (const [rawKey, value] of Object.entries(fields)) {
      const key = rawKey.toUpperCase();
      if (entityTypeId !== 2 && (key === 'PHONE' || key === 'EMAIL' || key === 'WEB' || key === 'IM')) {
        changes.fm.push(...parseLegacyFm(key, value));
        continue;
      }
      const spec = specOfUpper(entityTypeId, key);
      if (spec) {
        if (!spec.readOnly) changes.data[spec.name] = this.normalize(spec.type, false, value, spec.title);
        continue;
      }
      this.collectUf(entityTypeId, key, value, 'original', changes);
    }
    return changes;
  }

  private collectUf(entityTypeId: EntityTypeId, key: string, value: unknown, naming: UfNaming, changes: ItemChanges): void {
    const defs = this.ufDefs(entityTypeId);
    const original = resolveUfName(key, defs.keys(), naming);
    const def = original ? defs.get(original) : undefined;
    if (!original || !def) return;
    changes.uf[original] = this.normalizeUf(def, value);
  }

  private normalize(type: Parameters<typeof normalizeValue>[0], multiple: boolean, value: unknown, title: string): unknown {
    const normalized = normalizeValue(type, multiple, value);
    if (normalized === undefined) {
      throw new RestError(400, 'CRM_FIELD_ERROR_VALUE_NOT_VALID', `Invalid value for field "${title}"`);
    }
    return normalized;
  }

  private normalizeUf(def: UserFieldDefinition, value: unknown): unknown {
    const type = def.type === 'integer' ? 'integer' : def.type === 'double' ? 'double' : def.type === 'boolean' ? 'char' : 'string';
    if (def.isMultiple) return toList(value).map((item) => this.normalize(type, false, item, def.title));
    return this.normalize(type, false, value, def.title);
  }

  // endregion

  // region Mutations

  get(entityTypeId: EntityTypeId, id: number): StoredItem | undefined {
    return this.items.get(entityTypeId)?.get(id);
  }

  list(entityTypeId: EntityTypeId): StoredItem[] {
    return [...(this.items.get(entityTypeId)?.values() ?? [])];
  }

  create(entityTypeId: EntityTypeId, changes: ItemChanges, actor: Actor): StoredItem {
    const id = this.seq.item[entityTypeId]++;
    const stamp = this.stamp();
    const by = actor ?? 1;
    const data: Record<string, unknown> = {};
    for (const spec of FIELD_SPECS[entityTypeId]) data[spec.name] = spec.multiple ? [] : normalizeValue(spec.type, false, null);
    Object.assign(data, {
      id,
      createdTime: stamp,
      updatedTime: stamp,
      createdBy: by,
      updatedBy: by,
      assignedById: by,
      opened: 'Y',
      lastActivityBy: by,
      lastActivityTime: stamp,
    });
    if (entityTypeId !== 3) Object.assign(data, { opportunity: 0, currencyId: 'RUB', isManualOpportunity: 'N', isReturnCustomer: 'N' });
    if (entityTypeId === 2) Object.assign(data, { typeId: 'SALE', isRepeatedApproach: 'N', begindate: stamp.replace(/T.*/, 'T00:00:00' + this.utcOffset) });
    const item: StoredItem = { entityTypeId, id, data, uf: {}, fm: [] };
    Object.assign(data, changes.data);
    Object.assign(item.uf, changes.uf);
    this.applyFm(item, changes.fm);
    if (entityTypeId === 1 || entityTypeId === 2) this.placeInStage(item, changes, true);
    this.syncContacts(item, changes);
    if (!data.title && entityTypeId !== 3) data.title = `${TITLE_PREFIX[entityTypeId]} #${id}`;
    this.applyDerived(item);
    if (entityTypeId === 1 || entityTypeId === 2) {
      data.movedTime = stamp;
      data.movedBy = by;
      this.recordHistory(item, 1);
    }
    this.items.get(entityTypeId)?.set(id, item);
    this.onEvent({ event: `${EVENT_PREFIX[entityTypeId]}ADD`, fields: { ID: String(id) }, actor });
    return item;
  }

  /**
   * Applies changes. With `skipIfUnchanged` (crm.item.update semantics: "if no field values have changed,
   * the save is not performed") a no-op update stores nothing and fires no event.
   */
  update(entityTypeId: EntityTypeId, id: number, changes: ItemChanges, actor: Actor, skipIfUnchanged: boolean): boolean {
    const item = this.get(entityTypeId, id);
    if (!item) throw new RestError(400, 'NOT_FOUND', 'Element not found');
    const before = JSON.stringify({ data: item.data, uf: item.uf, fm: item.fm });
    const oldStage = String(item.data.stageId ?? '');
    const oldCategory = Number(item.data.categoryId ?? 0);
    const draft: StoredItem = structuredClone(item);
    Object.assign(draft.data, changes.data);
    Object.assign(draft.uf, changes.uf);
    this.applyFm(draft, changes.fm);
    if (entityTypeId === 1 || entityTypeId === 2) this.placeInStage(draft, changes, false, oldCategory);
    this.syncContacts(draft, changes);
    this.applyDerived(draft);
    const changed = before !== JSON.stringify({ data: draft.data, uf: draft.uf, fm: draft.fm });
    if (!changed && skipIfUnchanged) return false;

    const stamp = this.stamp();
    const by = actor ?? 1;
    Object.assign(draft.data, { updatedTime: stamp, updatedBy: by });
    const categoryChanged = entityTypeId === 2 && Number(draft.data.categoryId) !== oldCategory;
    if ((entityTypeId === 1 || entityTypeId === 2) && String(draft.data.stageId) !== oldStage) {
      Object.assign(draft.data, { movedTime: stamp, movedBy: by });
      const semantic = draft.data.stageSemanticId as StageSemantic;
      this.recordHistory(draft, categoryChanged ? 5 : semantic === 'P' ? 2 : 3);
    }
    this.items.get(entityTypeId)?.set(id, draft);
    this.onEvent({ event: `${EVENT_PREFIX[entityTypeId]}UPDATE`, fields: { ID: String(id) }, actor });
    if (categoryChanged) {
      this.onEvent({
        event: 'ONCRMDEALMOVETOCATEGORY',
        fields: { ID: String(id), CATEGORY_ID: String(draft.data.categoryId), STAGE_ID: String(draft.data.stageId) },
        actor,
      });
    }
    return true;
  }

  /** Deletes an item (a merge removes the merged duplicates); fires ONCRM*DELETE. */
  remove(entityTypeId: EntityTypeId, id: number, actor: Actor): void {
    if (!this.items.get(entityTypeId)?.delete(id)) throw new RestError(400, 'NOT_FOUND', 'Element not found');
    this.onEvent({ event: `${EVENT_PREFIX[entityTypeId]}DELETE`, fields: { ID: String(id) }, actor });
  }

  /**
   * crm.entity.mergeBatch: the first item stays; the others' multi-field values it lacks and the
   * fields it has empty are copied to it, then they are deleted (restdocs crm-entity-merge-batch.md).
   * Two different non-empty values of one field are a conflict: nothing changes.
   */
  merge(entityTypeId: EntityTypeId, ids: number[], actor: Actor): { status: 'SUCCESS' | 'CONFLICT'; deleted: number[] } {
    const [main, ...others] = ids.map((id) => this.get(entityTypeId, id));
    if (!main || others.some((o) => !o)) throw new RestError(400, '', 'Owner was not found');
    const skip = new Set(['id', 'createdTime', 'updatedTime', 'createdBy', 'updatedBy', 'assignedById', 'lastActivityBy', 'lastActivityTime', 'hasPhone', 'hasEmail', 'opened', 'typeId']);
    const fill: Record<string, unknown> = {};
    for (const other of others as StoredItem[]) {
      for (const [key, value] of Object.entries(other.data)) {
        if (skip.has(key) || value === null || value === '' || value === 0 || (Array.isArray(value) && !value.length)) continue;
        const mine = main.data[key] ?? fill[key];
        if (mine === null || mine === undefined || mine === '' || mine === 0) fill[key] = value;
        else if (JSON.stringify(mine) !== JSON.stringify(value) && !Array.isArray(value)) return { status: 'CONFLICT', deleted: [] };
      }
    }
    const fm: FmOperation[] = [];
    for (const other of others as StoredItem[]) {
      for (const entry of other.fm) {
        const known = [...main.fm, ...fm].some((e) => e.typeId === entry.typeId && sameValue(e.value, entry.value));
        if (!known) fm.push({ id: null, typeId: entry.typeId, valueType: entry.valueType, value: entry.value, remove: false });
      }
    }
    this.update(entityTypeId, main.id, { data: fill, uf: {}, fm }, actor, true);
    const gone = new Set((others as StoredItem[]).map((o) => o.id));
    if (entityTypeId === 3) {
      // Leads and deals of a merged contact now belong to the contact that stays.
      for (const owner of [...this.list(1), ...this.list(2)]) {
        const ids = ((owner.data.contactIds as number[] | undefined) ?? []).map((id) => (gone.has(id) ? main.id : id));
        const unique = [...new Set(ids)];
        if (JSON.stringify(unique) !== JSON.stringify(owner.data.contactIds)) {
          owner.data.contactIds = unique;
          owner.data.contactId = unique[0] ?? 0;
        }
      }
    }
    for (const other of others as StoredItem[]) this.remove(entityTypeId, other.id, actor);
    return { status: 'SUCCESS', deleted: (others as StoredItem[]).map((o) => o.id) };
  }

  /** Validates/defaults the stage (and funnel for deals) and derives stage semantics. */
  private placeInStage(item: StoredItem, changes: ItemChanges, isNew: boolean, oldCategory = 0): void {
    const { data } = item;
    const categoryId = item.entityTypeId === 2 ? Number(data.categoryId ?? 0) : 0;
    if (item.entityTypeId === 2 && !this.categories.has(categoryId)) {
      throw new RestError(400, 'CRM_FIELD_ERROR_VALUE_NOT_VALID', 'Invalid value for field "Воронка"');
    }
    if (item.entityTypeId === 2) data.categoryId = categoryId;
    const stages = this.stagesOf(this.stageEntityFor(item.entityTypeId, categoryId));
    const requested = changes.data.stageId;
    const categoryMoved = item.entityTypeId === 2 && !isNew && categoryId !== oldCategory;
    if (requested === undefined || requested === null) {
      if (isNew || categoryMoved) data.stageId = stages[0]?.statusId ?? null;
    } else if (!stages.some((stage) => stage.statusId === requested)) {
      const title = item.entityTypeId === 2 ? 'Стадия сделки' : 'Стадия';
      throw new RestError(400, 'CRM_FIELD_ERROR_VALUE_NOT_VALID', `Invalid value for field "${title}"`);
    }
    data.stageSemanticId = this.semanticOf(item.entityTypeId, categoryId, String(data.stageId));
    if (item.entityTypeId === 2) data.closed = data.stageSemanticId === 'P' ? 'N' : 'Y';
  }

  /** `contactIds` and `contactId` (the primary contact) are kept consistent. */
  private syncContacts(item: StoredItem, changes: ItemChanges): void {
    if (item.entityTypeId === 3) return;
    const { data } = item;
    if (changes.data.contactIds !== undefined) {
      const ids = (data.contactIds as number[]).filter((value) => value > 0);
      data.contactIds = ids;
      data.contactId = ids[0] ?? 0;
    } else if (changes.data.contactId !== undefined) {
      const primary = Number(data.contactId);
      const rest = ((data.contactIds as number[] | undefined) ?? []).filter((value) => value !== primary);
      data.contactIds = primary > 0 ? [primary, ...rest] : rest;
    }
  }

  private applyFm(item: StoredItem, ops: FmOperation[]): void {
    for (const op of ops) {
      const existing = op.id !== null ? item.fm.find((entry) => entry.id === op.id) : undefined;
      if (existing) {
        if (op.remove) item.fm = item.fm.filter((entry) => entry !== existing);
        else Object.assign(existing, { valueType: op.valueType, value: op.value, typeId: op.typeId });
      } else if (!op.remove) {
        item.fm.push({ id: this.seq.fm++, typeId: op.typeId, valueType: op.valueType, value: op.value });
      }
    }
    if (ops.length > 0) this.applyDerived(item);
  }

  private applyDerived(item: StoredItem): void {
    if (item.entityTypeId === 2) return;
    item.data.hasPhone = item.fm.some((entry) => entry.typeId === 'PHONE') ? 'Y' : 'N';
    item.data.hasEmail = item.fm.some((entry) => entry.typeId === 'EMAIL') ? 'Y' : 'N';
  }

  private recordHistory(item: StoredItem, typeId: StageHistoryRecord['typeId']): void {
    if (item.entityTypeId === 3) return;
    this.history.push({
      id: this.seq.history++,
      entityTypeId: item.entityTypeId,
      typeId,
      ownerId: item.id,
      createdTime: this.stamp(),
      categoryId: item.entityTypeId === 2 ? Number(item.data.categoryId) : null,
      stageId: String(item.data.stageId),
      semantic: item.data.stageSemanticId as StageSemantic,
    });
  }

  // endregion

  // region Views

  /** `crm.item.*` representation (camelCase; UF per naming; `fm` and aliases for leads/contacts). */
  itemView(item: StoredItem, naming: UfNaming = 'camel'): Record<string, unknown> {
    const view: Record<string, unknown> = {};
    for (const spec of FIELD_SPECS[item.entityTypeId]) view[spec.name] = structuredClone(item.data[spec.name] ?? null);
    if (item.entityTypeId !== 2) {
      Object.assign(view, fmAliases(item.fm));
      view.fm = item.fm.map((entry) => ({ id: entry.id, valueType: entry.valueType, value: entry.value, typeId: entry.typeId }));
    }
    for (const [name, value] of this.ufEntries(item)) view[ufOutputName(name, naming)] = structuredClone(value);
    view.entityTypeId = item.entityTypeId;
    return view;
  }

  /** Legacy representation (UPPER_CASE, scalars as strings, `PHONE`/`EMAIL` multi-fields). */
  legacyView(item: StoredItem): Record<string, unknown> {
    const view: Record<string, unknown> = {};
    for (const spec of FIELD_SPECS[item.entityTypeId]) {
      if (spec.upper !== null) view[spec.upper] = legacyScalar(spec.type, item.data[spec.name]);
    }
    for (const [name, value] of this.ufEntries(item)) view[name] = legacyScalar('string', value);
    if (item.entityTypeId !== 2) {
      for (const typeId of ['PHONE', 'EMAIL', 'WEB', 'IM'] as const) {
        const entries = item.fm.filter((entry) => entry.typeId === typeId);
        if (entries.length > 0) {
          view[typeId] = entries.map((entry) => ({ ID: String(entry.id), VALUE_TYPE: entry.valueType, VALUE: entry.value, TYPE_ID: entry.typeId }));
        }
      }
    }
    return view;
  }

  /** Every defined user field of the item's type (a field added after the item was created reads as empty). */
  private ufEntries(item: StoredItem): Array<[string, unknown]> {
    return [...this.ufDefs(item.entityTypeId).values()].map((def) => [
      def.fieldName,
      item.uf[def.fieldName] ?? (def.isMultiple ? [] : null),
    ]);
  }

  /** Status directory row as returned by `crm.status.list`. */
  statusView(entry: StatusEntry, allOfEntity: StatusEntry[]): Record<string, unknown> {
    const firstFailure = allOfEntity.find((stage) => stage.semantics === 'F');
    const extraSemantics =
      entry.semantics === 'S' ? 'success' : entry.semantics === 'F' ? (entry === firstFailure ? 'failure' : 'apology') : 'process';
    return {
      ID: String(entry.id),
      ENTITY_ID: entry.entityId,
      STATUS_ID: entry.statusId,
      NAME: entry.name,
      NAME_INIT: entry.system ? entry.name : '',
      SORT: String(entry.sort),
      SYSTEM: entry.system ? 'Y' : 'N',
      CATEGORY_ID: entry.categoryId === null ? null : String(entry.categoryId),
      COLOR: entry.color,
      SEMANTICS: entry.semantics,
      EXTRA: { SEMANTICS: extraSemantics, COLOR: entry.color },
    };
  }

  // endregion
}
