// Builds the pages served by the app (`npm run build:pages`): the settings page, Vue + the official
// Bitrix24 UI kit (@bitrix24/b24ui-nuxt used as a Vue plugin through its Vite plugin, no Nuxt).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import bitrix24UI from '@bitrix24/b24ui-nuxt/vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./settings'),
  base: '/apps/settings/',
  // No router: the page is one screen inside the CRM frame; b24ui then renders plain anchors.
  plugins: [vue(), bitrix24UI({ router: false, colorMode: false, dts: false })],
  build: { outDir: here('../dist/pages/settings'), emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  logLevel: 'warn',
});
