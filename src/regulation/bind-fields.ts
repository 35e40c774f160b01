/** Preset fields → the CRM's real field codes, for every field a bound stage needs. */
import type { CrmField, FunnelStage } from '../crm/crm-port';
import { regulationError } from './errors';
import { sameName } from './normalize-name';
import type { BoundField } from './schema';
import { capList, push, stageDef, unique, type BindContext } from './bind-context';

/** Binds every field the bound stages need; reports each missing one at its first use. */
export function bindFields(ctx: BindContext, stages: Map<string, FunnelStage>, crmFields: readonly CrmField[]): Map<string, BoundField> {
  const uses = new Map<string, Array<Array<string | number>>>();
  for (const key of stages.keys()) {
    const def = stageDef(ctx, key);
    (def.requiredFields ?? []).forEach((field, i) => push(uses, field, ['stages', key, 'requiredFields', i]));
    if (def.reasonField !== undefined) push(uses, def.reasonField, ['stages', key, 'reasonField']);
    if (def.nextStep?.kind === 'meeting') push(uses, def.nextStep.dateField, ['stages', key, 'nextStep', 'dateField']);
  }

  const known = (): string => capList(crmFields.map((f) => `«${f.title}» (${f.code})`));
  const bound = new Map<string, BoundField>();
  for (const [key, paths] of uses) {
    const def = ctx.preset.fields[key];
    const firstUse = paths[0];
    if (!def || !firstUse) continue; // unreachable: validatePreset checked the references
    const firstStage = firstUse.slice(0, 2).join('.');
    const others = unique(paths.slice(1).map((p) => p.slice(0, 2).join('.'))).filter((stage) => stage !== firstStage);
    const alsoUsed = others.length ? ` (also needed by ${others.join(', ')})` : '';
    const override = ctx.overrides.fields?.[key];

    if (override !== undefined) {
      const field = crmFields.find((f) => f.code === override);
      if (!field) {
        ctx.errors.push(
          regulationError('field_not_found', ctx.overridesFile, ['fields', key], `field code «${override}» does not exist in the CRM (known fields: ${known()})`),
        );
      } else bound.set(key, { key, code: field.code, title: field.title });
      continue;
    }

    let found: CrmField | undefined;
    let ambiguous = false;
    for (const name of def.names) {
      const hits = crmFields.filter((f) => sameName(f.title, name));
      if (hits.length > 1) {
        ctx.errors.push(
          regulationError(
            'field_ambiguous',
            ctx.presetFile,
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
      ctx.errors.push(
        regulationError(
          'field_not_found',
          ctx.presetFile,
          firstUse,
          `field «${def.names[0] ?? key}» does not exist in the CRM${alsoUsed} (known fields: ${known()}); create it or map it with overrides.fields.${key}`,
        ),
      );
      continue;
    }
    bound.set(key, { key, code: found.code, title: found.title });
  }

  // An override is checked even when no bound stage needs its field: it is a mistake either way.
  for (const [key, code] of Object.entries(ctx.overrides.fields ?? {})) {
    if (uses.has(key) || !ctx.preset.fields[key] || crmFields.some((f) => f.code === code)) continue;
    ctx.errors.push(
      regulationError('field_not_found', ctx.overridesFile, ['fields', key], `field code «${code}» does not exist in the CRM (known fields: ${known()})`),
    );
  }
  return bound;
}
