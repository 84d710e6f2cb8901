// Bundles the Electron main process and the preload into CommonJS files in dist/main/.
// The preload runs sandboxed, where only a subset of `electron` can be required, so it is bundled on its own.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: true,
  logLevel: 'warning',
  // Native modules and Electron itself are loaded at run time, not bundled.
  // esbuild bundles the broker for the in-app local sandbox at run time; it must stay a real package.
  external: ['electron', 'node-pty', 'esbuild'],
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['main/main.ts'],
    outfile: 'dist/main/main.cjs',
    // app/ code is ESM; give `import.meta.url` a CommonJS equivalent.
    define: { 'import.meta.url': '__roleshellImportMetaUrl' },
    banner: { js: "const __roleshellImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  build({ ...common, entryPoints: ['main/preload.ts'], outfile: 'dist/main/preload.cjs' }),
  // The session host runs as an Electron utilityProcess (main.ts forks it from next to main.cjs).
  build({
    ...common,
    entryPoints: ['app/session/host/hostMain.ts'],
    outfile: 'dist/main/sessionHost.cjs',
    define: { 'import.meta.url': '__roleshellImportMetaUrl' },
    banner: { js: "const __roleshellImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
]);
console.log('built dist/main/main.cjs, dist/main/preload.cjs and dist/main/sessionHost.cjs');
