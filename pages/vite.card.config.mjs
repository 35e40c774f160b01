// Builds the card page (`npm run build:pages`): the robot log in a deal's / lead's card (Bitrix24 tab,
// amoCRM widget), Vue + the official Bitrix24 UI kit, like the settings page, served at /apps/card/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import bitrix24UI from '@bitrix24/b24ui-nuxt/vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./card'),
  base: '/apps/card/',
  plugins: [vue(), bitrix24UI({ router: false, colorMode: false, dts: false })],
  build: { outDir: here('../dist/pages/card'), emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  logLevel: 'warn',
});
