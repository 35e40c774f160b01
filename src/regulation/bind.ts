/**
 * Binding: a preset (written against stage and field *names*) becomes a regulation of one
 * portal's funnel (real stage ids and field codes).
 *
 * Matching, per preset stage, in this order:
 * 1. `overrides.stages[key]`: a real stage id (or `null`: the portal has no such stage on purpose);
 * 2. the stage's `names`, tried in order, normalised (`normalizeName`), among stages whose CRM
 *    semantics fit the role (a won/lost role never binds to an in-progress stage);
 * 3. the stage's fixed `ids` (amoCRM 142/143, Bitrix24 WON/LOSE/CONVERTED/JUNK, `C<n>:` ignored).
 * A stage that matches nothing is reported (unless `optional`), a name that matches two stages is
 * reported: nothing is guessed. Fields are matched the same way (override → names → codes).
 *
 * The result is all or nothing: a bound regulation, or every error found.
 */
import type { CrmField, CrmFunnel, FunnelStage } from '../crm/crm-port';
import { fromZodError, regulationError, type RegulationError } from './errors';
import { mergeMessages } from './messages';
import { sameName } from './normalize-name';
import {
  BoundRegulationSchema,
  OverridesSchema,
  RobotSettingsSchema,
  STAGE_ROLES,
  type BoundDenyRule,
  type BoundField,
  type BoundMustNotSkip,
  type BoundRegulation,
  type BoundStage,
  type Overrides,
  type OverridesInput,
  type Preset,
  type PresetInput,
  type RobotSettings,
} from './schema';
import { expandSelection, type OrderedStage } from './selectors';
import { bindTimeLimit, mergeTimeLimit, timeLimitProblems, type BoundNextStep, type BoundTimeLimit, type PresetNextStep } from './timing';
import { checkMessagePlaceholders, presetFileLabel, validatePreset } from './validate-preset';

export type BindResult =
  | {
      ok: true;
      regulation: BoundRegulation;
      /** Things an integrator may want to know (ungoverned stages, dropped optional stages). */
      warnings: string[];
    }
  | { ok: false; errors: RegulationError[] };

export interface BindOptions {
  /** How errors name the preset; default `presets/<key>.json`. */
  presetFile?: string;
  /** How errors name the overrides; default `overrides`. */
  overridesFile?: string;
}

const MAX_LISTED = 40;

/**
 * Binds `preset` to one funnel of a portal.
 *
 * @param preset a preset (validated again here, so a hand-built one gets the same errors)
 * @param funnels the funnel to bind, or the portal's funnels to pick from (by
 *   `overrides.funnelId`, else by the preset's `funnel.names`, else the only funnel of the
 *   preset's entity)
 * @param fields the CRM's fields of the funnel's entity (`CrmPort.listFields`)
 * @param overrides what this installation adds (stage ids, field codes, settings, texts)
 * @example
 * const result = bindRegulation(loadPreset('amocrm-primary-market'), await crm.listFunnels(),
 *   await crm.listFields('deal'), { fields: { meeting_place: '584213' } });
 * if (!result.ok) console.error(formatRegulationErrors(result.errors));
 */
export function bindRegulation(
  preset: Preset | PresetInput,
  funnels: CrmFunnel | readonly CrmFunnel[],
  fields: readonly CrmField[],
  overrides: OverridesInput = {},
  options: BindOptions = {},
): BindResult {
  const presetResult = validatePreset(preset, options.presetFile);
  const overridesFile = options.overridesFile ?? 'overrides';
  const overridesResult = OverridesSchema.safeParse(overrides);
  const errors: RegulationError[] = [];
  if (!presetResult.ok) errors.push(...presetResult.errors);
  if (!overridesResult.success) errors.push(...fromZodError(overridesResult.error, overridesFile));
  if (!presetResult.ok || !overridesResult.success) return { ok: false, errors };

  const binder = new Binder(
    presetResult.preset,
    overridesResult.data,
    options.presetFile ?? presetFileLabel(presetResult.preset.key),
    overridesFile,
  );
  return binder.bind(funnels, fields);
}

class Binder {
  private readonly errors: RegulationError[] = [];
  private readonly warnings: string[] = [];

  constructor(
    private readonly preset: Preset,
    private readonly overrides: Overrides,
    private readonly presetFile: string,
    private readonly overridesFile: string,
  ) {}

