/** `npm run synth`'s entry point: what it writes, and how it refuses bad input without losing output. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfigPath, InfraConfigError } from '../src/config';
import { synthesize } from '../src/synth';

let dir: string;
let badConfig: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'roleshell-synth-'));
  badConfig = path.join(dir, 'bad.yaml');
  writeFileSync(
    badConfig,
    readFileSync(defaultConfigPath, 'utf8').replace('linuxUser: auditor', 'linuxUser: Auditor'),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('synthesize', () => {
  it('refuses a bad configuration or a missing bundle before touching the previous output', () => {
    const outdir = path.join(dir, 'kept');
    mkdirSync(outdir);
    writeFileSync(path.join(outdir, 'previous.json'), '{}');
    expect(() => synthesize(badConfig, outdir, path.join(dir, 'broker'))).toThrow(InfraConfigError);
    expect(() => synthesize(defaultConfigPath, outdir, path.join(dir, 'no-bundle'))).toThrow(
      /no-bundle\/index\.mjs does not exist; run `npm run build:broker` first/,
    );
    expect(readdirSync(outdir)).toEqual(['previous.json']);
  });
});

describe('the synth command', () => {
  it('exits 1 with the bad key’s path and no stack trace', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'infra/src/synth.ts'], {
      env: { ...process.env, ROLESHELL_INFRA_CONFIG: badConfig },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${badConfig} is invalid:`);
    expect(result.stderr).toContain('permissionSets.ReadOnly.linuxUser: must be a Linux user name');
    expect(result.stderr).not.toContain('    at ');
  });
});
