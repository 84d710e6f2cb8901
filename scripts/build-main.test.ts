/**
 * The shipped main-process bundle: under 1.5 MB, and none of the local sandbox in it (the
 * sandbox runs as its own process from dist/sandbox/sandbox.mjs; eslint forbids the import,
 * this checks what esbuild actually put into main.cjs).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
let built: { outfile: string; bytes: number };
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-main-build-'));
  // @ts-expect-error: plain ESM build script without type declarations
  const { buildMain } = (await import('./build-main.mjs')) as {
    buildMain: (o: { outDir: string }) => Promise<{ outfile: string; bytes: number }>;
  };
  built = await buildMain({ outDir: dir });
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dist/main/main.cjs', () => {
  it('stays under 1.5 MB', () => {
    expect(built.bytes).toBeLessThan(1.5 * 1024 * 1024);
  });

  it('holds none of the sandbox: no shell agent, no sandbox sources in its source map', async () => {
    const code = await readFile(built.outfile, 'utf8');
    expect(code).not.toMatch(/ShellSessionAgent|spawnLoginShell/);
    const map = JSON.parse(await readFile(`${built.outfile}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.filter((source) => source.includes('sandbox/src/'))).toEqual([]);
    // The code that starts it, and its message types, are there.
    expect(map.sources.some((source) => source.endsWith('app/auth/localSandbox.ts'))).toBe(true);
  });
});
