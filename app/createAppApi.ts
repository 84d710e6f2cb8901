/**
 * The app core's single entry point. Electron's main process binds `handlers`
 * to `ipcMain` and `subscribe` to `webContents.send`; the e2e/web host binds the
 * very same object to a loopback WebSocket. Each domain contributes its calls
 * through a factory taking the shared `AppContext`:
 *
 *   handlers = { ...createSettingsHandlers(ctx), ...createAuthHandlers(ctx), ... }
 *
 * To add a domain: define its calls in `app/api/calls/<domain>.ts`, write
 * `create<Domain>Handlers(ctx)` next to its code, and spread it in below.
 */
import { ApiError } from './api/errors';
import type { CallHandlers, EventSink } from './api/dispatch';
import type { AppContext, AppLog, AppMode, SecretCipher } from './appContext';
import { checkedExternalUrl } from './externalUrl';
import { createSettingsStore } from './settings/store';
import { createSettingsHandlers } from './settings/handlers';
import { createAuthHandlers } from './auth/handlers';
import { createBrowseHandlers } from './targets/handlers';
import type { IdentityCenterOptions, RunningSandbox } from './auth/identityCenter';
import { startLocalSandbox } from './auth/localSandbox';
import { keyFileStorage, type SecretStorageInfo } from './auth/secretStorage';

export type { AppContext, AppMode, SecretCipher } from './appContext';

export interface AppApiOptions {
  /** The app data folder: settings.json, caches. Created on first write. */
  dataDir: string;
  /** Environment for overrides (defaults to process.env); tests pass their own. */
  env?: NodeJS.ProcessEnv;
  mode: AppMode;
  /** Opens an allowed URL in the system browser (Electron: shell.openExternal). */
  openExternal?: (url: string) => Promise<void>;
  /** Encrypts secrets at rest (Electron: safeStorage, when backed by an OS keystore; see chooseSecretStorage). */
  secretCipher?: SecretCipher;
  /** What `secretCipher` is, for Settings to say; default: an OS keystore if a cipher is given, else the key file. */
  secretStorage?: SecretStorageInfo;
  log?: AppLog;
  /** Starts the local sandbox for "Try the local sandbox" (default: sandbox/ in this process). */
  startSandbox?: () => Promise<RunningSandbox>;
}

export interface AppApi {
  handlers: CallHandlers;
  /** Receives every event until the returned function is called. */
  subscribe(sink: EventSink): () => void;
  /** Runs every domain's cleanup; the object must not be used afterwards. */
  close(): Promise<void>;
}

export function createAppApi(options: AppApiOptions): AppApi {
  const sinks = new Set<EventSink>();
  const cleanups: Array<() => void | Promise<void>> = [];
  const env = options.env ?? process.env;
  const log: AppLog =
    options.log ??
    ((message, error) => {
      console.error(`[roleshell] ${message}`, ...(error === undefined ? [] : [error]));
    });
  const open = options.openExternal;

  const ctx: AppContext = {
    dataDir: options.dataDir,
    env,
    mode: options.mode,
    settings: createSettingsStore({ dataDir: options.dataDir, env }),
    emit(event, payload) {
      for (const sink of sinks) {
        try {
          sink(event, payload);
        } catch (error) {
          // One closed window or socket must not stop the others from hearing the event.
          log(`event ${event} could not be delivered`, error);
        }
      }
    },
    async openExternal(url, urlOptions) {
      // The browser gets the normalised URL that was checked, never the raw string.
      const checked = checkedExternalUrl(url, urlOptions);
      if (!checked) {
        throw new ApiError('AccessDenied', 'RoleShell opens only IAM Identity Center pages in your browser.');
      }
      if (!open) throw new ApiError('Unavailable', `Open this page in your browser: ${checked}`);
      await open(checked);
    },
    secretCipher: options.secretCipher,
    secretStorage:
      options.secretStorage ??
      (options.secretCipher
        ? {
            kind: 'osKeystore',
            description: 'Tokens are encrypted with a key kept in the operating system keystore.',
          }
        : keyFileStorage('this host has no OS keystore to use')),
    log,
    onClose(cleanup) {
      cleanups.push(cleanup);
    },
  };

  const identityCenterOptions: IdentityCenterOptions = {
    startSandbox: options.startSandbox ?? (() => startLocalSandbox((line) => log(`sandbox: ${line}`))),
  };
  const handlers: CallHandlers = {
    ...createSettingsHandlers(ctx),
    ...createAuthHandlers(ctx, identityCenterOptions),
    ...createBrowseHandlers(ctx, identityCenterOptions),
  };

  let closed = false;
  return {
    handlers,
    subscribe(sink) {
      sinks.add(sink);
      return () => {
        sinks.delete(sink);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      sinks.clear();
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log('cleanup failed', error);
        }
      }
    },
  };
}
