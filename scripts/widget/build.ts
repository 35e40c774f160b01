import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drawLogo, MAX_IMAGE_BYTES, WIDGET_IMAGES } from './logos';
import { lookupI18n, manifestI18nKeys, widgetManifestSchema, type WidgetManifest } from './manifest-schema';
import { writeZip, type ZipEntry } from './zip';

/**
 * Builds the archive amoCRM's widget upload takes: manifest.json at the root (not in a folder),
 * i18n/<locale>.json for each locale, script.js (AMD module), style.css and the logos. The app's
 * public address is written into the manifest (the Digital Pipeline webhook) and into script.js
 * (the app's pages), so the archive is built per deployment.
 */
export const WIDGET_SOURCE = join(__dirname, '..', '..', 'apps', 'amocrm', 'widget');
const PLACEHOLDER = /\{\{PUBLIC_URL\}\}/g;

export interface WidgetBuild {
  manifest: WidgetManifest;
  entries: ZipEntry[];
  zip: Buffer;
  /** Logos drawn by the build because no artwork was found under images/. */
  generatedImages: string[];
}

export class WidgetBuildError extends Error {}

export function buildWidget(options: { publicUrl: string; sourceDir?: string }): WidgetBuild {
  const source = options.sourceDir ?? WIDGET_SOURCE;
  const publicUrl = checkPublicUrl(options.publicUrl);
  const read = (path: string) => readFileSync(join(source, path), 'utf8');

  const manifestText = read('manifest.json').replace(PLACEHOLDER, publicUrl);
  const parsed = widgetManifestSchema.safeParse(JSON.parse(manifestText));
  if (!parsed.success) throw new WidgetBuildError(`manifest.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const manifest = parsed.data;

  const entries: ZipEntry[] = [{ name: 'manifest.json', data: Buffer.from(manifestText) }];
  for (const locale of manifest.widget.locale) {
    const text = read(`i18n/${locale}.json`);
    const texts: unknown = JSON.parse(text);
    const missing = manifestI18nKeys(manifest).filter((key) => !lookupI18n(texts, key));
    if (missing.length) throw new WidgetBuildError(`i18n/${locale}.json lacks ${missing.join(', ')}`);
    entries.push({ name: `i18n/${locale}.json`, data: Buffer.from(text) });
  }
  // JSON.stringify makes the address a safe JS string literal inside script.js.
  const script = read('script.js').replace(/'\{\{PUBLIC_URL\}\}'/g, JSON.stringify(publicUrl));
  if (PLACEHOLDER.test(script)) throw new WidgetBuildError('script.js: {{PUBLIC_URL}} must appear only as a quoted string');
  entries.push({ name: 'script.js', data: Buffer.from(script) }, { name: 'style.css', data: Buffer.from(read('style.css')) });

  const generatedImages: string[] = [];
  for (const image of imagesFor(manifest)) {
    const artwork = join(source, 'images', image.file);
    let data: Buffer;
    if (existsSync(artwork)) {
      data = readFileSync(artwork);
      const size = pngSize(data);
      if (!size || size.width !== image.width || size.height !== image.height) {
        throw new WidgetBuildError(`images/${image.file} must be a ${image.width}×${image.height} PNG${size ? `, not ${size.width}×${size.height}` : ''}`);
      }
    } else {
      data = drawLogo(image.width, image.height);
      generatedImages.push(image.file);
    }
    if (data.length > MAX_IMAGE_BYTES) throw new WidgetBuildError(`images/${image.file} is larger than 300 KB`);
    entries.push({ name: `images/${image.file}`, data });
  }
  return { manifest, entries, zip: writeZip(entries), generatedImages };
}

/** logo_dp.png only when the widget is in the Digital Pipeline (docs: images/). */
function imagesFor(manifest: WidgetManifest) {
  const dp = manifest.locations.includes('digital_pipeline');
  return WIDGET_IMAGES.filter((image) => dp || image.file !== 'logo_dp.png');
}

/** amoCRM loads the widget's pages over https; plain http only for a local address (development). */
function checkPublicUrl(raw: string): string {
  if (!URL.canParse(raw)) throw new WidgetBuildError(`PUBLIC_URL "${raw}" is not a URL`);
  const url = new URL(raw);
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) throw new WidgetBuildError(`PUBLIC_URL must be https (got ${url.protocol})`);
  if (url.search || url.hash) throw new WidgetBuildError('PUBLIC_URL must not carry a query or a fragment');
  return url.href.replace(/\/$/, '');
}

/** Width and height from a PNG's IHDR, or null when it is not a PNG. */
function pngSize(data: Buffer): { width: number; height: number } | null {
  if (data.length < 24 || data.readUInt32BE(0) !== 0x89504e47 || data.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}