  bind(funnels: CrmFunnel | readonly CrmFunnel[], fields: readonly CrmField[]): BindResult {
    this.checkOverrideReferences();
    const funnel = this.selectFunnel(funnels);
    if (!funnel) return this.failure();

    const stages = this.bindStages(funnel);
    const presentOrder: OrderedStage[] = [...stages.keys()].map((key) => ({ key, role: this.stageDef(key).role }));
    const mustNotSkip = this.bindMustNotSkip(stages, presentOrder);
    const boundFields = this.bindFields(stages, fields);
    const timeLimits = this.bindTimeLimits(stages);
    if (this.errors.length > 0) return this.failure();

    const boundStages: BoundStage[] = [...stages.entries()].map(([key, stage]) => {
      const def = this.stageDef(key);
      const field = (fieldKey: string): BoundField => {
        const bound = boundFields.get(fieldKey);
        if (!bound) throw new Error(`field ${fieldKey} was not bound`); // unreachable: errors returned above
        return bound;
      };
      return {
        key,
        role: def.role,
        stageId: stage.id,
        name: stage.name,
        semantics: stage.semantics,
        requiredFields: unique(def.requiredFields ?? []).map(field),
        reasonField: def.reasonField === undefined ? null : field(def.reasonField),
        timeLimit: timeLimits.get(key) ?? null,
        nextStep: this.bindNextStep(def.nextStep, field),
      };
    });

    const governedIds = new Set(boundStages.map((s) => s.stageId));
    const ungovernedStages = [...funnel.stages]
      .filter((s) => !governedIds.has(s.id))
      .sort((a, b) => a.sort - b.sort)
      .map((s) => ({ id: s.id, name: s.name }));
    if (ungovernedStages.length > 0) {
      this.warnings.push(
        `stages the regulation does not govern (moves into them always pass): ${ungovernedStages.map((s) => `«${s.name}» (${s.id})`).join(', ')}`,
      );
    }

    const regulation: BoundRegulation = BoundRegulationSchema.parse({
      preset: {
        key: this.preset.key,
        version: this.preset.version,
        title: this.preset.title,
        source: this.preset.source,
      },
      entity: this.preset.entity,
      funnel: { id: funnel.id, name: funnel.name },
      stages: boundStages,
      fields: [...boundFields.values()],
      transitions: this.bindTransitions(presentOrder),
      mustNotSkip,
      settings: this.settings(),
      messages: mergeMessages(this.preset.messages, this.overrides.messages),
      ungovernedStages,
    });
    return { ok: true, regulation, warnings: this.warnings };
  }

  private failure(): BindResult {
    return { ok: false, errors: this.errors };
  }

  private stageDef(key: string): Preset['stages'][string] {
    const def = this.preset.stages[key];
    if (!def) throw new Error(`unknown stage key ${key}`);
    return def;
  }

  private checkOverrideReferences(): void {
    const stageKeys = Object.keys(this.preset.stages);
    const fieldKeys = Object.keys(this.preset.fields);
    for (const key of Object.keys(this.overrides.stages ?? {})) {
      if (!stageKeys.includes(key)) {
        this.errors.push(
          regulationError('unknown_reference', this.overridesFile, ['stages', key], `the preset has no stage «${key}» (stages: ${stageKeys.join(', ')})`),
        );
      }
    }
    for (const key of Object.keys(this.overrides.fields ?? {})) {
      if (!fieldKeys.includes(key)) {
        this.errors.push(
          regulationError(
            'unknown_reference',
            this.overridesFile,
            ['fields', key],
            `the preset has no field «${key}» (fields: ${fieldKeys.join(', ') || 'none'})`,
          ),
        );
      }
    }
    this.errors.push(...checkMessagePlaceholders(this.overrides.messages, this.overridesFile));
  }

  // -------------------------------------------------------------------------------------------
  // Funnel
  // -------------------------------------------------------------------------------------------

