/**
 * Which inventory hosts the settings page's "test connection" may make the app call. The URL comes
 * from an authenticated administrator, yet in production it is held to the install targets' rule
 * (`install-targets.ts`): https only, and every address the host resolves to public — unless the host
 * is listed in INVENTORY_PRIVATE_HOSTS (an on-premise 1C inside the customer's network, reached over
 * a VPN). Outside production anything goes, so the emulators on 127.0.0.1 work.
 */
import { assertCallableUrl, UntrustedInstallTargetError, type HostLookup } from '../installations/install-targets';

export interface InventoryTargetPolicy {
  production: boolean;
  lookup: HostLookup;
  /** Host names allowed to resolve to private addresses (still https in production). */
  privateHosts: readonly string[];
}

/** Why the app will not call this inventory URL, or null when it may. */
export async function inventoryTargetRefusal(baseUrl: string, policy: InventoryTargetPolicy): Promise<string | null> {
  try {
    const url = await assertCallableUrl(baseUrl, { production: false, lookup: policy.lookup }, 'the inventory base URL');
    if (!policy.production) return null;
    if (policy.privateHosts.map((h) => h.toLowerCase()).includes(url.hostname.toLowerCase())) {
      return url.protocol === 'https:' ? null : 'the inventory base URL must be https in production';
    }
    await assertCallableUrl(baseUrl, { production: true, lookup: policy.lookup }, 'the inventory base URL');
    return null;
  } catch (err) {
    if (err instanceof UntrustedInstallTargetError) return `${err.message} (allow a private host with INVENTORY_PRIVATE_HOSTS)`;
    throw err;
  }
}
