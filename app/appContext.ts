/**
 * The one context every domain's handler factory receives. `createAppApi`
 * builds it once; `createSettingsHandlers(ctx)`, `createAuthHandlers(ctx)`,
 * `createBrowseHandlers(ctx)` … each return their slice of `CallHandlers`.
 */
import type { EventName, EventPayload } from './api/calls';
import type { SettingsStore } from './settings/store';

export type AppMode = 'electron' | 'web';

/** Encrypts small secrets at rest: Electron's `safeStorage` in the app; absent in the web host. */
export interface SecretProtector {
  /** False when the OS offers no keychain (then callers keep secrets in memory only, and say so). */
  isAvailable(): boolean;
  encrypt(plainText: string): Buffer;
  decrypt(cipherText: Buffer): string;
}

export type AppLog = (message: string, error?: unknown) => void;

export interface AppContext {
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly mode: AppMode;
  readonly settings: SettingsStore;
  /** Sends an event to every subscribed window (IPC) or socket (web host). */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** Opens a URL in the system browser, only if `isAllowedExternalUrl` allows it. */
  openExternal(url: string): Promise<void>;
  readonly secrets: SecretProtector | undefined;
  readonly log: AppLog;
  /** Registers cleanup (timers, child processes, sockets) run by `close()`, last registered first. */
  onClose(cleanup: () => void | Promise<void>): void;
}
