/**
 * The electron-builder afterPack hook (scripts/after-pack.cjs): the fuse configuration it
 * applies, the hook run on a binary carrying Electron's fuse wire, and, where a packaged app
 * exists (npm run package:dir), the fuses read back from the real packaged Electron.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const afterPack = require('./after-pack.cjs') as ((context: unknown) => Promise<void>) & {
  fuseSettings: Record<string, boolean>;
};

const expected = {
  RunAsNode: false,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  LoadBrowserProcessSpecificV8Snapshot: false,
  GrantFileProtocolExtraPrivileges: false,
  WasmTrapHandlers: true,
};
const fuseNames = Object.keys(FuseV1Options).filter((key) => Number.isNaN(Number(key)));
const state = (on: boolean) => (on ? FuseState.ENABLE : FuseState.DISABLE);

/** A file laid out like Electron's binary around the fuse wire, with Electron's default fuses. */
function binaryWithFuseWire(): Buffer {
  const defaults = [1, 0, 1, 1, 0, 0, 0, 1, 1].map((on) => (on ? 0x31 : 0x30));
  return Buffer.concat([
    Buffer.alloc(4096, 0x7f),
    Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'),
    Buffer.from([1, defaults.length, ...defaults]),
    Buffer.alloc(4096, 0x7f),
  ]);
}

describe('fuse configuration', () => {
  it('decides every fuse of the wire: no RunAsNode, NODE_OPTIONS or --inspect; cookie encryption, asar integrity, asar only', () => {
    expect(afterPack.fuseSettings).toEqual(expected);
    expect(Object.keys(afterPack.fuseSettings).sort()).toEqual([...fuseNames].sort());
  });

  it('is the afterPack hook electron-builder.yml names', async () => {
    const config = parse(await readFile(path.join(root, 'electron-builder.yml'), 'utf8')) as {
      afterPack: string;
    };
    expect(path.resolve(root, config.afterPack)).toBe(path.join(root, 'scripts', 'after-pack.cjs'));
  });
});

describe('afterPack on a Linux build', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-afterpack-'));
    await writeFile(path.join(dir, 'roleshell'), binaryWithFuseWire());
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const context = (targets: string[]) => ({
    appOutDir: dir,
    electronPlatformName: 'linux',
    arch: 1,
    targets: targets.map((name) => ({ name })),
    packager: { appInfo: { productFilename: 'RoleShell' }, executableName: 'roleshell' },
  });
  const addPlugin = async () => {
    await mkdir(path.join(dir, 'resources', 'plugin', 'linux-x64'), { recursive: true });
    await writeFile(path.join(dir, 'resources', 'plugin', 'linux-x64', 'session-manager-plugin'), '');
  };

  it('flips the fuses in the packaged executable', async () => {
    await addPlugin();
    await afterPack(context(['AppImage', 'deb']));
    const wire = await getCurrentFuseWire(path.join(dir, 'roleshell'));
    for (const [name, on] of Object.entries(expected)) {
      expect([name, wire[FuseV1Options[name as keyof typeof FuseV1Options]]]).toEqual([name, state(on)]);
    }
  });

  it('refuses to build an installer without the session-manager-plugin inside', async () => {
    await expect(afterPack(context(['AppImage']))).rejects.toThrow(
      /session-manager-plugin missing at .*resources\/plugin\/linux-x64\/session-manager-plugin: run resources\/fetch-plugin/,
    );
  });

  it('lets an unpacked build go without the plugin', async () => {
    await expect(afterPack(context(['dir']))).resolves.toBeUndefined();
  });
});

const packaged = [
  path.join(root, 'release', `${process.platform}-unpacked`, 'roleshell'),
  path.join(root, 'release', 'linux-unpacked', 'roleshell'),
  path.join(root, 'release', 'win-unpacked', 'RoleShell.exe'),
  path.join(root, 'release', process.arch === 'arm64' ? 'mac-arm64' : 'mac', 'RoleShell.app'),
].find((file) => existsSync(file));

describe('the packaged app', () => {
  it.skipIf(!packaged)(
    'has its fuses flipped (skipped: no packaged app in release/ — npm run package:dir builds one where Electron can be downloaded)',
    async () => {
      const wire = await getCurrentFuseWire(packaged!);
      for (const [name, on] of Object.entries(expected)) {
        expect([name, wire[FuseV1Options[name as keyof typeof FuseV1Options]]]).toEqual([name, state(on)]);
      }
    },
  );
});
