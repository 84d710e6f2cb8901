/**
 * resources/fetch-plugin against a loopback file server: packages made here in AWS's formats
 * (a .deb, a nested zip), pinned; a tampered one is refused and nothing is written; the
 * script refuses to run without pins; --pin records what the server serves.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { create as createTar } from 'tar';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const linuxPlugin = Buffer.from('#!/bin/sh\necho linux plugin\n');
const windowsPlugin = Buffer.from('MZ windows plugin');

/** An `ar` archive, as dpkg-deb writes a .deb. */
function ar(members: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, data] of members) {
    const header =
      `${name}/`.padEnd(16) +
      '0'.padEnd(12) +
      '0'.padEnd(6) +
      '0'.padEnd(6) +
      '100644'.padEnd(8) +
      String(data.length).padEnd(10) +
      '`\n';
    parts.push(Buffer.from(header, 'latin1'), data);
    if (data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

async function makeDeb(dir: string): Promise<Buffer> {
  const tree = path.join(dir, 'tree');
  await mkdir(path.join(tree, 'usr/local/sessionmanagerplugin/bin'), { recursive: true });
  await writeFile(path.join(tree, 'usr/local/sessionmanagerplugin/bin/session-manager-plugin'), linuxPlugin);
  await writeFile(path.join(tree, 'control'), 'Package: session-manager-plugin\n');
  await createTar({ gzip: true, cwd: tree, file: path.join(dir, 'data.tar.gz'), portable: true }, ['./usr']);
  await createTar({ gzip: true, cwd: tree, file: path.join(dir, 'control.tar.gz'), portable: true }, [
    './control',
  ]);
  return ar([
    ['debian-binary', Buffer.from('2.0\n')],
    ['control.tar.gz', await readFile(path.join(dir, 'control.tar.gz'))],
    ['data.tar.gz', await readFile(path.join(dir, 'data.tar.gz'))],
  ]);
}

/** A zip holding a zip holding the .exe. */
function makeWindowsZip(): Buffer {
  const inner = zipSync({ 'bin/session-manager-plugin.exe': new Uint8Array(windowsPlugin) });
  return Buffer.from(zipSync({ 'package.zip': inner, 'install.bat': new TextEncoder().encode('rem\n') }));
}

let dir: string;
let server: Server;
let base: string;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-fetch-plugin-'));
  served.set('/ubuntu_64bit/session-manager-plugin.deb', await makeDeb(dir));
  served.set('/windows/SessionManagerPlugin.zip', makeWindowsZip());
  server = createServer((request, response) => {
    const body = served.get(request.url ?? '');
    response.writeHead(body ? 200 : 404).end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** Runs the script in its own process (asynchronously: the file server is in this one). */
function fetchPlugin(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'scripts/fetch-plugin.mjs'), ...args],
      { encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

describe('resources/fetch-plugin', () => {
  let out: string;
  let pins: string;
  beforeEach(async () => {
    out = await mkdtemp(path.join(dir, 'out-'));
    pins = path.join(out, 'pins.json');
  });
  const writePins = (packages: Record<string, { url: string; sha256: string }>) =>
    writeFile(pins, JSON.stringify({ version: '9.9.9.9', packages }));
  const pinOf = (urlPath: string) => ({ url: `${base}${urlPath}`, sha256: sha256(served.get(urlPath)!) });

  it('extracts the plugin from packages that match their pins', async () => {
    await writePins({
      'linux-x64': pinOf('/ubuntu_64bit/session-manager-plugin.deb'),
      'win32-x64': pinOf('/windows/SessionManagerPlugin.zip'),
    });
    const result = await fetchPlugin('--pins', pins, '--out', out);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const linux = path.join(out, 'linux-x64', 'session-manager-plugin');
    expect(await readFile(linux)).toEqual(linuxPlugin);
    expect((await stat(linux)).mode & 0o777).toBe(0o755);
    expect(await readFile(path.join(out, 'win32-x64', 'session-manager-plugin.exe'))).toEqual(windowsPlugin);
  });

  it('refuses a tampered package and writes nothing', async () => {
    const pinned = pinOf('/ubuntu_64bit/session-manager-plugin.deb');
    await writePins({ 'linux-x64': pinned });
    const genuine = served.get('/ubuntu_64bit/session-manager-plugin.deb')!;
    const tampered = Buffer.from(genuine);
    tampered[tampered.length - 1] = tampered.at(-1)! ^ 0xff;
    served.set('/ubuntu_64bit/session-manager-plugin.deb', tampered);
    try {
      const result = await fetchPlugin('--pins', pins, '--out', out);
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(
        `fetch-plugin: checksum mismatch for linux-x64 (${pinned.url}): expected sha256 ${pinned.sha256}, got ${sha256(tampered)}; refusing it, nothing written`,
      );
      expect(existsSync(path.join(out, 'linux-x64'))).toBe(false);
    } finally {
      served.set('/ubuntu_64bit/session-manager-plugin.deb', genuine);
    }
  });

  it('refuses to run with no pins', async () => {
    const result = await fetchPlugin('--pins', pins, '--out', out);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^fetch-plugin: no checksums pinned \(.*pins\.json is missing\): a release engineer runs resources\/fetch-plugin --pin/,
    );
  });

  it('refuses a target that has no pin, and a pin that is not a SHA-256', async () => {
    await writePins({ 'linux-x64': pinOf('/ubuntu_64bit/session-manager-plugin.deb') });
    const missing = await fetchPlugin('--pins', pins, '--out', out, 'darwin-arm64');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no checksum pinned for darwin-arm64/);
    await writePins({
      'linux-x64': { url: `${base}/ubuntu_64bit/session-manager-plugin.deb`, sha256: 'TODO' },
    });
    const bad = await fetchPlugin('--pins', pins, '--out', out);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/the pin for linux-x64 needs a url and a 64-hex-digit sha256/);
    expect(existsSync(path.join(out, 'linux-x64'))).toBe(false);
  });

  it('--pin records the SHA-256 of each package it can find the plugin in', async () => {
    const sources = path.join(out, 'sources.json');
    await writeFile(
      sources,
      JSON.stringify({
        version: '9.9.9.9',
        baseUrl: `${base}/`,
        packages: {
          'linux-x64': 'ubuntu_64bit/session-manager-plugin.deb',
          'win32-x64': 'windows/SessionManagerPlugin.zip',
        },
      }),
    );
    const result = await fetchPlugin('--pin', '--sources', sources, '--pins', pins);
    expect(result.status).toBe(0);
    const written = JSON.parse(await readFile(pins, 'utf8'));
    expect(written).toMatchObject({
      version: '9.9.9.9',
      packages: {
        'linux-x64': pinOf('/ubuntu_64bit/session-manager-plugin.deb'),
        'win32-x64': pinOf('/windows/SessionManagerPlugin.zip'),
      },
    });
  });

  it('--pin refuses a package that holds no plugin', async () => {
    served.set('/empty.zip', Buffer.from(zipSync({ 'README.txt': new TextEncoder().encode('hi') })));
    const sources = path.join(out, 'sources.json');
    await writeFile(
      sources,
      JSON.stringify({ version: '9.9.9.9', baseUrl: `${base}/`, packages: { 'darwin-x64': 'empty.zip' } }),
    );
    const result = await fetchPlugin('--pin', '--sources', sources, '--pins', pins);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/empty\.zip holds no session-manager-plugin/);
    expect(existsSync(pins)).toBe(false);
  });
});
