/**
 * The shipped presets load and validate; a broken preset file is reported precisely.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  RegulationValidationError,
  formatRegulationErrors,
  listPresets,
  loadPreset,
  readPreset,
  type PresetResult,
} from '../../src/regulation';

function errorsOf(result: PresetResult): string {
  if (result.ok) throw new Error('expected the preset to be refused');
  return formatRegulationErrors(result.errors);
}

function presetDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'presets-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, `${name}.json`), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const minimal = {
  key: 'tiny',
  version: 1,
  title: 'Мини',
  entity: 'deal',
  source: 'test',
  fields: { reason: { names: ['Причина'] } },
  stages: {
    work: { role: 'in_work', names: ['В работе'] },
    lost: { role: 'lost', names: ['Проиграна'], reasonField: 'reason' },
  },
  transitions: { allow: [{ from: 'work', to: 'lost' }] },
};

describe('shipped presets', () => {
  test('every preset in config/presets loads, validates and cites its seed', () => {
    const presets = listPresets();
    expect(presets.map((p) => [p.name, p.crm, p.entity])).toEqual([
      ['amocrm-primary-market', 'amocrm', 'deal'],
      ['amocrm-sales-004', 'amocrm', 'deal'],
      ['bitrix24-deals-004', 'bitrix24', 'deal'],
      ['bitrix24-leads-004', 'bitrix24', 'lead'],
    ]);
    expect(presets.find((p) => p.name === 'amocrm-primary-market')?.source).toMatch(/^seed 002/);
    expect(presets.find((p) => p.name === 'bitrix24-leads-004')?.source).toMatch(/^seed 004/);
    const deals = presets.find((p) => p.name === 'bitrix24-deals-004')?.source ?? '';
    expect(deals).toMatch(/^seed 004/);
    expect(deals).toContain('seed 000');
    expect(listPresets({ locale: 'en' }).map((p) => p.title)).toContain('amoCRM — “Primary market” pipeline');
  });

  test('«Встреча состоялась» is a must-not-skip stage of the amoCRM preset', () => {
    const preset = loadPreset('amocrm-primary-market');
    expect(preset.mustNotSkip.map((r) => r.stage)).toEqual(['meeting_held', 'meeting_held']);
    expect(preset.settings.violationAlertThreshold).toBe(3);
  });
});

describe('a broken preset file gives a precise error', () => {
  test('a JSON syntax error names the line and column', () => {
    const dir = presetDir({ tiny: '{\n  "key": "tiny",\n  "version": 1,,\n}' });
    expect(errorsOf(readPreset('tiny', { dir }))).toMatch(/^presets\/tiny\.json: not valid JSON: .*line 3, column \d+/);
  });

  test('a typo in a property is reported at its path', () => {
    const broken = structuredClone(minimal) as Record<string, any>;
    broken.stages.work.requiredFeilds = ['reason'];
    const dir = presetDir({ tiny: broken });
    expect(errorsOf(readPreset('tiny', { dir }))).toBe('presets/tiny.json › stages.work.requiredFeilds: unknown property «requiredFeilds» (a typo?)');
  });

  test('wrong types, unknown roles and missing properties are reported at their paths', () => {
    const broken = structuredClone(minimal) as Record<string, any>;
    broken.version = '1';
    broken.stages.work.role = 'in-work';
    delete broken.source;
    const dir = presetDir({ tiny: broken });
    const text = errorsOf(readPreset('tiny', { dir }));
    expect(text.split('\n').map((line) => line.split(':')[0])).toEqual([
      'presets/tiny.json › version',
      'presets/tiny.json › source',
      'presets/tiny.json › stages.work.role',
    ]);
    expect(text).toContain('presets/tiny.json › source: required property is missing');
  });

  test('references to stages and fields the preset does not define are reported', () => {
    const broken = structuredClone(minimal) as Record<string, any>;
    broken.stages.lost.reasonField = 'why';
    broken.transitions.allow.push({ from: ['work', 'won'], to: '@failure' });
    broken.mustNotSkip = [{ stage: 'work', beforeEntering: ['lost', 'meeting'] }];
    const dir = presetDir({ tiny: broken });
    expect(errorsOf(readPreset('tiny', { dir })).split('\n')).toEqual([
      'presets/tiny.json › stages.lost.reasonField: field «why» is not defined in «fields» (defined: reason)',
      'presets/tiny.json › transitions.allow[1].from[1]: stage «won» is not defined in «stages» (defined: work, lost; groups: *, @process, @success, @failure, @forward, @backward)',
      'presets/tiny.json › mustNotSkip[0].beforeEntering[1]: stage «meeting» is not defined in «stages» (defined: work, lost; groups: *, @process, @success, @failure, @forward, @backward)',
    ]);
  });

  test('a preset whose key differs from its file name, or a missing preset, is refused', () => {
    const dir = presetDir({ other: minimal });
    expect(errorsOf(readPreset('other', { dir }))).toBe('presets/other.json › key: the key «tiny» differs from the file name «other»');
    expect(errorsOf(readPreset('nope', { dir }))).toMatch(/^presets\/nope\.json: cannot read .*\(presets: other\)$/);
    expect(() => loadPreset('nope', { dir })).toThrow(RegulationValidationError);
    expect(() => listPresets({ dir })).toThrow(/presets\/other\.json › key/);
  });
});
