/**
 * No Electron binary runs on our machines, so this drives main.ts against a
 * recording stand-in for the `electron` module: it checks what main asks of
 * Electron (window hardening, CSP, navigation rules) and that its IPC handler
 * answers only the app's own top frame, through the real app API.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type Handler = (...args: unknown[]) => unknown;
const recorded = vi.hoisted(() => ({
  windows: [] as Array<{
    options: Record<string, unknown>;
    url?: string;
    sent: unknown[][];
    window: unknown;
  }>,
  ipc: new Map<string, Handler>(),
  appEvents: new Map<string, Handler>(),
  protocolHandler: undefined as undefined | ((request: { url: string }) => Promise<Response>),
  schemes: [] as unknown[],
  headersHook: undefined as undefined | Handler,
  permissionHandler: undefined as undefined | Handler,
  opened: [] as string[],
  sandboxEnabled: false,
  quits: 0,
  userData: '',
}));

vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => recorded.windows.map((entry) => entry.window);
    webContents: Record<string, unknown>;
    constructor(options: Record<string, unknown>) {
      const entry: (typeof recorded.windows)[number] = { options, sent: [], window: this };
      const mainFrame = {
        get url() {
          return entry.url ?? '';
        },
        parent: null,
      };
      this.webContents = {
        mainFrame,
        isDestroyed: () => false,
        send: (...args: unknown[]) => entry.sent.push(args),
      };
      recorded.windows.push(entry);
    }
    once() {}
    loadURL(url: string) {
      recorded.windows.at(-1)!.url = url;
      return Promise.resolve();
    }
    isMinimized() {
      return false;
    }
  }
  return {
    app: {
      setPath: (_name: string, value: string) => (recorded.userData = value),
      getPath: () => recorded.userData,
      enableSandbox: () => (recorded.sandboxEnabled = true),
      requestSingleInstanceLock: () => true,
      on: (event: string, handler: Handler) => recorded.appEvents.set(event, handler),
      whenReady: () => Promise.resolve(),
      quit: () => {
        recorded.quits++;
      },
      getVersion: () => '0.0.0-test',
      isPackaged: true,
    },
    BrowserWindow,
    ipcMain: { handle: (channel: string, handler: Handler) => recorded.ipc.set(channel, handler) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => recorded.schemes.push(...schemes),
      handle: (_scheme: string, handler: typeof recorded.protocolHandler) =>
        (recorded.protocolHandler = handler),
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (hook: Handler) => (recorded.headersHook = hook) },
        setPermissionRequestHandler: (handler: Handler) => (recorded.permissionHandler = handler),
        setPermissionCheckHandler: () => {},
      },
    },
    shell: { openExternal: async (url: string) => void recorded.opened.push(url) },
    // Linux without a keyring: "available", but on the basic_text backend's fixed password.
    safeStorage: {
      isEncryptionAvailable: () => true,
      getSelectedStorageBackend: () => 'basic_text',
      encryptString: () => {
        throw new Error('safeStorage must not be used on basic_text');
      },
      decryptString: () => {
        throw new Error('safeStorage must not be used on basic_text');
      },
    },
  };
});

let dataDir: string;
const callHandler = () => recorded.ipc.get('roleshell:call')!;
const fromFrame = (url: string, parent: unknown = null) => ({ senderFrame: { url, parent } });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-main-'));
  vi.stubEnv('ROLESHELL_DATA_DIR', dataDir);
  await import('./main');
  await vi.waitFor(() => expect(recorded.windows).toHaveLength(1));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(dataDir, { recursive: true, force: true });
});

describe('Electron main', () => {
  it('opens one hardened window on the app protocol, with the data folder from ROLESHELL_DATA_DIR', () => {
    const [window] = recorded.windows;
    expect(window!.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      preload: expect.stringMatching(/preload\.cjs$/),
    });
    expect(window!.url).toBe('roleshell://app/index.html');
    expect(recorded.sandboxEnabled).toBe(true);
    expect(recorded.userData).toBe(dataDir);
    expect(recorded.schemes).toEqual([
      expect.objectContaining({
        scheme: 'roleshell',
        privileges: expect.objectContaining({ standard: true, secure: true }),
      }),
    ]);
  });

  it('answers IPC calls from the app frame through the real app API', async () => {
    const result = await callHandler()(fromFrame('roleshell://app/index.html'), 'getAppInfo', undefined);
    expect(result).toMatchObject({ ok: true, value: { name: 'RoleShell', mode: 'electron', dataDir } });
  });

  it("keeps tokens in RoleShell's key file, not safeStorage's basic_text, and says so", async () => {
    const result = (await callHandler()(
      fromFrame('roleshell://app/index.html'),
      'getAppInfo',
      undefined,
    )) as {
      value: { secretStorage: { kind: string; description: string } };
    };
    expect(result.value.secretStorage).toEqual(
      process.platform === 'linux'
        ? { kind: 'keyFile', description: expect.stringMatching(/basic_text/) }
        : { kind: 'osKeystore', description: expect.any(String) },
    );
    const settings = (await callHandler()(
      fromFrame('roleshell://app/index.html'),
      'getSettings',
      undefined,
    )) as {
      value: { secretStorage: unknown };
    };
    expect(settings.value.secretStorage).toEqual(result.value.secretStorage);
  });

  it('refuses IPC from an iframe, a foreign page, or a destroyed frame', async () => {
    const denied = { ok: false, error: { code: 'AccessDenied', message: expect.any(String) } };
    expect(
      await callHandler()(fromFrame('roleshell://app/index.html', {}), 'getAppInfo', undefined),
    ).toMatchObject(denied);
    expect(await callHandler()(fromFrame('https://evil.example/'), 'getAppInfo', undefined)).toMatchObject(
      denied,
    );
    expect(await callHandler()({ senderFrame: null }, 'getAppInfo', undefined)).toMatchObject(denied);
    // Refusals are written to the RoleShell log in the data folder.
    const logText = await readFile(path.join(dataDir, 'logs', 'roleshell.log'), 'utf8');
    expect(logText).toContain('refused IPC call from https://evil.example/');
  });

  it('sends events to the app window', async () => {
    recorded.windows[0]!.sent.length = 0;
    const result = await callHandler()(fromFrame('roleshell://app/index.html'), 'saveSettings', {
      ssoRegion: 'eu-west-3',
    });
    expect(result).toMatchObject({ ok: true });
    expect(recorded.windows[0]!.sent).toEqual([
      [
        'roleshell:event',
        'settings.changed',
        expect.objectContaining({ settings: expect.objectContaining({ ssoRegion: 'eu-west-3' }) }),
      ],
    ]);
  });

  it('serves the renderer with the CSP header and nothing outside it', async () => {
    const index = await recorded.protocolHandler!({ url: 'roleshell://app/index.html' });
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const outside = await recorded.protocolHandler!({ url: 'roleshell://app/..%2f..%2fpackage.json' });
    expect(outside.status).toBe(404);
    // A malformed percent-escape is the request's fault, answered, not thrown out of the handler.
    const malformed = await recorded.protocolHandler!({ url: 'roleshell://app/%E0%A4%A' });
    expect(malformed.status).toBe(400);
    const headers = await new Promise<Record<string, string[]>>((resolve) =>
      recorded.headersHook!(
        { responseHeaders: { 'x-a': ['1'] } },
        ({ responseHeaders }: { responseHeaders: Record<string, string[]> }) => resolve(responseHeaders),
      ),
    );
    expect(headers['Content-Security-Policy']?.[0]).toContain("default-src 'none'");
  });

  it('blocks navigation and new windows, opening nothing from a window.open', () => {
    const listeners = new Map<string, Handler>();
    let openHandler: Handler | undefined;
    const contents = {
      on: (event: string, listener: Handler) => listeners.set(event, listener),
      setWindowOpenHandler: (handler: Handler) => (openHandler = handler),
    };
    recorded.appEvents.get('web-contents-created')!({}, contents);
    const navigation = { preventDefault: vi.fn() };
    listeners.get('will-navigate')!(navigation);
    expect(navigation.preventDefault).toHaveBeenCalled();
    expect(openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    // Even an IdC-looking page: which portal is the user's is known to the app core, not here.
    expect(openHandler!({ url: 'https://my-org.awsapps.com/start' })).toEqual({ action: 'deny' });
    expect(recorded.opened).toEqual([]);
  });

  it('denies every permission request', () => {
    const callback = vi.fn();
    recorded.permissionHandler!({}, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
  });

  it('closes the app core before quitting, then quits once', async () => {
    const quit = { preventDefault: vi.fn() };
    recorded.appEvents.get('before-quit')!(quit);
    expect(quit.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(recorded.quits).toBe(1));
    // The second before-quit (from that app.quit()) goes through.
    const again = { preventDefault: vi.fn() };
    recorded.appEvents.get('before-quit')!(again);
    expect(again.preventDefault).not.toHaveBeenCalled();
  });
});
