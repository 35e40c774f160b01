/** Preset stages → the funnel's real stages: override, then names (with fitting semantics), then fixed ids. */
import type { CrmFunnel, FunnelStage } from '../crm/crm-port';
import { regulationError } from './errors';
import { sameName } from './normalize-name';
import { STAGE_ROLES } from './schema';
import { listStages, stageDef, type BindContext } from './bind-context';

/** Preset key → funnel stage, in preset order; absent stages left out. */
export function bindStages(ctx: BindContext, funnel: CrmFunnel): Map<string, FunnelStage> {
  const bound = new Map<string, FunnelStage>();
  const owner = new Map<string, string>();
  const funnelStages = [...funnel.stages].sort((a, b) => a.sort - b.sort);
  // Stage id → the key an override gives it to: such a stage is not matched by name for another key.
  const claimedBy = new Map<string, string>();
  for (const [key, id] of Object.entries(ctx.overrides.stages ?? {})) {
    if (id !== null && key in ctx.preset.stages) claimedBy.set(id, key);
  }

  for (const [key, def] of Object.entries(ctx.preset.stages)) {
    const expected = STAGE_ROLES[def.role].semantics;
    const override = ctx.overrides.stages?.[key];
    let stage: FunnelStage | undefined;
    let file = ctx.presetFile;

    if (override === null) continue;
    if (override !== undefined) {
      file = ctx.overridesFile;
      stage = funnelStages.find((s) => s.id === override);
      if (!stage) {
        ctx.errors.push(
          regulationError('stage_not_found', file, ['stages', key], `stage id «${override}» is not in funnel «${funnel.name}» (stages: ${listStages(funnelStages)})`),
        );
        continue;
      }
    } else {
      const candidates = funnelStages.filter((s) => (claimedBy.get(s.id) ?? key) === key);
      const byName = matchStageByName(ctx, key, funnel, candidates);
      if (byName === 'error') continue;
      stage = byName.stage ?? matchStageById(def.ids ?? [], candidates);
      if (!stage) {
        if (!def.optional) reportStageNotFound(ctx, key, funnel, funnelStages, byName.wrongSemantics, claimedBy);
        continue;
      }
    }

    if (stage.semantics !== expected) {
      ctx.errors.push(
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
      ctx.errors.push(
        regulationError('stage_bound_twice', file, ['stages', key], `stage «${stage.name}» (${stage.id}) is already bound to stages.${first}`),
      );
      continue;
    }
    owner.set(stage.id, key);
    bound.set(key, stage);
  }

  for (const [key, def] of Object.entries(ctx.preset.stages)) {
    if (!bound.has(key) && def.optional && ctx.overrides.stages?.[key] === undefined) {
      ctx.warnings.push(`optional stage stages.${key} («${def.names[0] ?? key}») is not in funnel «${funnel.name}»; rules about it are dropped`);
    }
  }
  return bound;
}

/** «stage X is not in funnel F (stages: …)», plus the near misses: a wrong semantics, a stage an override took. */
function reportStageNotFound(
  ctx: BindContext,
  key: string,
  funnel: CrmFunnel,
  funnelStages: readonly FunnelStage[],
  wrongSemantics: readonly FunnelStage[],
  claimedBy: ReadonlyMap<string, string>,
): void {
  const def = stageDef(ctx, key);
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
  ctx.errors.push(
    regulationError(
      'stage_not_found',
      ctx.presetFile,
      ['stages', key],
      `stage «${def.names[0] ?? key}»${tried} is not in funnel «${funnel.name}» (stages: ${listStages(funnelStages)})${nearMisses.join('')}; map it with overrides.stages.${key}`,
    ),
  );
}

function matchStageByName(
  ctx: BindContext,
  key: string,
  funnel: CrmFunnel,
  funnelStages: readonly FunnelStage[],
): { stage: FunnelStage | undefined; wrongSemantics: FunnelStage[] } | 'error' {
  const def = stageDef(ctx, key);
  const expected = STAGE_ROLES[def.role].semantics;
  const wrongSemantics: FunnelStage[] = [];
  for (const [i, name] of def.names.entries()) {
    const hits = funnelStages.filter((s) => sameName(s.name, name));
    const fit = hits.filter((s) => s.semantics === expected);
    wrongSemantics.push(...hits.filter((s) => s.semantics !== expected));
    if (fit.length > 1) {
      ctx.errors.push(
        regulationError(
          'stage_ambiguous',
          ctx.presetFile,
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
