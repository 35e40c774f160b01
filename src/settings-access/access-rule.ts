import type { Installation } from '../installations/installation';
import { globalSettingsOf } from '../settings/installation-settings';
import type { SessionClaims } from './session';

/**
 * Who may open the settings: the CRM's administrators (as the CRM itself says when asked with the
 * user's own token) and the heads of sales the installation lists in `headsOfSales`. Everyone else
 * sees the read-only overview.
 */
export function settingsRoleOf(installation: Installation, user: { id: string; isAdmin: boolean }): SessionClaims['role'] | null {
  if (user.isAdmin) return 'admin';
  if (globalSettingsOf(installation.settings).headsOfSales.includes(user.id)) return 'head_of_sales';
  return null;
}