  private selectFunnel(input: CrmFunnel | readonly CrmFunnel[]): CrmFunnel | null {
    const wantedId = this.overrides.funnelId;
    const entity = this.preset.entity;
    let funnel: CrmFunnel | null = null;

    if (isFunnelList(input)) {
      const describe = (list: readonly CrmFunnel[]): string =>
        list.length === 0 ? 'none' : list.map((f) => `«${f.name}» (${f.entity} ${f.id})`).join(', ');
      if (wantedId !== undefined) {
        funnel = input.find((f) => f.id === wantedId) ?? null;
        if (!funnel) {
          this.errors.push(
            regulationError('funnel_not_found', this.overridesFile, 'funnelId', `the portal has no funnel «${wantedId}» (funnels: ${describe(input)})`),
          );
          return null;
        }
      } else {
        const ofEntity = input.filter((f) => f.entity === entity);
        const names = this.preset.funnel?.names;
        if (names) {
          for (const name of names) {
            const hits = ofEntity.filter((f) => sameName(f.name, name));
            if (hits.length > 1) {
              this.errors.push(
                regulationError(
                  'funnel_ambiguous',
                  this.presetFile,
                  'funnel.names',
                  `name «${name}» matches several ${entity} funnels: ${describe(hits)}; choose one with overrides.funnelId`,
                ),
              );
              return null;
            }
            if (hits[0]) {
              funnel = hits[0];
              break;
            }
          }
          if (!funnel) {
            this.errors.push(
              regulationError(
                'funnel_not_found',
                this.presetFile,
                'funnel.names',
                `no ${entity} funnel is named ${names.map((n) => `«${n}»`).join(' or ')} (${entity} funnels: ${describe(ofEntity)}); choose one with overrides.funnelId`,
              ),
            );
            return null;
          }
        } else if (ofEntity.length === 1 && ofEntity[0]) {
          funnel = ofEntity[0];
        } else {
          this.errors.push(
            regulationError(
              ofEntity.length === 0 ? 'funnel_not_found' : 'funnel_ambiguous',
              this.presetFile,
              'funnel',
              `the preset names no funnel and the portal has ${ofEntity.length} ${entity} funnels (${describe(ofEntity)}); choose one with overrides.funnelId`,
            ),
          );
          return null;
        }
      }
    } else {
      funnel = input;
      if (wantedId !== undefined && wantedId !== funnel.id) {
        this.errors.push(
          regulationError(
            'funnel_not_found',
            this.overridesFile,
            'funnelId',
            `funnel «${wantedId}» was asked for, but the funnel given is «${funnel.name}» (${funnel.id})`,
          ),
        );
        return null;
      }
    }

    if (funnel.entity !== entity) {
      this.errors.push(
        regulationError(
          'entity_mismatch',
          this.presetFile,
          'entity',
          `the preset is for ${entity} funnels, but «${funnel.name}» (${funnel.id}) is a ${funnel.entity} funnel`,
        ),
      );
      return null;
    }
    return funnel;
  }

  // -------------------------------------------------------------------------------------------
  // Stages
  // -------------------------------------------------------------------------------------------

  /** Preset key → funnel stage, in preset order; absent stages left out. */
  private bindStages(funnel: CrmFunnel): Map<string, FunnelStage> {
    const bound = new Map<string, FunnelStage>();
    const owner = new Map<string, string>();
    const funnelStages = [...funnel.stages].sort((a, b) => a.sort - b.sort);
    // Stage id → the key an override gives it to: such a stage is not matched by name for another key.
    const claimedBy = new Map<string, string>();
    for (const [key, id] of Object.entries(this.overrides.stages ?? {})) {
      if (id !== null && key in this.preset.stages) claimedBy.set(id, key);
    }

    for (const [key, def] of Object.entries(this.preset.stages)) {
      const expected = STAGE_ROLES[def.role].semantics;
      const override = this.overrides.stages?.[key];
      let stage: FunnelStage | undefined;
      let file = this.presetFile;

      if (override === null) continue;
      if (override !== undefined) {
        file = this.overridesFile;
        stage = funnelStages.find((s) => s.id === override);
        if (!stage) {
          this.errors.push(
            regulationError('stage_not_found', file, ['stages', key], `stage id «${override}» is not in funnel «${funnel.name}» (stages: ${listStages(funnelStages)})`),
          );
          continue;
        }
      } else {
        const candidates = funnelStages.filter((s) => (claimedBy.get(s.id) ?? key) === key);
        const byName = this.matchStageByName(key, funnel, candidates);
        if (byName === 'error') continue;
        stage = byName.stage ?? matchStageById(def.ids ?? [], candidates);
        if (!stage) {
          if (!def.optional) this.reportStageNotFound(key, funnel, funnelStages, byName.wrongSemantics, claimedBy);
          continue;
        }
      }

      if (stage.semantics !== expected) {
        this.errors.push(
          regulationError(
            'stage_semantics_mismatch',
            file,
            ['stages', key],
            `role «${def.role}» needs a ${expected} stage, but «${stage.name}» (${stage.id}) is a ${stage.semantics} stage`,
          ),
        );
        continue;
      }
      const first = owner.get(stage.id);
      if (first !== undefined) {
        this.errors.push(
          regulationError('stage_bound_twice', file, ['stages', key], `stage «${stage.name}» (${stage.id}) is already bound to stages.${first}`),
        );
        continue;
      }
      owner.set(stage.id, key);
      bound.set(key, stage);
    }

    for (const [key, def] of Object.entries(this.preset.stages)) {
      if (!bound.has(key) && def.optional && this.overrides.stages?.[key] === undefined) {
        this.warnings.push(`optional stage stages.${key} («${def.names[0] ?? key}») is not in funnel «${funnel.name}»; rules about it are dropped`);
      }
    }
    return bound;
  }

