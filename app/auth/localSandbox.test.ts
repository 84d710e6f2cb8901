/**
 * The local sandbox in its own process: the real bundle (scripts/build-sandbox.mjs)
 * forked with Node, spoken to with the real AWS SDK, and gone after close().
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegisterClientCommand, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findDefaultOrg, forkNodeSandbox, localSandboxLayout, startLocalSandbox } from './localSandbox';
import type { RunningSandbox } from './identityCenter';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-org-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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

  it('finds nothing when no source tree is around', () => {
    expect(findDefaultOrg([dir])).toBeUndefined();
  });
});

describe('localSandboxLayout', () => {
  it('uses the org and broker bundle shipped in a packaged app’s resources', async () => {
    await mkdir(path.join(dir, 'resources', 'sandbox'), { recursive: true });
    await writeFile(path.join(dir, 'resources', 'sandbox', 'default.yaml'), 'users: []');
    const appDir = path.join(dir, 'resources', 'app.asar');
    expect(localSandboxLayout({ appDir, resourcesDir: path.join(dir, 'resources') })).toEqual({
      entry: path.join(appDir, 'dist', 'sandbox', 'sandbox.mjs'),
      start: {
        type: 'start',
        org: path.join(dir, 'resources', 'sandbox', 'default.yaml'),
        root: path.join(dir, 'resources', 'sandbox'),
        brokerBundle: path.join(dir, 'resources', 'sandbox', 'broker.mjs'),
      },
    });
  });

  it('falls back to the checkout’s org (the broker bundled from source) when resources have none', () => {
    expect(localSandboxLayout({ appDir: repoRoot, resourcesDir: path.join(repoRoot, 'resources') })).toEqual({
      entry: path.join(repoRoot, 'dist', 'sandbox', 'sandbox.mjs'),
      start: { type: 'start', org: path.join(repoRoot, 'sandbox', 'org', 'default.yaml') },
    });
  });
});

describe('startLocalSandbox', () => {
  let running: RunningSandbox | undefined;
  beforeAll(async () => {
    // @ts-expect-error: plain ESM build script without type declarations
    const { buildSandbox } = (await import('../../scripts/build-sandbox.mjs')) as {
      buildSandbox: () => Promise<{ outfile: string }>;
    };
    await buildSandbox();
  }, 120_000);
  afterAll(async () => {
    await running?.close();
  });

  it('runs the sandbox in its own process, which answers the real SDK and is gone after close()', async () => {
    const lines: string[] = [];
    running = await startLocalSandbox({ appDir: repoRoot, log: (line) => lines.push(line) });
    const pid = running.pid!;
    expect(pid).toEqual(expect.any(Number));
    expect(pid).not.toBe(process.pid);
    expect(alive(pid)).toBe(true);
    expect(lines).toContain(`running as process ${pid} at ${running.endpoint}`);
    expect(running.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.brokerFunctionArn).toMatch(/^arn:aws:lambda:.+:function:roleshell-broker$/);
    expect(running.regions.length).toBeGreaterThan(0);

    const oidc = new SSOOIDCClient({ region: running.region, endpoint: running.endpoint });
    const client = await oidc.send(
      new RegisterClientCommand({ clientName: 'roleshell-test', clientType: 'public' }),
    );
    oidc.destroy();
    expect(client.clientId).toEqual(expect.any(String));

    await running.close();
    expect(alive(pid)).toBe(false);
    expect(lines).toContain(`process ${pid} exited (code 0)`);
    running = undefined;
  }, 60_000);

  it('reports the sandbox’s own error when it cannot start (a broken org file), and leaves no process', async () => {
    await mkdir(path.join(dir, 'sandbox'), { recursive: true });
    await writeFile(path.join(dir, 'sandbox', 'default.yaml'), 'users: [');
    await expect(startLocalSandbox({ appDir: repoRoot, resourcesDir: dir })).rejects.toThrow(
      /org file .*default\.yaml is not valid YAML/i,
    );
  }, 60_000);

  it('says the sandbox is not built when its bundle is missing', async () => {
    await mkdir(path.join(dir, 'sandbox', 'org'), { recursive: true });
    await copyFile(
      path.join(repoRoot, 'sandbox', 'org', 'default.yaml'),
      path.join(dir, 'sandbox', 'org', 'default.yaml'),
    );
    await expect(startLocalSandbox({ appDir: dir })).rejects.toThrow(
      /The sandbox is not built: .*dist\/sandbox\/sandbox\.mjs is missing \(npm run build:sandbox/,
    );
  });

  it('kills a sandbox process that never reports ready', async () => {
    const entry = path.join(dir, 'dist', 'sandbox', 'sandbox.mjs');
    await mkdir(path.dirname(entry), { recursive: true });
    // A process that keeps running and never answers.
    await writeFile(entry, 'setInterval(() => {}, 1000);\n');
    await mkdir(path.join(dir, 'sandbox', 'org'), { recursive: true });
    await writeFile(path.join(dir, 'sandbox', 'org', 'default.yaml'), 'users: []');
    let pid: number | undefined;
    await expect(
      startLocalSandbox({
        appDir: dir,
        startTimeoutMs: 500,
        fork: (file) => {
          const child = forkNodeSandbox(file);
          pid = child.pid;
          return child;
        },
      }),
    ).rejects.toThrow(/did not report ready within 0.5 s/);
    await expect.poll(() => alive(pid!), { timeout: 5_000 }).toBe(false);
  });
});
