// `resources/fetch-plugin`: puts AWS's session-manager-plugin for each platform into
// resources/plugin/<platform>-<arch>/ (git-ignored) before packaging; never run by tests or CI.
//
//   resources/fetch-plugin [<platform>-<arch> …]   download, verify against the pinned SHA-256, extract
//   resources/fetch-plugin --pin                   (release engineer, with network) record the SHA-256
//                                                  of each package into resources/plugin-pins.json
//
// What is downloaded is AWS's published package per platform, named in resources/plugin-sources.json.
// A package whose SHA-256 differs from its pin is refused and nothing is written. With no pins the
// script refuses to run: checksums come only from an explicit --pin, reviewed and committed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { unzipSync } from 'fflate';
import { Parser as TarParser } from 'tar';

const resources = fileURLToPath(new URL('../resources/', import.meta.url));
const defaults = {
  sources: path.join(resources, 'plugin-sources.json'),
  pins: path.join(resources, 'plugin-pins.json'),
  out: path.join(resources, 'plugin'),
};

export class FetchPluginError extends Error {
  name = 'FetchPluginError';
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const binaryName = (target) =>
  target.startsWith('win32-') ? 'session-manager-plugin.exe' : 'session-manager-plugin';

/** resources/plugin-sources.json: the plugin version and, per target, the package's URL. */
export async function readSources(file = defaults.sources) {
  const sources = JSON.parse(await readFile(file, 'utf8'));
  const urls = {};
  for (const [target, relative] of Object.entries(sources.packages)) {
    urls[target] = new URL(relative, sources.baseUrl.replaceAll('{version}', sources.version)).href;
  }
  return { version: sources.version, urls };
}

async function readPins(file) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new FetchPluginError(
      `no checksums pinned (${file} is missing): a release engineer runs resources/fetch-plugin --pin with network access, reviews and commits the file`,
    );
  }
  const pins = JSON.parse(text);
  for (const [target, pin] of Object.entries(pins.packages ?? {})) {
    if (typeof pin?.url !== 'string' || !/^[0-9a-f]{64}$/.test(pin?.sha256 ?? '')) {
      throw new FetchPluginError(`${file}: the pin for ${target} needs a url and a 64-hex-digit sha256`);
    }
  }
  return pins;
}

