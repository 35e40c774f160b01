/** Which funnel of the portal a preset binds to: by override id, by the preset's names, or the only one. */
import type { CrmFunnel } from '../crm/crm-port';
import { regulationError } from './errors';
import { sameName } from './normalize-name';
import type { BindContext } from './bind-context';

export function selectFunnel(ctx: BindContext, input: CrmFunnel | readonly CrmFunnel[]): CrmFunnel | null {
  const wantedId = ctx.overrides.funnelId;
  const entity = ctx.preset.entity;
  let funnel: CrmFunnel | null = null;

  if (isFunnelList(input)) {
    const describe = (list: readonly CrmFunnel[]): string =>
      list.length === 0 ? 'none' : list.map((f) => `«${f.name}» (${f.entity} ${f.id})`).join(', ');
    if (wantedId !== undefined) {
      funnel = input.find((f) => f.id === wantedId) ?? null;
      if (!funnel) {
        ctx.errors.push(
          regulationError('funnel_not_found', ctx.overridesFile, 'funnelId', `the portal has no funnel «${wantedId}» (funnels: ${describe(input)})`),
        );
        return null;
      }
    } else {
      const ofEntity = input.filter((f) => f.entity === entity);
      const names = ctx.preset.funnel?.names;
      if (names) {
        for (const name of names) {
          const hits = ofEntity.filter((f) => sameName(f.name, name));
          if (hits.length > 1) {
            ctx.errors.push(
              regulationError(
                'funnel_ambiguous',
                ctx.presetFile,
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
          ctx.errors.push(
            regulationError(
              'funnel_not_found',
              ctx.presetFile,
              'funnel.names',
              `no ${entity} funnel is named ${names.map((n) => `«${n}»`).join(' or ')} (${entity} funnels: ${describe(ofEntity)}); choose one with overrides.funnelId`,
            ),
          );
          return null;
        }
      } else if (ofEntity.length === 1 && ofEntity[0]) {
        funnel = ofEntity[0];
      } else {
        ctx.errors.push(
          regulationError(
            ofEntity.length === 0 ? 'funnel_not_found' : 'funnel_ambiguous',
            ctx.presetFile,
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
      ctx.errors.push(
        regulationError(
          'funnel_not_found',
          ctx.overridesFile,
          'funnelId',
          `funnel «${wantedId}» was asked for, but the funnel given is «${funnel.name}» (${funnel.id})`,
        ),
      );
      return null;
    }
  }

  if (funnel.entity !== entity) {
    ctx.errors.push(
      regulationError(
        'entity_mismatch',
        ctx.presetFile,
        'entity',
        `the preset is for ${entity} funnels, but «${funnel.name}» (${funnel.id}) is a ${funnel.entity} funnel`,
      ),
    );
    return null;
  }
  return funnel;
}

function isFunnelList(input: CrmFunnel | readonly CrmFunnel[]): input is readonly CrmFunnel[] {
  return Array.isArray(input);
}
