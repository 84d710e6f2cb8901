// Bundles the Electron main process, the preload and the session host into CommonJS files in dist/main/.
// The preload runs sandboxed, where only a subset of `electron` can be required, so it is bundled on its own.
// The local sandbox is not in here: it is its own bundle and process (scripts/build-sandbox.mjs).
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds main.cjs and preload.cjs into outDir; returns main.cjs's path and size in bytes.
 * `shipped: false` builds main the way it was built before it was slimmed (no minification,
 * CommonJS package builds), for the benchmark's comparison.
 */
export async function buildMain({ outDir = path.join(root, 'dist/main'), shipped = true } = {}) {
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    sourcemap: true,
    logLevel: 'warning',
    // Native modules and Electron itself are loaded at run time, not bundled.
    // electron-updater is shipped in node_modules and required only when updates are configured.
    external: ['electron', 'node-pty', 'electron-updater'],
  };
  const outfile = path.join(outDir, 'main.cjs');
  await Promise.all([
    build({
      ...common,
      entryPoints: ['main/main.ts'],
      outfile,
      // The privileged process parses this at every start: the ES module builds tree-shake far
      // better, and minified (names kept, the source map beside it) it is a fraction of the size.
      ...(shipped ? { mainFields: ['module', 'main'], minify: true, keepNames: true } : {}),
      // app/ code is ESM; give `import.meta.url` a CommonJS equivalent.
      define: { 'import.meta.url': '__roleshellImportMetaUrl' },
      banner: { js: "const __roleshellImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    }),
    build({ ...common, entryPoints: ['main/preload.ts'], outfile: path.join(outDir, 'preload.cjs') }),
    // The session host runs as an Electron utilityProcess (main.ts forks it from next to main.cjs).
    build({
      ...common,
      entryPoints: ['app/session/host/hostMain.ts'],
      outfile: path.join(outDir, 'sessionHost.cjs'),
      ...(shipped ? { mainFields: ['module', 'main'], minify: true, keepNames: true } : {}),
      define: { 'import.meta.url': '__roleshellImportMetaUrl' },
      banner: { js: "const __roleshellImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    }),
  ]);
  const { size } = await stat(outfile);
  return { outfile, bytes: size };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { bytes } = await buildMain();
  console.log(
    `built dist/main/main.cjs (${(bytes / 1024 / 1024).toFixed(2)} MB), dist/main/preload.cjs and dist/main/sessionHost.cjs`,
  );
}