  /** «stage X is not in funnel F (stages: …)», plus the near misses: a wrong semantics, a stage an override took. */
  private reportStageNotFound(
    key: string,
    funnel: CrmFunnel,
    funnelStages: readonly FunnelStage[],
    wrongSemantics: readonly FunnelStage[],
    claimedBy: ReadonlyMap<string, string>,
  ): void {
    const def = this.stageDef(key);
    const expected = STAGE_ROLES[def.role].semantics;
    const tried = def.names.length > 1 ? ` (also tried ${def.names.slice(1).map((n) => `«${n}»`).join(', ')})` : '';
    const nearMisses = [
      ...wrongSemantics.map((s) => `; «${s.name}» has the name but is a ${s.semantics} stage, and role «${def.role}» needs a ${expected} stage`),
      ...funnelStages.flatMap((s) => {
        const taker = claimedBy.get(s.id);
        const named = def.names.some((name) => sameName(s.name, name));
        return taker !== undefined && taker !== key && named ? [`; «${s.name}» has the name but overrides give it to stages.${taker}`] : [];
      }),
    ];
    this.errors.push(
      regulationError(
        'stage_not_found',
        this.presetFile,
        ['stages', key],
        `stage «${def.names[0] ?? key}»${tried} is not in funnel «${funnel.name}» (stages: ${listStages(funnelStages)})${nearMisses.join('')}; map it with overrides.stages.${key}`,
      ),
    );
  }

  private matchStageByName(
    key: string,
    funnel: CrmFunnel,
    funnelStages: readonly FunnelStage[],
  ): { stage: FunnelStage | undefined; wrongSemantics: FunnelStage[] } | 'error' {
    const def = this.stageDef(key);
    const expected = STAGE_ROLES[def.role].semantics;
    const wrongSemantics: FunnelStage[] = [];
    for (const [i, name] of def.names.entries()) {
      const hits = funnelStages.filter((s) => sameName(s.name, name));
      const fit = hits.filter((s) => s.semantics === expected);
      wrongSemantics.push(...hits.filter((s) => s.semantics !== expected));
      if (fit.length > 1) {
        this.errors.push(
          regulationError(
            'stage_ambiguous',
            this.presetFile,
            ['stages', key, 'names', i],
            `name «${name}» matches ${fit.length} stages of funnel «${funnel.name}»: ${fit.map((s) => `«${s.name}» (${s.id})`).join(', ')}; map it with overrides.stages.${key}`,
          ),
        );
        return 'error';
      }
      if (fit[0]) return { stage: fit[0], wrongSemantics: [] };
    }
    return { stage: undefined, wrongSemantics };
  }

  // -------------------------------------------------------------------------------------------
  // Rules
  // -------------------------------------------------------------------------------------------

  private bindMustNotSkip(stages: Map<string, FunnelStage>, order: readonly OrderedStage[]): BoundMustNotSkip[] {
    const rules: BoundMustNotSkip[] = [];
    this.preset.mustNotSkip.forEach((rule, index) => {
      if (!stages.has(rule.stage)) {
        if (this.errors.some((e) => e.path === `stages.${rule.stage}`)) return; // already reported
        const nulled = this.overrides.stages?.[rule.stage] === null;
        this.errors.push(
          regulationError(
            'stage_required',
            nulled ? this.overridesFile : this.presetFile,
            nulled ? ['stages', rule.stage] : ['mustNotSkip', index, 'stage'],
            `stage «${this.stageDef(rule.stage).names[0] ?? rule.stage}» must never be skipped (mustNotSkip[${index}]), so the funnel must have it; map it with overrides.stages.${rule.stage}`,
          ),
        );
        return;
      }
      const beforeEntering = expandSelection(rule.beforeEntering, order, rule.stage);
      const onceEntered = rule.onceEntered ? rule.onceEntered.filter((key) => stages.has(key)) : null;
      if (beforeEntering.length === 0 || (onceEntered !== null && onceEntered.length === 0)) {
        this.warnings.push(`mustNotSkip[${index}] is dropped: the funnel has none of the stages it is about`);
        return;
      }
      rules.push({ rule: index, stage: rule.stage, beforeEntering, onceEntered, explain: rule.explain ?? null });
    });
    return rules;
  }

