/**
 * What the settings page shows to bind one funnel to a regulation, computed from the same spec the
 * CLI takes (`{ preset, overrides }`, `regulationSpecSchema`): the CRM's stages with the preset stage
 * (role) each one is given and the one its name suggests, the transition matrix, the stages never
 * skipped, each stage's required and reason fields by the CRM's codes and titles, the message
 * templates, and every binding error at its path. Pure: the caller lists the funnels and fields.
 */
import type { CrmField, CrmFunnel } from '../crm/crm-port';
import { mergeMessages } from '../regulation/messages';
import { bindRegulation, formatRegulationError, OverridesSchema, pickText, readPreset, STAGE_ROLES, validatePreset, type MessageTemplates, type MustNotSkipRule, type Overrides, type Preset, type RegulationError, type StageRole } from '../regulation';
import type { BindContext } from '../regulation/bind-context';
import { selectFunnel } from '../regulation/bind-funnel';
import { bindTransitions } from '../regulation/bind-rules';
import { bindStages } from '../regulation/bind-stages';
import { sameName } from '../regulation/normalize-name';
import { applyRuleOverrides, hasRuleOverrides } from '../regulation/rule-overrides';
import type { RegulationSpec } from '../regulation/installation-bindings';

export interface ViewField {
  key: string;
  code: string | null;
  title: string;
}

export interface RegulationView {
  spec: RegulationSpec;
  preset: { key: string; title: string; entity: 'deal' | 'lead'; crm: string | null } | null;
  funnels: Array<{ id: string; name: string }>;
  funnel: { id: string; name: string } | null;
  presetStages: Array<{ key: string; role: StageRole; name: string; semantics: string; closing: boolean }>;
  /** The funnel's stages in order, each with the preset stage it is bound to now and the one its name suggests. */
  crmStages: Array<{ id: string; name: string; semantics: string; key: string | null; suggestedKey: string | null }>;
  /** Bound stage keys in preset order, where each may move (deny rules subtracted), and the deny rules with their explanations. */
  matrix: { keys: string[]; allowed: Record<string, string[]>; denied: Array<{ from: string; to: string[]; explain: unknown }> };
  mustNotSkip: MustNotSkipRule[];
  stageRules: Record<string, { requiredFields: ViewField[]; reasonField: ViewField | null }>;
  /** CRM field code → the field key that names it in this regulation (existing or to be added). */
  fieldKeys: Record<string, string>;
  fields: Array<{ code: string; title: string; type: string }>;
  messages: { ru: MessageTemplates; en: MessageTemplates };
  ok: boolean;
  errors: Array<{ file: string; path: string; message: string; text: string }>;
  warnings: string[];
}

const asError = (e: RegulationError) => ({ file: e.file, path: e.path, message: e.message, text: formatRegulationError(e) });

