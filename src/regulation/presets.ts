/**
 * The presets shipped in `config/presets/*.json`, read and validated. A broken file is reported
 * with the exact place (`presets/<name>.json › stages.meeting_held.role: …`, or the line and
 * column of a JSON syntax error).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { RegulationValidationError, regulationError } from './errors';
import { pickText } from './messages';
import type { Locale, Preset } from './schema';
import { presetFileLabel, validatePreset, type PresetResult } from './validate-preset';

export interface PresetLoadOptions {
  /** Directory of the preset files; default `config/presets` of this project. */
  dir?: string;
}

/** `config/presets`, found from this file both in `src/` (tsx, jest) and in `dist/src/` (tsc build). */
export function presetsDir(): string {
  const candidates = [
    path.resolve(__dirname, '../../config/presets'),
    path.resolve(__dirname, '../../../config/presets'),
  ];
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0] ?? 'config/presets';
}

/** Reads and validates one preset: a result, never a throw. */
export function readPreset(name: string, options: PresetLoadOptions = {}): PresetResult {
  const file = presetFileLabel(name);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    return { ok: false, errors: [regulationError('file_unreadable', file, '', `«${name}» is not a preset name (kebab-case: a–z, 0–9, -)`)] };
  }
  const fullPath = path.join(options.dir ?? presetsDir(), `${name}.json`);
  let text: string;
  try {
    text = readFileSync(fullPath, 'utf8');
  } catch (error) {
    const known = safeList(options.dir ?? presetsDir());
    return {
      ok: false,
      errors: [
        regulationError('file_unreadable', file, '', `cannot read ${fullPath}: ${(error as Error).message} (presets: ${known.join(', ') || 'none'})`),
      ],
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [regulationError('file_unreadable', file, '', `not valid JSON: ${describeJsonError(error as Error, text)}`)] };
  }
  const result = validatePreset(data, file);
  if (result.ok && result.preset.key !== name) {
    return {
      ok: false,
      errors: [regulationError('key_mismatch', file, 'key', `the key «${result.preset.key}» differs from the file name «${name}»`)],
    };
  }
  return result;
}

/**
 * Loads one shipped preset by name (the file name without `.json`).
 * @throws RegulationValidationError with every error when the file is missing or invalid.
 */
export function loadPreset(name: string, options: PresetLoadOptions = {}): Preset {
  const result = readPreset(name, options);
  if (!result.ok) throw new RegulationValidationError(result.errors);
  return result.preset;
}

export interface PresetSummary {
  name: string;
  title: string;
  crm: Preset['crm'];
  entity: Preset['entity'];
  version: number;
  source: string;
}

/**
 * Every preset in the directory, validated, sorted by name; titles in `locale`.
 * @throws RegulationValidationError listing the errors of every broken file.
 */
export function listPresets(options: PresetLoadOptions & { locale?: Locale } = {}): PresetSummary[] {
  const names = safeList(options.dir ?? presetsDir());
  const results = names.map((name) => ({ name, result: readPreset(name, options) }));
  const errors = results.flatMap(({ result }) => (result.ok ? [] : result.errors));
  if (errors.length > 0) throw new RegulationValidationError(errors);
  return results.flatMap(({ name, result }) =>
    result.ok
      ? [
          {
            name,
            title: pickText(result.preset.title, options.locale ?? 'ru'),
            crm: result.preset.crm,
            entity: result.preset.entity,
            version: result.preset.version,
            source: result.preset.source,
          },
        ]
      : [],
  );
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

/** Adds "line L, column C" to a JSON.parse error that only gives a position. */
function describeJsonError(error: Error, text: string): string {
  const match = /position (\d+)/.exec(error.message);
  if (!match || /line \d+/.test(error.message)) return error.message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${error.message} (line ${line}, column ${column})`;
}