  private bindTransitions(order: readonly OrderedStage[]): BoundRegulation['transitions'] {
    const allowed = new Map<string, Set<string>>(order.map((s) => [s.key, new Set<string>()]));
    for (const rule of this.preset.transitions.allow) {
      for (const from of expandSelection(rule.from, order)) {
        for (const to of expandSelection(rule.to, order, from)) {
          if (to !== from) allowed.get(from)?.add(to);
        }
      }
    }
    const denied: BoundDenyRule[] = [];
    (this.preset.transitions.deny ?? []).forEach((rule, index) => {
      for (const from of expandSelection(rule.from, order)) {
        const to = expandSelection(rule.to, order, from).filter((key) => key !== from);
        if (to.length === 0) continue;
        denied.push({ rule: index, from, to, explain: rule.explain ?? null });
        for (const key of to) allowed.get(from)?.delete(key);
      }
    });
    const keys = order.map((s) => s.key);
    return {
      allowed: Object.fromEntries(
        [...allowed.entries()].map(([from, to]) => [from, keys.filter((key) => to.has(key))]),
      ),
      denied,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Fields
  // -------------------------------------------------------------------------------------------

  /** Binds every field the bound stages need; reports each missing one at its first use. */
  private bindFields(stages: Map<string, FunnelStage>, crmFields: readonly CrmField[]): Map<string, BoundField> {
    const uses = new Map<string, Array<Array<string | number>>>();
    for (const key of stages.keys()) {
      const def = this.stageDef(key);
      (def.requiredFields ?? []).forEach((field, i) => push(uses, field, ['stages', key, 'requiredFields', i]));
      if (def.reasonField !== undefined) push(uses, def.reasonField, ['stages', key, 'reasonField']);
      if (def.nextStep?.kind === 'meeting') push(uses, def.nextStep.dateField, ['stages', key, 'nextStep', 'dateField']);
    }

    const known = (): string => capList(crmFields.map((f) => `«${f.title}» (${f.code})`));
    const bound = new Map<string, BoundField>();
    for (const [key, paths] of uses) {
      const def = this.preset.fields[key];
      const firstUse = paths[0];
      if (!def || !firstUse) continue; // unreachable: validatePreset checked the references
      const firstStage = firstUse.slice(0, 2).join('.');
      const others = unique(paths.slice(1).map((p) => p.slice(0, 2).join('.'))).filter((stage) => stage !== firstStage);
      const alsoUsed = others.length ? ` (also needed by ${others.join(', ')})` : '';
      const override = this.overrides.fields?.[key];

      if (override !== undefined) {
        const field = crmFields.find((f) => f.code === override);
        if (!field) {
          this.errors.push(
            regulationError('field_not_found', this.overridesFile, ['fields', key], `field code «${override}» does not exist in the CRM (known fields: ${known()})`),
          );
        } else bound.set(key, { key, code: field.code, title: field.title });
        continue;
      }

      let found: CrmField | undefined;
      let ambiguous = false;
      for (const name of def.names) {
        const hits = crmFields.filter((f) => sameName(f.title, name));
        if (hits.length > 1) {
          this.errors.push(
            regulationError(
              'field_ambiguous',
              this.presetFile,
              firstUse,
              `field «${name}» matches ${hits.length} CRM fields: ${hits.map((f) => `«${f.title}» (${f.code})`).join(', ')}; choose one with overrides.fields.${key}`,
            ),
          );
          ambiguous = true;
          break;
        }
        if (hits[0]) {
          found = hits[0];
          break;
        }
      }
      if (ambiguous) continue;
      found ??= crmFields.find((f) => (def.codes ?? []).includes(f.code));
      if (!found) {
        this.errors.push(
          regulationError(
            'field_not_found',
            this.presetFile,
            firstUse,
            `field «${def.names[0] ?? key}» does not exist in the CRM${alsoUsed} (known fields: ${known()}); create it or map it with overrides.fields.${key}`,
          ),
        );
        continue;
      }
      bound.set(key, { key, code: found.code, title: found.title });
    }

    // An override is checked even when no bound stage needs its field: it is a mistake either way.
    for (const [key, code] of Object.entries(this.overrides.fields ?? {})) {
      if (uses.has(key) || !this.preset.fields[key] || crmFields.some((f) => f.code === code)) continue;
      this.errors.push(
        regulationError('field_not_found', this.overridesFile, ['fields', key], `field code «${code}» does not exist in the CRM (known fields: ${known()})`),
      );
    }
    return bound;
  }

  // -------------------------------------------------------------------------------------------
  // Timing (stage time limits, next steps)
  // -------------------------------------------------------------------------------------------

  /** The preset's limits with the installation's changes (`overrides.timeLimits`), checked where they were written. */
  private bindTimeLimits(stages: Map<string, FunnelStage>): Map<string, BoundTimeLimit> {
    const bound = new Map<string, BoundTimeLimit>();
    const changes = this.overrides.timeLimits ?? {};
    for (const key of Object.keys(changes)) {
      if (!(key in this.preset.stages)) {
        this.errors.push(regulationError('unknown_reference', this.overridesFile, ['timeLimits', key], `the preset has no stage «${key}» (stages: ${Object.keys(this.preset.stages).join(', ')})`));
      }
    }
    for (const key of stages.keys()) {
      const base = this.stageDef(key).timeLimit;
      const change = changes[key];
      if (change === null || (!base && change === undefined)) continue;
      if (change === undefined) {
        bound.set(key, bindTimeLimit(base!));
        continue;
      }
      const merged = mergeTimeLimit(base, change);
      if (!merged) {
        this.errors.push(regulationError('invalid_shape', this.overridesFile, ['timeLimits', key, 'maxTime'], `stage «${key}» has no time limit in the preset: give its maxTime (e.g. "1d")`));
        continue;
      }
      const problems = timeLimitProblems(merged);
      for (const p of problems) this.errors.push(regulationError('invalid_rule', this.overridesFile, ['timeLimits', key, ...p.path], p.message));
      if (!problems.length) bound.set(key, bindTimeLimit(merged));
    }
    return bound;
  }

  private bindNextStep(step: PresetNextStep | undefined, field: (key: string) => BoundField): BoundNextStep | null {
    if (!step) return null;
    if (step.kind === 'feedback') return { kind: 'feedback', dueMs: step.due };
    const date = field(step.dateField);
    return { kind: 'meeting', dateFieldCode: date.code, dateFieldTitle: date.title };
  }

  private settings(): RobotSettings {
    const base = this.preset.settings;
    const patch = this.overrides.settings ?? {};
    return RobotSettingsSchema.parse({
      locale: patch.locale ?? base.locale,
      violationAlertThreshold: patch.violationAlertThreshold ?? base.violationAlertThreshold,
      headOfSalesUserIds: patch.headOfSalesUserIds ?? base.headOfSalesUserIds,
      exempt: {
        userIds: patch.exempt?.userIds ?? base.exempt.userIds,
        roles: patch.exempt?.roles ?? base.exempt.roles,
      },
    });
  }
}

function isFunnelList(input: CrmFunnel | readonly CrmFunnel[]): input is readonly CrmFunnel[] {
  return Array.isArray(input);
}

/** Bitrix24 prefixes stage ids of non-default funnels with `C<categoryId>:`. */
function withoutCategoryPrefix(id: string): string {
  return id.replace(/^C\d+:/, '');
}

function matchStageById(ids: readonly string[], stages: readonly FunnelStage[]): FunnelStage | undefined {
  for (const id of ids) {
    const stage = stages.find((s) => s.id === id || withoutCategoryPrefix(s.id) === id);
    if (stage) return stage;
  }
  return undefined;
}

function listStages(stages: readonly FunnelStage[]): string {
  return capList(stages.map((s) => `«${s.name}» (${s.id})`));
}

function capList(items: readonly string[]): string {
  if (items.length === 0) return 'none';
  if (items.length <= MAX_LISTED) return items.join(', ');
  return `${items.slice(0, MAX_LISTED).join(', ')} … and ${items.length - MAX_LISTED} more`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
