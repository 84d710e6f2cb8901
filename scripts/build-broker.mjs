// Bundles the broker Lambda into one file: dist/broker/index.mjs (Node 20, ESM,
// minified, AWS SDK v3 included so the function does not depend on the
// runtime's SDK version), plus dist/broker/meta.json for bundle analysis.
import { build } from 'esbuild';
import { mkdir, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the bundle; returns its path, size in bytes and the metafile path.
 * `sourceDir` is a folder holding `broker/src` (default the checkout; the
 * benchmark passes an older commit's copy to compare), with this checkout's
 * node_modules either way.
 */
export async function buildBroker({
  outDir = path.join(root, 'dist/broker'),
  minify = true,
  sourceDir = root,
} = {}) {
  await mkdir(outDir, { recursive: true });
  const outfile = path.join(outDir, 'index.mjs');
  const result = await build({
    entryPoints: [path.join(sourceDir, 'broker/src/handler.ts')],
    nodePaths: [path.join(root, 'node_modules')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Prefer the ES module builds: they tree-shake far better than the CommonJS ones.
    mainFields: ['module', 'main'],
    // Lambda gives the function its credentials only in environment variables: the SDK's
    // default chain (SSO, INI, web identity, IMDS …) would be ~95 KiB never used.
    alias: {
      '@aws-sdk/credential-provider-node': path.join(root, 'broker/src/aws/lambdaCredentials.ts'),
    },
    minify,
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Some bundled CommonJS dependencies call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __roleshellCreateRequire } from 'node:module'; const require = __roleshellCreateRequire(import.meta.url);",
    },
  });
  const metafile = path.join(outDir, 'meta.json');
  await writeFile(metafile, JSON.stringify(result.metafile));
  const { size } = await stat(outfile);
  return { outfile, bytes: size, metafile };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { outfile, bytes } = await buildBroker();
  console.log(`${path.relative(root, outfile)}: ${(bytes / 1024).toFixed(1)} KiB`);
}
