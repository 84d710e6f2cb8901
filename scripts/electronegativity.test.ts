/** The security lint's judgement: every finding accepted with a reason, no stale acceptances. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM script without type declarations
import { judge } from './electronegativity.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const finding = (issue: string, sample: string) => ({
  issue,
  filename: 'main/main.ts',
  location: '1:0',
  sample,
});
const findings = [
  finding('OPEN_EXTERNAL_JS_CHECK', 'if (ok(url)) void shell.openExternal(url);'),
  finding('NODE_INTEGRATION_JS_CHECK', 'nodeIntegration: true,'),
];

describe('electronegativity judgement', () => {
  it('fails a finding nobody accepted, and an acceptance that matches nothing', () => {
    const accepted = [
      {
        check: 'OPEN_EXTERNAL_JS_CHECK',
        file: 'main/main.ts',
        sample: 'void shell.openExternal(url)',
        why: 'allow-listed',
      },
      { check: 'PRELOAD_JS_CHECK', file: 'main/main.ts', sample: 'preload:', why: 'gone' },
    ];
    const { unexplained, stale } = judge(findings, accepted);
    expect(unexplained.map((f: { issue: string }) => f.issue)).toEqual(['NODE_INTEGRATION_JS_CHECK']);
    expect(stale).toEqual([accepted[1]]);
  });

  it('the checked-in configuration gives a reason for every accepted finding', async () => {
    const config = JSON.parse(await readFile(path.join(root, 'electronegativity.json'), 'utf8'));
    expect(config.accepted.length).toBeGreaterThan(0);
    for (const entry of config.accepted) expect(entry.why.length).toBeGreaterThan(40);
  });
});
