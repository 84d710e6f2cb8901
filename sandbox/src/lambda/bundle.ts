/**
 * Bundles a Lambda handler module with the esbuild binary: one process per
 * bundle, exited when the promise settles. (esbuild's JS API keeps a helper
 * process alive that outlives close() by a moment; a sandbox must leave
 * nothing running.)
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const esbuildBinary = () =>
  process.env.ESBUILD_BINARY_PATH ??
  join(dirname(createRequire(import.meta.url).resolve('esbuild')), '..', 'bin', 'esbuild');

/**
 * The same settings as the real deployment (scripts/build-broker.mjs): ESM, Node 20,
 * `module` fields first, SDK included — minus minification, so traces stay readable.
 */
export function bundleHandler(entry: string, outfile: string): Promise<void> {
  const args = [
    entry,
    '--bundle',
    '--platform=node',
    '--target=node20',
    '--format=esm',
    '--main-fields=module,main',
    '--legal-comments=none',
    '--log-level=error',
    `--outfile=${outfile}`,
    "--banner:js=import { createRequire as __sandboxCreateRequire } from 'node:module'; const require = __sandboxCreateRequire(import.meta.url);",
  ];
  return new Promise((resolve, reject) => {
    execFile(esbuildBinary(), args, { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`esbuild could not bundle ${entry}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}
