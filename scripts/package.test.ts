/**
 * `npm run package:dir` where no Electron binary can be downloaded: one clear line, exit 1,
 * nothing built. The download is pointed at a closed loopback port and the cache bypassed,
 * so this holds on any machine, online or not.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('npm run package:dir', () => {
  it('says in one line that no Electron binary could be downloaded, and exits non-zero', async () => {
    const port = await closedPort();
    const result = spawnSync(process.execPath, [path.join(root, 'scripts/package.mjs'), '--dir'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
        // @electron/get's Bypass mode: never answer from a cached zip.
        ELECTRON_DOWNLOAD_CACHE_MODE: '3',
      },
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^package: cannot package RoleShell: no Electron \\d+\\.\\d+\\.\\d+ binary for ${process.platform}-${process.arch} could be downloaded \\(.*ECONNREFUSED.*\\); packaging needs network access`,
      ),
    );
  });
});
