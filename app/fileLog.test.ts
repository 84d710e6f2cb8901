import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLog } from './fileLog';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('file log', () => {
  it('appends timestamped lines with error stacks to a private file', async () => {
    const log = createFileLog({
      dir: path.join(dir, 'logs'),
      now: () => new Date('2026-11-30T09:00:00.000Z'),
    });
    log('call getSettings failed', new Error('disk on fire'));
    log('second line');
    const text = await readFile(log.file, 'utf8');
    expect(text).toMatch(/^2026-11-30T09:00:00\.000Z call getSettings failed Error: disk on fire\n {4}at /);
    expect(text.endsWith('2026-11-30T09:00:00.000Z second line\n')).toBe(true);
    if (process.platform !== 'win32') expect((await stat(log.file)).mode & 0o777).toBe(0o600);
  });

  it('rolls over to roleshell.log.1 above the size limit', async () => {
    const log = createFileLog({ dir, maxBytes: 200 });
    for (let i = 0; i < 10; i++) log(`line ${i} ${'x'.repeat(40)}`);
    expect((await readdir(dir)).sort()).toEqual(['roleshell.log', 'roleshell.log.1']);
    expect((await stat(log.file)).size).toBeLessThanOrEqual(200);
    expect(await readFile(log.file, 'utf8')).toContain('line 9');
  });

  it('never throws when the log cannot be written', async () => {
    // A regular file where the log folder should be: mkdir fails with ENOTDIR/EEXIST.
    const blocked = path.join(dir, 'blocked');
    await writeFile(blocked, 'not a folder');
    const log = createFileLog({ dir: path.join(blocked, 'logs') });
    expect(() => log('still fine')).not.toThrow();
  });
});
