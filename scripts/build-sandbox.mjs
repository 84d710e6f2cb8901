// Bundles the local sandbox's child-process entry (sandbox/src/child/entry.ts) into
// dist/sandbox/sandbox.mjs: the app core starts it as its own process for
// "Try the local sandbox", so the sandbox never loads into the Electron main process.
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the bundle; returns its path and size in bytes. */
export async function buildSandbox({ outDir = path.join(root, 'dist/sandbox') } = {}) {
  const outfile = path.join(outDir, 'sandbox.mjs');
  await build({
    absWorkingDir: root,
    entryPoints: ['sandbox/src/child/entry.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    sourcemap: true,
    logLevel: 'warning',
    // node-pty is a native module, loaded at run time; esbuild is run as a binary (bundling
    // the broker from source in a checkout), never imported.
    external: ['node-pty', 'esbuild'],
    // Some bundled CommonJS dependencies call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __roleshellCreateRequire } from 'node:module'; const require = __roleshellCreateRequire(import.meta.url);",
    },
  });
  const { size } = await stat(outfile);
  return { outfile, bytes: size };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { outfile, bytes } = await buildSandbox();
  console.log(`${path.relative(root, outfile)}: ${(bytes / 1024).toFixed(1)} KiB`);
}
