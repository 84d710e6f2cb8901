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
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, type CallResult } from './api/errors';
import { dispatchCall, type CallHandlers, type EventSink } from './api/dispatch';
import type { AppContext, AppLog, AppMode, SecretCipher } from './appContext';
import { checkedExternalUrl } from './externalUrl';
import { createSettingsStore } from './settings/store';
import { createSettingsHandlers } from './settings/handlers';
import { createAuthHandlers } from './auth/handlers';
import { createBrowseHandlers } from './targets/handlers';
import { IdentityCenter, type RunningSandbox } from './auth/identityCenter';
import { startLocalSandbox } from './auth/localSandbox';
import { createSessionHandlers } from './session/handlers';
import type { HostSpawner } from './session/host/protocol';
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
  /** Starts the local sandbox for "Try the local sandbox" (default: its own Node child process). */
  startSandbox?: () => Promise<RunningSandbox>;
  /** Where the bundled session-manager-plugin lives: `process.resourcesPath` when packaged (default: the repo's resources/). */
  resourcesDir?: string;
  /** Starts the session host process (Electron: utilityProcess; default: a Node child process). */
  spawnSessionHost?: HostSpawner;
}

/** One renderer connection's way out: events and its own sessions' output. */
export interface ConnectionTransport {
  sendEvent(name: string, payload: unknown): void;
  sendOutput(id: string, data: Uint8Array): void;
}

/** A renderer connection bound to the core: calls made through it know who made them. */
export interface AppConnection {
  readonly id: string;
  call(name: unknown, input: unknown): Promise<CallResult<unknown>>;
  /** The window or socket is gone: its sessions end. */
  close(): void;
}

/** How long each cleanup may take on close before the next one runs. */
const CLEANUP_TIMEOUT_MS = 8000;
const repoResources = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'resources');

export interface AppApi {
  handlers: CallHandlers;
  /** Receives every broadcast event until the returned function is called. */
  subscribe(sink: EventSink): () => void;
  /**
   * Binds one renderer connection (an Electron window, a web-host socket): the
   * one way `main/` and the web host hand calls to the core and get events and
   * session output back for that connection alone.
   */
  connect(transport: ConnectionTransport): AppConnection;
  /** Runs every domain's cleanup; the object must not be used afterwards. */
  close(): Promise<void>;
}

export function createAppApi(options: AppApiOptions): AppApi {
  const sinks = new Set<EventSink>();
  const connections = new Map<string, ConnectionTransport>();
  const connectionClosedListeners: Array<(connectionId: string) => void> = [];
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
      for (const [id, connection] of connections) {
        try {
          connection.sendEvent(event, payload);
        } catch (error) {
          log(`event ${event} could not be delivered to ${id}`, error);
        }
      }
    },
    emitTo(connectionId, event, payload) {
      try {
        connections.get(connectionId)?.sendEvent(event, payload);
      } catch (error) {
        log(`event ${event} could not be delivered to ${connectionId}`, error);
      }
    },
    sendOutput(connectionId, id, data) {
      try {
        connections.get(connectionId)?.sendOutput(id, data);
      } catch {
        // Never log terminal bytes; the connection's own close handler tidies up.
      }
    },
    onConnectionClosed(listener) {
      connectionClosedListeners.push(listener);
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

  // The signed-in identity: one object, passed to every domain that needs it.
  const identityCenter = new IdentityCenter(ctx, {
    startSandbox:
      options.startSandbox ?? (() => startLocalSandbox({ log: (line) => log(`sandbox: ${line}`) })),
  });
  ctx.onClose(() => identityCenter.close());
  const handlers: CallHandlers = {
    ...createSettingsHandlers(ctx),
    ...createAuthHandlers(ctx, identityCenter),
    ...createBrowseHandlers(ctx, identityCenter),
    ...createSessionHandlers(ctx, identityCenter, {
      resourcesDir: options.resourcesDir ?? repoResources,
      ...(options.spawnSessionHost ? { spawnHost: options.spawnSessionHost } : {}),
    }),
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
    connect(transport) {
      const id = randomUUID();
      connections.set(id, transport);
      const caller = { connectionId: id };
      return {
        id,
        call: (name, input) =>
          closed
            ? Promise.resolve({
                ok: false,
                error: { code: 'Unavailable', message: 'RoleShell is quitting.' },
              } as const)
            : dispatchCall(handlers, name, input, log, caller),
        close() {
          if (!connections.delete(id)) return;
          for (const listener of connectionClosedListeners) {
            try {
              listener(id);
            } catch (error) {
              log('connection cleanup failed', error);
            }
          }
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      sinks.clear();
      // Each cleanup gets its own time limit: one that hangs (a broker call, a stuck process) cannot hold up the rest.
      for (const cleanup of cleanups.reverse()) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(cleanup),
            new Promise<void>((resolve) => {
              timer = setTimeout(() => {
                log(`a cleanup did not finish within ${CLEANUP_TIMEOUT_MS} ms; going on`);
                resolve();
              }, CLEANUP_TIMEOUT_MS);
            }),
          ]);
        } catch (error) {
          log('cleanup failed', error);
        } finally {
          clearTimeout(timer);
        }
      }
      connections.clear();
    },
  };
}
