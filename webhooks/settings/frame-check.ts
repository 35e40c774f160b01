import { installationKey } from '../../src/infra/keys';
import type { Bitrix24Installation } from '../../src/installations/installation';
import type { Services } from '../../src/services';
import { globalSettingsOf } from '../../src/settings/installation-settings';

/**
 * What checking a Bitrix24 frame (the app page, a card tab) needs besides the frame itself: the
 * app's code that `app.info` must name, and a wait for the portal's shared REST bucket — the check
 * spends one request of the portal's budget like every other call.
 */
export function bitrix24FrameCheck(services: Services) {
  return {
    store: services.store,
    appCodes: [services.config.BITRIX24_APP_CODE ?? services.config.BITRIX24_CLIENT_ID],
    beforeCall: (installation: Bitrix24Installation) => {
      const plan = globalSettingsOf(installation.settings).rateLimit;
      const limits = { burst: plan?.burst ?? services.config.BITRIX24_RATE_BURST, perSecond: plan?.perSecond ?? services.config.BITRIX24_RATE_PER_SECOND };
      return services.limiter.acquire(installationKey(services.prefix, installation.id, 'rate'), limits, 1, 'bitrix24');
    },
  };
}