async function download(url) {
  let response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (error) {
    throw new FetchPluginError(`cannot download ${url}: ${error.cause?.message ?? error.message}`);
  }
  if (!response.ok) throw new FetchPluginError(`cannot download ${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** The members of an `ar` archive (a .deb is one): name → bytes. */
function readAr(bytes) {
  if (bytes.subarray(0, 8).toString('latin1') !== '!<arch>\n')
    throw new FetchPluginError('not a .deb (ar) archive');
  const members = new Map();
  let offset = 8;
  while (offset + 60 <= bytes.length) {
    const name = bytes
      .subarray(offset, offset + 16)
      .toString('latin1')
      .trim()
      .replace(/\/$/, '');
    const size = Number.parseInt(
      bytes
        .subarray(offset + 48, offset + 58)
        .toString('latin1')
        .trim(),
      10,
    );
    offset += 60;
    members.set(name, bytes.subarray(offset, offset + size));
    offset += size + (size % 2);
  }
  return members;
}

/** A tar member's decompressed bytes: gzip and plain natively, xz and zstd through the system tool. */
function decompressTar(name, bytes) {
  if (name.endsWith('.tar') || name.endsWith('.tar.gz')) return bytes; // node-tar gunzips itself
  const tool = name.endsWith('.xz') ? 'xz' : name.endsWith('.zst') ? 'zstd' : undefined;
  if (!tool) throw new FetchPluginError(`unsupported package member ${name}`);
  const result = spawnSync(tool, ['-dc'], { input: bytes, maxBuffer: 512 * 1024 * 1024 });
  if (result.status !== 0) throw new FetchPluginError(`${name} needs the ${tool} tool to unpack`);
  return result.stdout;
}

async function fileFromTar(bytes, wanted) {
  return new Promise((resolve, reject) => {
    let found;
    const parser = new TarParser({
      onReadEntry: (entry) => {
        if (path.posix.basename(entry.path) === wanted && entry.type === 'File') {
          const chunks = [];
          entry.on('data', (chunk) => chunks.push(chunk));
          entry.on('end', () => (found = Buffer.concat(chunks)));
        } else entry.resume();
      },
    });
    parser.on('end', () => resolve(found));
    parser.on('error', reject);
    Readable.from([bytes]).pipe(parser);
  });
}

/** The plugin executable out of AWS's package: a .deb (Linux) or a zip, possibly nested (macOS, Windows). */
export async function extractPlugin(packageBytes, url, wanted) {
  if (url.endsWith('.deb')) {
    for (const [name, member] of readAr(packageBytes)) {
      if (name.startsWith('data.tar')) {
        const file = await fileFromTar(decompressTar(name, member), wanted);
        if (file) return file;
      }
    }
  } else if (url.endsWith('.zip')) {
    const entries = unzipSync(new Uint8Array(packageBytes));
    for (const [name, data] of Object.entries(entries)) {
      if (path.posix.basename(name) === wanted) return Buffer.from(data);
    }
    for (const [name, data] of Object.entries(entries)) {
      if (name.endsWith('.zip')) {
        const inner = await extractPlugin(Buffer.from(data), name, wanted).catch(() => undefined);
        if (inner) return inner;
      }
    }
  } else {
    throw new FetchPluginError(`unsupported package type: ${url}`);
  }
  throw new FetchPluginError(`${url} holds no ${wanted}`);
}

/** Downloads, verifies and extracts each target's plugin into out/<target>/. */
export async function fetchPlugins({
  targets,
  pins: pinsFile = defaults.pins,
  out = defaults.out,
  log = console.log,
}) {
  const pins = await readPins(pinsFile);
  const wanted = targets?.length ? targets : Object.keys(pins.packages);
  for (const target of wanted) {
    if (!pins.packages[target]) {
      throw new FetchPluginError(
        `no checksum pinned for ${target} in ${pinsFile}: run resources/fetch-plugin --pin`,
      );
    }
  }
  for (const target of wanted) {
    const { url, sha256: expected } = pins.packages[target];
    const bytes = await download(url);
    const actual = sha256(bytes);
    if (actual !== expected) {
      throw new FetchPluginError(
        `checksum mismatch for ${target} (${url}): expected sha256 ${expected}, got ${actual}; refusing it, nothing written`,
      );
    }
    const name = binaryName(target);
    const binary = await extractPlugin(bytes, url, name);
    const dir = path.join(out, target);
    await mkdir(dir, { recursive: true });
    // Written beside, then renamed: a failed run never leaves half a binary where the app looks.
    const staging = path.join(dir, `.${name}.partial`);
    await writeFile(staging, binary);
    await chmod(staging, 0o755);
    await rename(staging, path.join(dir, name));
    log(
      `${target}: session-manager-plugin ${pins.version} (package sha256 ${actual}) → ${path.join(dir, name)}`,
    );
  }
}

/** The explicit pin step: downloads every package once and records its SHA-256. */
export async function pinPlugins({
  sources: sourcesFile = defaults.sources,
  pins: pinsFile = defaults.pins,
  log = console.log,
}) {
  const { version, urls } = await readSources(sourcesFile);
  const packages = {};
  for (const [target, url] of Object.entries(urls)) {
    const bytes = await download(url);
    // Only a package that really holds the plugin gets pinned.
    await extractPlugin(bytes, url, binaryName(target));
    packages[target] = { url, sha256: sha256(bytes) };
    log(`${target}: ${url} sha256 ${packages[target].sha256}`);
  }
  const pins = {
    comment: 'Written by resources/fetch-plugin --pin; review the URLs and checksums before committing.',
    version,
    pinnedAt: new Date().toISOString(),
    packages,
  };
  await writeFile(pinsFile, `${JSON.stringify(pins, null, 2)}\n`);
  log(`pinned ${Object.keys(packages).length} packages of session-manager-plugin ${version} in ${pinsFile}`);
}

async function main() {
  const { values, positionals } = parseArgs({
    options: {
      pin: { type: 'boolean', default: false },
      sources: { type: 'string' },
      pins: { type: 'string' },
      out: { type: 'string' },
    },
    allowPositionals: true,
  });
  try {
    if (values.pin) await pinPlugins({ sources: values.sources, pins: values.pins });
    else await fetchPlugins({ targets: positionals, pins: values.pins, out: values.out });
  } catch (error) {
    console.error(`fetch-plugin: ${error instanceof FetchPluginError ? error.message : error.stack}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
