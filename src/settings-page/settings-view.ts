import { z } from 'zod';
import type { Robot } from '../app';
import type { Installation } from '../installations/installation';
import { changeSettings, effectiveSettings, isPlainObject, maskSecrets, readSetting, robotSettingsOf, SECRET_SETTING_KEYS, settingsSchemaFor, validateSettings, type SettingIssue } from '../settings/installation-settings';
import { localizeIssue, zodMessages, type UiLang } from './issue-messages';

type Robots = ReadonlyArray<Pick<Robot<any>, 'name' | 'settings'>>;

/** One change the page sends: a dotted settings path and its new value (`null` = back to the default). */
export const settingChangeSchema = z.object({
  path: z.string().min(1).max(200),
  value: z.unknown(),
});
export const settingChangesSchema = z.object({ changes: z.array(settingChangeSchema).min(1).max(200) });
export type SettingChangeRequest = z.infer<typeof settingChangeSchema>;

export interface RobotStatus {
  name: string;
  enabled: boolean;
  /** Why an enabled robot does nothing yet, if it cannot run (no regulation bound, no inventory). */
  waitingFor: 'regulation' | 'inventory' | 'valid_settings' | null;
}

/** The page's form is generated from the same zod schemas the robots and the command use. */
const schemaCache = new WeakMap<Robots, unknown>();
export function settingsJsonSchema(robots: Robots): unknown {
  let cached = schemaCache.get(robots);
  if (!cached) {
    // `input`: the page edits what is stored ("15m"), not what the robots get after parsing (ms).
    cached = z.toJSONSchema(settingsSchemaFor(robots), { io: 'input', unrepresentable: 'any' });
    schemaCache.set(robots, cached);
  }
  return cached;
}

/** What is on and off for this installation, and why an enabled robot may still be idle. */
export function robotStatuses(installation: Installation, robots: Robots): RobotStatus[] {
  const merged = effectiveSettings(installation.settings);
  const hasRegulation = Array.isArray((merged.stageGuard as { regulations?: unknown[] } | undefined)?.regulations) && ((merged.stageGuard as { regulations: unknown[] }).regulations.length > 0);
  return robots.map((robot) => {
    const parsed = robotSettingsOf<{ enabled: boolean; inventory?: unknown }>(robot, installation.settings);
    if (!parsed.success) return { name: robot.name, enabled: false, waitingFor: 'valid_settings' };
    const needsRegulation = robot.name !== 'dealRenamer' && robot.name !== 'duplicateCatcher' && robot.name !== 'unitStatusSync';
    const waitingFor = !parsed.data.enabled ? null : robot.name === 'unitStatusSync' && !parsed.data.inventory ? 'inventory' : needsRegulation && !hasRegulation ? 'regulation' : null;
    return { name: robot.name, enabled: parsed.data.enabled, waitingFor };
  });
}

export interface SettingsView {
  installationId: string;
  crm: Installation['crm'];
  /** The effective settings (defaults included), secrets masked. */
  settings: unknown;
  /** Problems of what is stored now (an older invalid value), in the page's language. */
  issues: SettingIssue[];
  robots: RobotStatus[];
}

export function settingsView(installation: Installation, robots: Robots, lang: UiLang): SettingsView {
  return {
    installationId: installation.id,
    crm: installation.crm,
    settings: maskSecrets(effectiveSettings(installation.settings)),
    issues: validateSettings(installation.settings, robots, zodMessages(lang)).map((i) => localizeIssue(i, lang)),
    robots: robotStatuses(installation, robots),
  };
}

export type ChangesOutcome = { ok: true; settings: Record<string, unknown>; changed: string[] } | { ok: false; issues: SettingIssue[] };

/**
 * Applies the page's changes through the one settings path (`changeSettings`), all at once: a form
 * save either lands whole or changes nothing, and each refusal names the field it belongs to.
 * A secret sent back as its mask («••••1234») means "unchanged": the page never had the secret.
 */
export function applyChanges(overrides: Record<string, unknown>, changes: readonly SettingChangeRequest[], robots: Robots, lang: UiLang): ChangesOutcome {
  const applied = changes.filter((change) => !isMaskedSecretEcho(overrides, change));
  const outcome = changeSettings(overrides, applied.map((c) => ({ path: c.path, value: c.value === null ? undefined : c.value })), robots, zodMessages(lang));
  if (!outcome.ok) return { ok: false, issues: outcome.issues.map((i) => localizeIssue(i, lang)) };
  return { ok: true, settings: outcome.settings, changed: applied.map((c) => c.path) };
}

function isMaskedSecretEcho(overrides: Record<string, unknown>, change: SettingChangeRequest): boolean {
  const key = change.path.split('.').at(-1) ?? '';
  if (typeof change.value === 'string' && SECRET_SETTING_KEYS.has(key)) {
    const current = readSetting(overrides, change.path);
    return current.ok && typeof current.value === 'string' && maskSecrets(current.value, key) === change.value;
  }
  // A whole object holding secrets (the inventory connection) echoed back with masks: keep the stored secrets.
  if (isPlainObject(change.value)) {
    const current = readSetting(overrides, change.path);
    return current.ok && JSON.stringify(maskSecrets(current.value)) === JSON.stringify(change.value);
  }
  return false;
}
