/**
 * npm run build:widget [-- --public-url https://reglament.example.ru] [--out dist/amocrm-widget.zip]
 * The amoCRM widget archive for this deployment (PUBLIC_URL from .env when not given).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildWidget, WidgetBuildError } from './widget/build';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const publicUrl = option('public-url') ?? process.env.PUBLIC_URL;
const out = resolve(option('out') ?? 'dist/amocrm-widget.zip');
if (!publicUrl) {
  console.error('build:widget needs the app\'s public address: --public-url https://… or PUBLIC_URL in .env');
  process.exit(1);
}
try {
  const build = buildWidget({ publicUrl });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, build.zip);
  console.log(`${out}: widget ${build.manifest.widget.version}, ${build.entries.length} files, ${build.zip.length} bytes, for ${publicUrl}`);
  for (const entry of build.entries) console.log(`  ${entry.name} (${entry.data.length} bytes)`);
  if (build.generatedImages.length) {
    console.log(`Generated logos (no artwork in apps/amocrm/widget/images/): ${build.generatedImages.join(', ')}. They upload; replace them with the design team's artwork before amoМаркет moderation.`);
  }
} catch (err) {
  if (err instanceof WidgetBuildError) {
    console.error(`build:widget: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
