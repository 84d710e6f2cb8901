/**
 * Electron main process: one window, hardened; the app core from `app/`
 * bound to a single IPC channel. Everything with logic lives in `app/` (tested
 * without Electron); this file only wires Electron to it.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  app,
  BrowserWindow,
  ipcMain,
  protocol,
  safeStorage,
  session,
  shell,
  type IpcMainInvokeEvent,
} from 'electron';
import { dispatchCall } from '../app/api/dispatch';
import type { AppLog } from '../app/appContext';
import { createAppApi, type AppApi } from '../app/createAppApi';
import { createFileLog } from '../app/fileLog';
import { chooseSecretStorage } from '../app/auth/secretStorage';
import {
  appEntryUrl,
  appScheme,
  contentSecurityPolicy,
  contentTypes,
  isTrustedSender,
  resolveRendererRequest,
} from './appProtocol';
import { callChannel, eventChannel } from './channels';

// dist/main/main.cjs → dist/renderer (same layout inside the packaged app).
const rendererDir = path.join(__dirname, '..', 'renderer');

protocol.registerSchemesAsPrivileged([
  { scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
// Tests and portable use: a throwaway data folder instead of the per-user one.
if (process.env.ROLESHELL_DATA_DIR) app.setPath('userData', path.resolve(process.env.ROLESHELL_DATA_DIR));
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let api: AppApi | undefined;
  let mainWindow: BrowserWindow | undefined;

  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });

  // Every webContents (window, devtools, anything later): no navigation, no new windows, no webviews.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    // The renderer opens nothing itself: IdC pages go through the app core, which knows the start URL.
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  void app.whenReady().then(() => {
    serveRenderer();
    hardenSession();
    const log = createFileLog({ dir: path.join(app.getPath('userData'), 'logs'), echo: !app.isPackaged });
    log(`RoleShell ${app.getVersion()} starting`);
    const secretStorage = chooseSecretStorage(safeStorage, process.platform);
    api = createAppApi({
      dataDir: app.getPath('userData'),
      log,
      mode: 'electron',
      openExternal: (url) => shell.openExternal(url),
      // safeStorage only where an OS keystore backs it (not Linux's basic_text); else the key file.
      secretCipher: secretStorage.cipher,
      secretStorage: secretStorage.info,
    });
    bindIpc(api, log);
    mainWindow = createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting || !api) return;
    // Let sessions and child processes end cleanly before Electron exits.
    event.preventDefault();
    quitting = true;
    void api.close().finally(() => app.quit());
  });
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'RoleShell',
    show: false,
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(appEntryUrl);
  return window;
}

function serveRenderer(): void {
  protocol.handle(appScheme, async (request) => {
    const resolved = resolveRendererRequest(request.url, rendererDir);
    if (resolved.status !== 200) {
      return new Response(resolved.status === 400 ? 'Bad request' : 'Not found', { status: resolved.status });
    }
    const { file } = resolved;
    try {
      const body = await readFile(file);
      return new Response(body, {
        headers: {
          'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream',
          'content-security-policy': contentSecurityPolicy,
          'x-content-type-options': 'nosniff',
        },
      });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}

function hardenSession(): void {
  const ses = session.defaultSession;
  // The CSP header on every response, whatever served it.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] },
    });
  });
  // RoleShell needs no camera, notifications, geolocation …
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

function bindIpc(api: AppApi, log: AppLog): void {
  ipcMain.handle(callChannel, async (event: IpcMainInvokeEvent, name: unknown, input: unknown) => {
    if (!isTrustedSender(senderOf(event))) {
      log(`refused IPC call from ${event.senderFrame?.url ?? 'a destroyed frame'}`);
      return { ok: false, error: { code: 'AccessDenied', message: 'This page may not use RoleShell.' } };
    }
    return dispatchCall(api.handlers, name, input, log);
  });
  api.subscribe((name, payload) => {
    for (const window of BrowserWindow.getAllWindows()) {
      const contents = window.webContents;
      if (!contents.isDestroyed() && isTrustedSender(senderOf({ senderFrame: contents.mainFrame }))) {
        contents.send(eventChannel, name, payload);
      }
    }
  });
}

function senderOf(event: {
  senderFrame: Electron.WebFrameMain | null;
}): { url: string; isMainFrame: boolean } | null {
  const frame = event.senderFrame;
  if (!frame) return null;
  return { url: frame.url, isMainFrame: frame.parent === null };
}
