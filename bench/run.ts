/**
 * `npm run bench [-- name …]`: runs every `bench/*.bench.ts` one after the
 * other (never in parallel: they would skew each other), each in its own Node
 * process so one benchmark's module state, loaders or leftover handles cannot
 * touch the next, and prints one table. Each module default-exports
 * `async () => BenchRow[]` (bench/types.ts).
 */
import { spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const resultFileVariable = 'ROLESHELL_BENCH_RESULT_FILE';

if (process.env[resultFileVariable]) {
  await runOne(process.argv[2]!, process.env[resultFileVariable]);
} else {
  await runAll(process.argv.slice(2));
}

/** In the child: run one benchmark and leave its rows as JSON in the result file. */
async function runOne(file: string, resultFile: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const module = (await import(pathToFileURL(path.join(benchDir, file)).href)) as {
    default: () => Promise<BenchRow[]>;
  };
  const rows = await module.default();
  await writeFile(resultFile, JSON.stringify(rows));
  // Benchmarks should close what they open; exit anyway so a stray handle cannot hang the run.
  process.exit(0);
}

async function runAll(only: string[]): Promise<void> {
  const files = (await readdir(benchDir))
    .filter((name) => name.endsWith('.bench.ts'))
    .filter((name) => only.length === 0 || only.some((wanted) => name.includes(wanted)))
    .sort();
  await buildWhatIsMissing(files);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'roleshell-bench-'));
  const table: Array<BenchRow & { bench: string }> = [];
  const failures: string[] = [];
  try {
    for (const file of files) {
      const bench = file.replace(/\.bench\.ts$/, '');
      process.stderr.write(`running ${bench}…\n`);
      const resultFile = path.join(scratch, `${bench}.json`);
      const code = await runChild(file, resultFile);
      const rows = await readFile(resultFile, 'utf8').then(
        (text) => JSON.parse(text) as BenchRow[],
        () => null,
      );
      if (code !== 0 || !rows) failures.push(`${bench}: exited with ${code} (its output is above)`);
      for (const row of rows ?? []) table.push({ bench, ...row });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(formatTable(table));
  if (failures.length > 0) {
    console.error(`\n${failures.length} benchmark(s) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

/**
 * Benchmarks that start the web host (e2e/host/server) serve the built
 * renderer; a fresh clone has none, so build it once first.
 */
async function buildWhatIsMissing(files: string[]): Promise<void> {
  const sources = await Promise.all(files.map((file) => readFile(path.join(benchDir, file), 'utf8')));
  if (!sources.some((source) => source.includes('e2e/host/server'))) return;
  const builtRenderer = path.join(benchDir, '..', 'dist', 'renderer', 'index.html');
  if (
    await access(builtRenderer).then(
      () => true,
      () => false,
    )
  )
    return;
  process.stderr.write('no built renderer yet: running npm run build:renderer…\n');
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('npm', ['run', 'build:renderer'], {
      cwd: path.join(benchDir, '..'),
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`npm run build:renderer exited with ${code}`);
}

function runChild(file: string, resultFile: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), file], {
      env: { ...process.env, [resultFileVariable]: resultFile },
      // The child's own output goes to stderr so stdout stays the table alone.
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

function formatTable(rows: Array<BenchRow & { bench: string }>): string {
  const header = ['bench', 'figure', 'value', 'unit', 'compared to'];
  const body = rows.map((row) => [row.bench, row.figure, formatValue(row.value), row.unit, row.comparedTo]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => cells[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(3);
}
