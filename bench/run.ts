/**
 * `npm run bench [-- name …]`: runs every `bench/*.bench.ts` one after the
 * other (never in parallel: they would skew each other) and prints one table.
 * Each module default-exports `async () => BenchRow[]` (bench/types.ts).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './types';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

const files = (await readdir(benchDir))
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => only.length === 0 || only.some((wanted) => name.includes(wanted)))
  .sort();

const table: Array<BenchRow & { bench: string }> = [];
const failures: string[] = [];
for (const file of files) {
  const bench = file.replace(/\.bench\.ts$/, '');
  process.stderr.write(`running ${bench}…\n`);
  try {
    const module = (await import(pathToFileURL(path.join(benchDir, file)).href)) as {
      default: () => Promise<BenchRow[]>;
    };
    for (const row of await module.default()) table.push({ bench, ...row });
  } catch (error) {
    failures.push(`${bench}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}

console.log(formatTable(table));
if (failures.length > 0) {
  console.error(`\n${failures.length} benchmark(s) failed:\n${failures.join('\n')}`);
  process.exitCode = 1;
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
