/**
 * Electron's security checklist, item by item, for what RoleShell implements. The window,
 * navigation, permission and IPC items run main.ts against a stand-in for Electron in
 * main/main.test.ts; this file has the content security policy, the preload's surface and
 * the single-instance lock (a second RoleShell quits before it opens anything).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contentSecurityPolicy } from './appProtocol';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const recorded = vi.hoisted(() => ({
  quits: 0,
  windows: 0,
  ipcHandlers: 0,
  protocolHandlers: 0,
  appEvents: [] as string[],
  exposed: new Map<string, unknown>(),
  invoked: [] as unknown[][],
}));

vi.mock('electron', () => ({
  app: {
    setPath: () => {},
    enableSandbox: () => {},
    // Another RoleShell already runs.
    requestSingleInstanceLock: () => false,
    quit: () => void recorded.quits++,
    on: (event: string) => void recorded.appEvents.push(event),
    whenReady: () => new Promise(() => {}),
    isPackaged: false,
  },
  BrowserWindow: class {
    constructor() {
      recorded.windows++;
    }
  },
  ipcMain: { handle: () => void recorded.ipcHandlers++ },
  protocol: { registerSchemesAsPrivileged: () => {}, handle: () => void recorded.protocolHandlers++ },
  session: {},
  shell: {},
  safeStorage: {},
  utilityProcess: {},
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => recorded.exposed.set(key, api) },
  ipcRenderer: {
    invoke: (...args: unknown[]) => (recorded.invoked.push(args), Promise.resolve('answer')),
    on: () => {},
    removeListener: () => {},
  },
}));

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

async function metaPolicy(): Promise<string> {
  const html = await readFile(path.join(root, 'renderer', 'index.html'), 'utf8');
  return /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)![1]!;
}

describe('content security policy', () => {
  it.each([
    ['the response header', () => Promise.resolve(contentSecurityPolicy)],
    ['renderer/index.html', metaPolicy],
  ])(
    '%s: scripts only from the app, no inline script or eval, nothing else by default',
    async (_, policy) => {
      const csp = directives(await policy());
      expect(csp.get('default-src')).toEqual(["'none'"]);
      expect(csp.get('script-src')).toEqual(["'self'"]);
      expect(csp.get('object-src')).toEqual(["'none'"]);
      expect(csp.get('base-uri')).toEqual(["'none'"]);
      expect(csp.get('connect-src')).toEqual(["'self'"]);
      for (const sources of csp.values()) {
        expect(sources).not.toContain("'unsafe-eval'");
        expect(sources).not.toContain('*');
      }
    },
  );

  it('the header also forbids framing the app', () => {
    expect(directives(contentSecurityPolicy).get('frame-ancestors')).toEqual(["'none'"]);
  });
});

describe('single-instance lock', () => {
  beforeAll(async () => {
    await import('./main');
  });
  afterAll(() => {
    vi.resetModules();
  });

  it('a second instance quits before opening a window, serving the app or answering IPC', () => {
    expect(recorded.quits).toBe(1);
    expect(recorded.windows).toBe(0);
    expect(recorded.ipcHandlers).toBe(0);
    expect(recorded.protocolHandlers).toBe(0);
    expect(recorded.appEvents).not.toContain('web-contents-created');
  });
});

describe('preload', () => {
  it('exposes only window.roleshell with call, on and onOutput, never ipcRenderer', async () => {
    await import('./preload');
    expect([...recorded.exposed.keys()]).toEqual(['roleshell']);
    const bridge = recorded.exposed.get('roleshell') as Record<string, unknown>;
    expect(Object.keys(bridge).sort()).toEqual(['call', 'on', 'onOutput']);
    await expect(
      (bridge.call as (n: string, i: unknown) => Promise<unknown>)('getAppInfo', undefined),
    ).resolves.toBe('answer');
    expect(recorded.invoked).toEqual([['roleshell:call', 'getAppInfo', undefined]]);
  });
});
