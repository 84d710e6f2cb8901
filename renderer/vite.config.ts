import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- the Vite config runs in Node at build time, not in the renderer.
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

// One static bundle served by both Electron (a custom protocol) and the e2e/web host.
export default defineConfig({
  root: here,
  // Relative asset URLs, so the bundle works under roleshell://app/ and http://127.0.0.1:<port>/ alike.
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    // No inline scripts or data: modules: the CSP allows scripts from 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