export function regulationView(spec: RegulationSpec, funnels: readonly CrmFunnel[], crmFields: readonly CrmField[], lang: 'ru' | 'en' = 'ru'): RegulationView {
  const base = emptyView(spec, crmFields);
  const read = readPreset(spec.preset);
  if (!read.ok) return { ...base, errors: read.errors.map(asError) };
  const overridesResult = OverridesSchema.safeParse(spec.overrides);
  const bound = bindRegulation(read.preset, funnels, crmFields, spec.overrides as never);
  const view: RegulationView = {
    ...base,
    preset: { key: read.preset.key, title: pickText(read.preset.title, lang), entity: read.preset.entity, crm: read.preset.crm ?? null },
    funnels: funnels.filter((f) => f.entity === read.preset.entity).map((f) => ({ id: f.id, name: f.name })),
    ok: bound.ok,
    errors: bound.ok ? [] : bound.errors.map(asError),
    warnings: bound.ok ? bound.warnings : [],
  };
  if (!overridesResult.success) return view;
  const overrides = overridesResult.data;
  // The rule edits apply when they are valid; otherwise the page shows the preset's rules and the errors.
  const edited = hasRuleOverrides(overrides) ? validatePreset(applyRuleOverrides(read.preset, overrides)) : null;
  const preset: Preset = edited?.ok ? edited.preset : read.preset;
  const ctx = (o: Overrides): BindContext => ({ preset, overrides: o, presetFile: 'preset', overridesFile: 'overrides', errors: [], warnings: [] });

  const funnel = selectFunnel(ctx(overrides), funnels);
  view.presetStages = Object.entries(preset.stages).map(([key, def]) => ({
    key,
    role: def.role,
    name: def.names[0] ?? key,
    semantics: STAGE_ROLES[def.role].semantics,
    closing: STAGE_ROLES[def.role].semantics !== 'process',
  }));
  view.mustNotSkip = preset.mustNotSkip;
  view.messages = mergeMessages(preset.messages, overrides.messages);
  const fieldCode = fieldResolver(preset, overrides, crmFields);
  view.fieldKeys = fieldKeysOf(preset, crmFields, fieldCode);
  view.stageRules = Object.fromEntries(
    Object.entries(preset.stages).map(([key, def]) => [
      key,
      {
        requiredFields: (def.requiredFields ?? []).map((f) => viewField(preset, f, fieldCode)),
        reasonField: def.reasonField === undefined ? null : viewField(preset, def.reasonField, fieldCode),
      },
    ]),
  );
  if (!funnel) return view;
  view.funnel = { id: funnel.id, name: funnel.name };

  const current = bindStages(ctx(overrides), funnel);
  const suggested = bindStages(ctx({ ...overrides, stages: undefined }), funnel);
  // The role the admin gave a stage stays shown even when it does not bind (its error is shown beside it).
  const chosen = new Map(Object.entries(overrides.stages ?? {}).flatMap(([key, id]) => (id === null ? [] : [[id, key] as const])));
  const keyOf = (map: Map<string, { id: string }>, id: string) => [...map.entries()].find(([, s]) => s.id === id)?.[0] ?? null;
  view.crmStages = [...funnel.stages]
    .sort((a, b) => a.sort - b.sort)
    .map((s) => ({ id: s.id, name: s.name, semantics: s.semantics, key: chosen.get(s.id) ?? keyOf(current, s.id), suggestedKey: keyOf(suggested, s.id) }));
  const order = [...current.keys()].map((key) => ({ key, role: preset.stages[key]!.role }));
  const transitions = bound.ok ? bound.regulation.transitions : bindTransitions(ctx(overrides), order);
  view.matrix = {
    keys: bound.ok ? bound.regulation.stages.map((s) => s.key) : order.map((s) => s.key),
    allowed: transitions.allowed,
    denied: transitions.denied.map((d) => ({ from: d.from, to: d.to, explain: d.explain })),
  };
  return view;
}

function emptyView(spec: RegulationSpec, crmFields: readonly CrmField[]): RegulationView {
  return {
    spec,
    preset: null,
    funnels: [],
    funnel: null,
    presetStages: [],
    crmStages: [],
    matrix: { keys: [], allowed: {}, denied: [] },
    mustNotSkip: [],
    stageRules: {},
    fieldKeys: {},
    fields: crmFields.map((f) => ({ code: f.code, title: f.title, type: f.type })),
    messages: mergeMessages(),
    ok: false,
    errors: [],
    warnings: [],
  };
}

/** A field key → its CRM code, the way binding finds it: the override, then the names, then the fixed codes. */
function fieldResolver(preset: Preset, overrides: Overrides, crmFields: readonly CrmField[]): (key: string) => CrmField | null {
  return (key) => {
    const override = overrides.fields?.[key];
    if (override !== undefined) return crmFields.find((f) => f.code === override) ?? null;
    const def = preset.fields[key];
    if (!def) return null;
    for (const name of def.names) {
      const hit = crmFields.find((f) => sameName(f.title, name));
      if (hit) return hit;
    }
    return crmFields.find((f) => (def.codes ?? []).includes(f.code)) ?? null;
  };
}

function viewField(preset: Preset, key: string, resolve: (key: string) => CrmField | null): ViewField {
  const field = resolve(key);
  return { key, code: field?.code ?? null, title: field?.title ?? preset.fields[key]?.names[0] ?? key };
}

/** Each CRM field's key: the preset field bound to it, else one made from its code (`crm_uf_crm_unit`). */
function fieldKeysOf(preset: Preset, crmFields: readonly CrmField[], resolve: (key: string) => CrmField | null): Record<string, string> {
  const byCode = new Map<string, string>();
  for (const key of Object.keys(preset.fields)) {
    const field = resolve(key);
    if (field && !byCode.has(field.code)) byCode.set(field.code, key);
  }
  return Object.fromEntries(crmFields.map((f) => [f.code, byCode.get(f.code) ?? fieldKeyFor(f.code)]));
}

/** A field key (lower_snake_case, starting with a letter) for a CRM field code. */
export function fieldKeyFor(code: string): string {
  return `crm_${code.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}
