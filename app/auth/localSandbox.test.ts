import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findDefaultOrg } from './localSandbox';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-org-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findDefaultOrg', () => {
  it('finds sandbox/org/default.yaml above a bundled main (dist/main) or the working directory', async () => {
    await mkdir(path.join(dir, 'sandbox', 'org'), { recursive: true });
    await mkdir(path.join(dir, 'dist', 'main'), { recursive: true });
    await writeFile(path.join(dir, 'sandbox', 'org', 'default.yaml'), 'users: []');
    expect(findDefaultOrg([path.join(dir, 'dist', 'main')])).toBe(
      path.join(dir, 'sandbox', 'org', 'default.yaml'),
    );
    expect(findDefaultOrg([os.tmpdir(), dir])).toBe(path.join(dir, 'sandbox', 'org', 'default.yaml'));
  });

  it('finds nothing when no source tree is around (the sandbox then uses its own default)', () => {
    expect(findDefaultOrg([dir])).toBeUndefined();
  });
});
