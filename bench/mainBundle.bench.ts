/**
 * The Electron main process's bundle: dist/main/main.cjs as shipped (minified ES module
 * builds, the local sandbox in its own bundle and process), next to the same sources built
 * the way main was built before (unminified CommonJS builds) and to the sandbox bundle that
 * no longer loads into the main process. Target: main.cjs under 1.5 MB.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BenchRow } from './types';

type Built = { outfile: string; bytes: number };
const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(2));

export default async function mainBundleBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-main-bench-'));
  try {
    // @ts-expect-error: plain ESM build script without type declarations
    const { buildMain } = (await import('../scripts/build-main.mjs')) as {
      buildMain: (o: { outDir: string; shipped?: boolean }) => Promise<Built>;
    };
    // @ts-expect-error: plain ESM build script without type declarations
    const { buildSandbox } = (await import('../scripts/build-sandbox.mjs')) as {
      buildSandbox: (o: { outDir: string }) => Promise<Built>;
    };
    const shipped = await buildMain({ outDir: path.join(dir, 'shipped') });
    const before = await buildMain({ outDir: path.join(dir, 'before'), shipped: false });
    const sandbox = await buildSandbox({ outDir: path.join(dir, 'sandbox') });
    return [
      {
        figure: 'dist/main/main.cjs size (target < 1.5 MB)',
        value: mb(shipped.bytes),
        unit: 'MB',
        comparedTo: `${(shipped.bytes / before.bytes).toFixed(2)}× the same sources built unminified from CommonJS builds (${mb(before.bytes)} MB)`,
      },
      {
        figure: 'local sandbox bundle, its own process (dist/sandbox/sandbox.mjs)',
        value: mb(sandbox.bytes),
        unit: 'MB',
        comparedTo: `was inside main.cjs; main.cjs + sandbox unminified would be ${mb(before.bytes + sandbox.bytes)} MB`,
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
