import { robots } from '../../src/robots';
import { changeSetting } from '../../src/settings/installation-settings';
import type { Services } from '../../src/services';
import { ONEC_API_KEY, ONEC_CALLBACK_SECRET, PROFITBASE_API_KEY, type LocalStack } from './local-stack';

/** Sets a setting the way `npm run settings -- set` does (validated by the robots' schemas). */
export async function setSetting(services: Services, installationId: string, path: string, value: unknown): Promise<void> {
  let refused: string | null = null;
  await services.store.updateSettings(installationId, (current) => {
    const change = changeSetting(current.settings, path, value, robots);
    if (!change.ok) {
      refused = change.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      return null;
    }
    return change.settings;
  });
  if (refused) throw new Error(`setting ${path} refused: ${refused}`);
}

export function profitbaseConnection(stack: LocalStack) {
  return { system: 'profitbase', baseUrl: stack.pb.url, apiKey: PROFITBASE_API_KEY, houseId: stack.pb.houses()[0]!.id };
}

export function onecConnection(stack: LocalStack, options: { callbacks?: boolean } = {}) {
  return { system: 'http', baseUrl: stack.onec.url, apiKey: ONEC_API_KEY, project: 'ЖК Северный', ...(options.callbacks ? { callbackSecret: ONEC_CALLBACK_SECRET } : {}) };
}
