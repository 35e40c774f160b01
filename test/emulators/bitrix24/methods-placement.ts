/**
 * Widget placements (restdocs api-reference/widgets/placement-bind.md, placement-unbind.md, placement-get.md,
 * crm/detail-tab.md): `placement.bind` (administrator, scope `placement`; PLACEMENT and HANDLER required,
 * TITLE, DESCRIPTION, GROUP_NAME, LANG_ALL {lang: {TITLE, DESCRIPTION, GROUP_NAME}}, OPTIONS), `placement.unbind`
 * (PLACEMENT required; without HANDLER every handler of that placement; answers {count}), `placement.get`
 * (the application's handlers: placement, userId, handler, options, title, description, langAll).
 * Every call the emulator serves carries an application's OAuth token (the application context these
 * methods require); the portal removes an application's placements when it is uninstalled.
 */
import { type MethodHandler, type Params, type PortalInternals, param } from './rest-context';
import { RestError, isPlainObject } from './util';

export interface PlacementRecord {
  placement: string;
  userId: number;
  handler: string;
  options: Params | [];
  title: string;
  description: string;
  groupName: string;
  langAll: Record<string, { TITLE: string; DESCRIPTION: string; GROUP_NAME: string }>;
}

/** Placement codes the emulated portal knows (restdocs widgets/placements.md, the CRM and common ones). */
const KNOWN = [
  /^DEFAULT$/, /^LEFT_MENU$/, /^REST_APP_URI$/, /^PAGE_BACKGROUND_WORKER$/,
  /^CRM_(LEAD|DEAL|CONTACT|COMPANY|QUOTE|SMART_INVOICE|DYNAMIC_\d+)_(DETAIL_TAB|DETAIL_TOOLBAR|DETAIL_ACTIVITY|LIST_MENU|LIST_TOOLBAR|ACTIVITY_TIMELINE_MENU)$/,
  /^CRM_ANALYTICS_(MENU|TOOLBAR)$/, /^CRM_FUNNELS_TOOLBAR$/, /^CRM_ROBOT_DESIGNER_TOOLBAR$/,
];

export class PlacementRegistry {
  readonly handlers: PlacementRecord[] = [];

  /** "When an application is deleted … handlers registered by the application widgets" are removed. */
  clear(): void {
    this.handlers.length = 0;
  }
}

const argumentError = (name: string) => Object.assign(new RestError(400, 'ERROR_ARGUMENT', `Argument '${name}' is null or empty`), { argument: name });

function requireAdmin(internals: PortalInternals, userId: number): void {
  if (!internals.scope.split(',').includes('placement')) {
    throw new RestError(401, 'insufficient_scope', 'The request requires higher privileges than provided by the access token');
  }
  if (!internals.users.some((u) => u.id === userId && u.isAdmin)) throw new RestError(403, 'ACCESS_DENIED', 'Access denied!');
}

function placementCode(params: Params): string {
  const raw = param(params, 'PLACEMENT');
  if (raw === undefined || raw === null || raw === '') throw argumentError('PLACEMENT');
  if (typeof raw !== 'string') throw new RestError(400, 'ERROR_ARGUMENT', "The value of an argument 'PLACEMENT' must be of type string");
  return raw.toUpperCase();
}

function handlerUrl(value: unknown, appHost: string | null): string {
  const text = String(value ?? '');
  if (!URL.canParse(text)) throw new RestError(400, 'ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RestError(400, 'ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
  // The handler must be on the application's domain, as for every other handler the application registers.
  if (appHost && url.host !== appHost) throw new RestError(400, 'ERROR_WRONG_HANDLER_URL', `Wrong handler URL (must be on ${appHost})`);
  return text;
}

function langAll(value: unknown): PlacementRecord['langAll'] {
  if (!isPlainObject(value)) return {};
  const out: PlacementRecord['langAll'] = {};
  for (const [lang, texts] of Object.entries(value)) {
    if (!/^[a-z]{2}$/.test(lang) || !isPlainObject(texts)) continue;
    out[lang] = { TITLE: String(param(texts, 'TITLE') ?? ''), DESCRIPTION: String(param(texts, 'DESCRIPTION') ?? ''), GROUP_NAME: String(param(texts, 'GROUP_NAME') ?? '') };
  }
  return out;
}

export function placementMethods(internals: PortalInternals, registry: PlacementRegistry, appHost: () => string | null): Record<string, MethodHandler> {
  return {
    'placement.bind': (params, ctx) => {
      requireAdmin(internals, ctx.userId);
      const placement = placementCode(params);
      const rawHandler = param(params, 'HANDLER');
      if (rawHandler === undefined || rawHandler === null || rawHandler === '') throw argumentError('HANDLER');
      if (!KNOWN.some((re) => re.test(placement))) throw new RestError(400, 'ERROR_PLACEMENT_NOT_FOUND', 'Placement not found');
      const handler = handlerUrl(rawHandler, appHost());
      if (param(params, 'USER_ID') !== undefined && placement !== 'PAGE_BACKGROUND_WORKER') throw new RestError(400, 'ERROR_PLACEMENT_USER_MODE', 'User mode is not available');
      if (registry.handlers.some((h) => h.placement === placement && h.handler === handler)) {
        throw new RestError(400, 'ERROR_PLACEMENT_HANDLER_ALREADY_BINDED', 'Handler already binded');
      }
      const options = param(params, 'OPTIONS');
      registry.handlers.push({
        placement,
        userId: 0,
        handler,
        options: isPlainObject(options) ? options : [],
        title: String(param(params, 'TITLE') ?? ''),
        description: String(param(params, 'DESCRIPTION') ?? ''),
        groupName: String(param(params, 'GROUP_NAME') ?? ''),
        langAll: langAll(param(params, 'LANG_ALL')),
      });
      return { result: true };
    },

    'placement.unbind': (params, ctx) => {
      requireAdmin(internals, ctx.userId);
      const placement = placementCode(params);
      const handler = String(param(params, 'HANDLER') ?? '');
      const matching = registry.handlers.filter((h) => h.placement === placement && (!handler || h.handler === handler));
      // "count: +1 for each handler record found before the removal, +1 after each successful removal".
      let count = matching.length;
      for (const found of matching) {
        registry.handlers.splice(registry.handlers.indexOf(found), 1);
        count++;
      }
      return { result: { count } };
    },

    'placement.get': (_params, ctx) => {
      requireAdmin(internals, ctx.userId);
      return {
        result: registry.handlers.map((h) => ({ placement: h.placement, userId: h.userId, handler: h.handler, options: h.options, title: h.title, description: h.description, langAll: h.langAll })),
      };
    },
  };
}
