import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledPluginPath, chooseBackend, loginShellPath } from './pluginLookup';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-plugin-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function executable(file: string) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o755);
  return file;
}

const base = (over: Partial<Parameters<typeof chooseBackend>[0]> = {}) => ({
  configuredPath: '',
  preferBuiltIn: false,
  resourcesDir: path.join(dir, 'resources'),
  searchPath: async () => path.join(dir, 'bin'),
  platform: 'linux' as const,
  arch: 'x64' as const,
  ...over,
});

describe('chooseBackend', () => {
  it('takes the setting first, then the bundled copy, then PATH, then the built-in client', async () => {
    const onPath = await executable(path.join(dir, 'bin', 'session-manager-plugin'));
    expect(await chooseBackend(base())).toEqual({ backend: 'plugin', pluginPath: onPath, source: 'path' });
    const bundled = await executable(bundledPluginPath(path.join(dir, 'resources'), 'linux', 'x64'));
    expect(bundled).toBe(path.join(dir, 'resources', 'plugin', 'linux-x64', 'session-manager-plugin'));
    expect(await chooseBackend(base())).toEqual({
      backend: 'plugin',
      pluginPath: bundled,
      source: 'bundled',
    });
    const configured = await executable(path.join(dir, 'opt', 'smp'));
    expect(await chooseBackend(base({ configuredPath: configured }))).toEqual({
      backend: 'plugin',
      pluginPath: configured,
      source: 'setting',
    });
    await rm(path.join(dir, 'bin'), { recursive: true });
    await rm(path.join(dir, 'resources'), { recursive: true });
    expect(await chooseBackend(base())).toEqual({
      backend: 'dataChannel',
      why: 'no session-manager-plugin found',
    });
  });

  it('the built-in client when chosen in Settings, even with a plugin around', async () => {
    await executable(path.join(dir, 'bin', 'session-manager-plugin'));
    expect(await chooseBackend(base({ preferBuiltIn: true }))).toMatchObject({ backend: 'dataChannel' });
  });

  it('a configured path that is not an executable file is an error that says what to do', async () => {
    await writeFile(path.join(dir, 'plain'), 'x');
    await expect(chooseBackend(base({ configuredPath: path.join(dir, 'plain') }))).rejects.toThrow(
      /is not an executable file\. Fix the path or clear it/,
    );
  });
});

describe('loginShellPath', () => {
  it('asks the login shell for its PATH once', async () => {
    const first = await loginShellPath({ SHELL: '/bin/sh', PATH: '/usr/bin:/bin', HOME: dir });
    expect(first.split(':')).toContain('/usr/bin');
    // Resolved once per process: later calls reuse the answer.
    expect(await loginShellPath({ SHELL: '/bin/false', PATH: '' })).toBe(first);
  });
});
