/**
 * The one context every domain's handler factory receives. `createAppApi`
 * builds it once; `createSettingsHandlers(ctx)`, `createAuthHandlers(ctx)`,
 * `createBrowseHandlers(ctx)` … each return their slice of `CallHandlers`.
 */
import type { EventName, EventPayload } from './api/calls';
import type { SettingsStore } from './settings/store';
import type { ExternalUrlOptions } from './externalUrl';
import type { SecretStorageInfo } from './auth/secretStorage';

export type AppMode = 'electron' | 'web';

/**
 * Encrypts one secret at a time (same shape as `SecretCipher` in app/auth/secretStore.ts).
 * Electron passes `safeStorage` when the OS keychain is available; the web host passes
 * none, and the auth domain falls back to its key-file cipher.
 */
export interface SecretCipher {
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
}

export type AppLog = (message: string, error?: unknown) => void;

export interface AppContext {
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly mode: AppMode;
  readonly settings: SettingsStore;
  /** Sends an event to every subscribed window (IPC) or socket (web host). */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  /** Opens a URL in the system browser, only if `checkedExternalUrl` allows it (and opens the checked form). */
  openExternal(url: string, options?: ExternalUrlOptions): Promise<void>;
  readonly secretCipher: SecretCipher | undefined;
  /** Which store `secretCipher` (or its absence, the key file) amounts to. */
  readonly secretStorage: SecretStorageInfo;
  readonly log: AppLog;
  /** Registers cleanup (timers, child processes, sockets) run by `close()`, last registered first. */
  onClose(cleanup: () => void | Promise<void>): void;
}
