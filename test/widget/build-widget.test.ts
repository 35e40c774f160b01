/**
 * The amoCRM widget archive (issue 12, item 6): what `npm run build:widget` writes is what
 * amoCRM's upload takes. The archive is read back with fflate and the logos decoded with pngjs,
 * libraries independent of the build's own zip and PNG writers.
 */
import { mkdtempSync, readFileSync, cpSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { AUTOMATION_ACTIONS, DP_ACTION_CODES } from '../../src/automation/automation-call';
import { AMOCRM_DP_PATH, amocrmDpEventSchema } from '../../webhooks/amocrm/digital-pipeline';
import { AMOCRM_DP_KEY_PATH } from '../../webhooks/settings/amocrm-dp-key';
import { buildWidget, WIDGET_SOURCE, WidgetBuildError } from '../../scripts/widget/build';
import { drawLogo } from '../../scripts/widget/logos';
import { lookupI18n, manifestI18nKeys, widgetManifestSchema } from '../../scripts/widget/manifest-schema';

const PUBLIC_URL = 'https://reglament.example.ru';

function unpack() {
  const build = buildWidget({ publicUrl: PUBLIC_URL });
  const files = unzipSync(new Uint8Array(build.zip));
  const text = (name: string) => Buffer.from(files[name]!).toString('utf8');
  return { build, files, text };
}

describe('npm run build:widget: the archive amoCRM uploads', () => {
  it('holds exactly the manifest at the root, both locales, the script, the styles and the six logos', () => {
    const { files } = unpack();
    expect(Object.keys(files).sort()).toEqual(
      [
        'manifest.json',
        'i18n/ru.json',
        'i18n/en.json',
        'script.js',
        'style.css',
        'images/logo_main.png',
        'images/logo.png',
        'images/logo_small.png',
        'images/logo_min.png',
        'images/logo_medium.png',
        'images/logo_dp.png',
      ].sort(),
    );
  });

  it('has a manifest that passes the schema written from the docs, with the deployment address in the Digital Pipeline block', () => {
    const { text } = unpack();
    const manifest = widgetManifestSchema.parse(JSON.parse(text('manifest.json')));
    expect(manifest.widget).toMatchObject({ interface_version: 2, init_once: true, locale: ['ru', 'en'], installation: true });
    expect(manifest.locations).toEqual(expect.arrayContaining(['settings', 'advanced_settings', 'lcard-1', 'digital_pipeline']));
    expect(manifest.dp).toEqual({
      settings: {
        action: { name: 'dp.settings.action', type: 'text', required: true },
        // The account's key travels in the action's own settings (amoCRM signs nothing it sends to the DP webhook).
        reglament_key: { name: 'dp.settings.reglament_key', type: 'text', required: true },
      },
      action_multiple: false,
      webhook_url: `${PUBLIC_URL}${AMOCRM_DP_PATH}`,
    });
  });

  it('has every text the manifest names in Russian and in English', () => {
    const { text } = unpack();
    const manifest = widgetManifestSchema.parse(JSON.parse(text('manifest.json')));
    const ru = JSON.parse(text('i18n/ru.json'));
    const en = JSON.parse(text('i18n/en.json'));
    for (const key of manifestI18nKeys(manifest)) {
      expect([key, lookupI18n(ru, key)]).toEqual([key, expect.stringMatching(/\S/)]);
      expect([key, lookupI18n(en, key)]).toEqual([key, expect.stringMatching(/\S/)]);
    }
    expect(lookupI18n(ru, 'widget.name')).toMatch(/[А-Яа-я]/);
  });

  it.each([
    ['logo_main.png', 400, 272],
    ['logo.png', 130, 100],
    ['logo_small.png', 108, 108],
    ['logo_min.png', 84, 84],
    ['logo_medium.png', 240, 84],
    ['logo_dp.png', 174, 109],
  ])('images/%s decodes as a %i×%i PNG under 300 KB', (file, width, height) => {
    const { files } = unpack();
    const data = Buffer.from(files[`images/${file}`]!);
    expect(data.length).toBeLessThanOrEqual(300 * 1024);
    const png = PNG.sync.read(data);
    expect([png.width, png.height]).toEqual([width, height]);
    // Not a blank: the brand colour and white are both there, and the corners are transparent.
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4));
    expect(at(0, 0)[3]).toBe(0);
    const colours = new Set<string>();
    for (let i = 0; i < png.data.length; i += 4) colours.add(png.data.subarray(i, i + 4).join(','));
    expect(colours).toEqual(new Set(['0,0,0,0', '38,92,214,255', '255,255,255,255']));
  });

  it('has a script.js that is an AMD module with the callbacks amoCRM calls, pointed at this deployment', () => {
    const { text } = unpack();
    const script = text('script.js');
    expect(script).not.toContain('{{PUBLIC_URL}}');
    expect(script).toContain(`var APP_URL = "${PUBLIC_URL}";`);
    let deps: string[] = [];
    let factory: ((...args: unknown[]) => unknown) | null = null;
    runInNewContext(script, {
      define: (d: string[], f: (...args: unknown[]) => unknown) => {
        deps = d;
        factory = f;
      },
    });
    expect(deps).toEqual(['jquery']);
    const Widget = factory!(() => undefined) as {
      new (): { callbacks: Record<string, unknown> };
      dpActions: Array<{ value: string; ru: string; en: string }>;
      dpKey: { path: string; field: string; actionField: string };
    };
    const widget = new Widget();
    for (const callback of ['render', 'init', 'bind_actions', 'settings', 'onSave', 'destroy', 'advancedSettings', 'dpSettings']) {
      expect([callback, typeof widget.callbacks[callback]]).toEqual([callback, 'function']);
    }
    // The Digital Pipeline offers the app's automation actions, named in both languages.
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    expect(Widget.dpActions.map((a) => a.value)).toEqual(AUTOMATION_ACTIONS.map(snake));
    for (const action of Widget.dpActions) expect(action.ru).toMatch(/[А-Яа-я]/);
    expect(Widget.dpActions.map((a) => a.value).sort()).toEqual(Object.keys(DP_ACTION_CODES).sort());
    // The key is asked from the app's route and written into the manifest's hidden field, the one the DP webhook reads.
    expect(Widget.dpKey).toEqual({ path: AMOCRM_DP_KEY_PATH, field: 'reglament_key', actionField: 'action' });
    const manifest = widgetManifestSchema.parse(JSON.parse(text('manifest.json')));
    expect(Object.keys(manifest.dp!.settings).sort()).toEqual([Widget.dpKey.actionField, Widget.dpKey.field].sort());
    expect(Object.keys(amocrmDpEventSchema.shape.action.shape.settings.shape.widget.shape.settings.shape).sort()).toEqual(Object.keys(manifest.dp!.settings).sort());
  });

  it('is the same bytes for the same sources (reproducible)', () => {
    expect(buildWidget({ publicUrl: PUBLIC_URL }).zip.equals(buildWidget({ publicUrl: PUBLIC_URL }).zip)).toBe(true);
  });

  it('refuses a plain-http public address unless it is local', () => {
    expect(() => buildWidget({ publicUrl: 'http://reglament.example.ru' })).toThrow(WidgetBuildError);
    expect(buildWidget({ publicUrl: 'http://127.0.0.1:3000' }).manifest.dp?.webhook_url).toBe('http://127.0.0.1:3000/amocrm/dp');
  });

  describe('with artwork and mistakes in the sources', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'reglament-widget-'));
      cpSync(WIDGET_SOURCE, dir, { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("uses the design team's logo when it is there, and refuses one of the wrong size", () => {
      const artwork = drawLogo(400, 272);
      writeFileSync(join(dir, 'images', 'logo_main.png'), artwork);
      const build = buildWidget({ publicUrl: PUBLIC_URL, sourceDir: dir });
      expect(build.generatedImages).not.toContain('logo_main.png');
      expect(Buffer.from(unzipSync(new Uint8Array(build.zip))['images/logo_main.png']!).equals(artwork)).toBe(true);
      writeFileSync(join(dir, 'images', 'logo_main.png'), drawLogo(300, 200));
      expect(() => buildWidget({ publicUrl: PUBLIC_URL, sourceDir: dir })).toThrow('images/logo_main.png must be a 400×272 PNG, not 300×200');
    });

    it('refuses a manifest the docs do not allow, and a text missing from a locale', () => {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, widget: { ...manifest.widget, interface_version: 1 } }));
      expect(() => buildWidget({ publicUrl: PUBLIC_URL, sourceDir: dir })).toThrow(/interface_version/);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, dp: undefined }));
      expect(() => buildWidget({ publicUrl: PUBLIC_URL, sourceDir: dir })).toThrow(/digital_pipeline/);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const en = JSON.parse(readFileSync(join(dir, 'i18n', 'en.json'), 'utf8'));
      delete en.dp;
      writeFileSync(join(dir, 'i18n', 'en.json'), JSON.stringify(en));
      expect(() => buildWidget({ publicUrl: PUBLIC_URL, sourceDir: dir })).toThrow('i18n/en.json lacks dp.settings.action, dp.settings.reglament_key');
    });
  });
});
