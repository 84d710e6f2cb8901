// `npm run lint:electron`: @doyensec/electronegativity over the app sources (electronegativity.json's
// inputs, tests left out), for the Electron version in node_modules. Passes only when every finding
// is accepted, with its reason, in electronegativity.json, and every accepted entry still matches.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** Splits findings into accepted and unexplained, and lists accepted entries that matched nothing. */
export function judge(findings, accepted) {
  const used = new Set();
  const unexplained = [];
  for (const finding of findings) {
    const entry = accepted.find(
      (a) => a.check === finding.issue && a.file === finding.filename && finding.sample.includes(a.sample),
    );
    if (entry) used.add(entry);
    else unexplained.push(finding);
  }
  return { unexplained, stale: accepted.filter((entry) => !used.has(entry)) };
}

/**
 * Runs the checker in this process through its API (its CSV writer races its own header),
 * with its banner and table silenced; returns one plain object per finding.
 */
async function scan(input) {
  const run = require('@doyensec/electronegativity');
  const { version } = require('electron/package.json');
  const log = console.log;
  console.log = () => {};
  let result;
  try {
    result = await run({ input, isRelative: true, electronVersionOverride: version });
  } finally {
    console.log = log;
  }
  if (result.errors?.length) {
    throw new Error(`electronegativity could not parse: ${JSON.stringify(result.errors)}`);
  }
  return result.issues.map((issue) => ({
    issue: issue.id,
    filename: issue.file,
    location: `${issue.location?.line}:${issue.location?.column}`,
    sample: issue.sample ?? 'N/A',
    severity: issue.severity.name,
    confidence: issue.confidence.name,
    description: issue.description,
  }));
}

async function main() {
  const config = JSON.parse(await readFile(path.join(root, 'electronegativity.json'), 'utf8'));
  const missingWhy = config.accepted.filter((entry) => !entry.why?.trim());
  if (missingWhy.length > 0) {
    console.error(`electronegativity: accepted entries without a reason: ${JSON.stringify(missingWhy)}`);
    process.exit(1);
  }
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'roleshell-electronegativity-'));
  try {
    const input = path.join(scratch, 'src');
    for (const entry of config.inputs) {
      await cp(path.join(root, entry), path.join(input, entry), {
        recursive: true,
        filter: (source) => !/\.test\.tsx?$/.test(source),
      });
    }
    const findings = await scan(input);
    const { unexplained, stale } = judge(findings, config.accepted);
    for (const f of unexplained) {
      console.error(
        `${f.filename}:${f.location}  ${f.issue} (${f.severity}, ${f.confidence}): ${f.description}\n    ${f.sample}`,
      );
    }
    for (const entry of stale) {
      console.error(
        `electronegativity.json accepts ${entry.check} in ${entry.file} ("${entry.sample}"), which is no longer found: remove it`,
      );
    }
    if (unexplained.length > 0 || stale.length > 0) {
      console.error(
        `electronegativity: ${unexplained.length} unexplained finding(s), ${stale.length} stale accepted entr${stale.length === 1 ? 'y' : 'ies'}: fix the code, or justify the finding in electronegativity.json`,
      );
      process.exit(1);
    }
    console.log(
      `electronegativity: ${findings.length} finding(s), each accepted with its reason in electronegativity.json`,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
