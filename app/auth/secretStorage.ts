/**
 * Which store keeps tokens encrypted at rest: Electron's `safeStorage` when it
 * is backed by a real OS keystore, otherwise RoleShell's own key file
 * (`createKeyFileCipher`). On Linux without a keyring, safeStorage still says
 * encryption is available but uses the `basic_text` backend, a password built
 * into Chromium: that protects nothing, so the key file (random, 0600) is used
 * there. Plain module, no Electron import: main/ passes its `safeStorage` in.
 */
import type { SecretCipher } from './secretStore';

/** The part of Electron's `safeStorage` this needs. */
export interface SafeStorageApi {
  isEncryptionAvailable(): boolean;
  /** Linux only (after app ready): basic_text, gnome_libsecret, kwallet, kwallet5, kwallet6 or unknown. */
  getSelectedStorageBackend?(): string;
  encryptString(plain: string): Buffer;
  decryptString(data: Buffer): string;
}

/** Shown in Settings (and getAppInfo) so the user knows how their tokens are kept. */
export interface SecretStorageInfo {
  kind: 'osKeystore' | 'keyFile';
  /** One sentence for the Settings screen. */
  description: string;
}

/** Linux backends that keep the encryption key in a real keyring. */
const keyringBackends = new Set(['gnome_libsecret', 'kwallet', 'kwallet5', 'kwallet6']);

const osKeystoreNames: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'the macOS Keychain',
  win32: 'Windows DPAPI',
};

export function keyFileStorage(reason: string): SecretStorageInfo {
  return {
    kind: 'keyFile',
    description: `Tokens are encrypted with RoleShell's own key file (secrets.key in the data folder, readable only by you): ${reason}.`,
  };
}

export function chooseSecretStorage(
  safeStorage: SafeStorageApi,
  platform: NodeJS.Platform,
): { cipher: SecretCipher | undefined; info: SecretStorageInfo } {
  if (!safeStorage.isEncryptionAvailable()) {
    return { cipher: undefined, info: keyFileStorage('the operating system offers no keystore') };
  }
  let where = osKeystoreNames[platform] ?? 'the operating system keystore';
  if (platform === 'linux') {
    const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    if (!keyringBackends.has(backend)) {
      return {
        cipher: undefined,
        info: keyFileStorage(
          `no keyring (Secret Service or KWallet) is available, and Electron's fallback (${backend}) uses a fixed built-in password`,
        ),
      };
    }
    where = backend === 'gnome_libsecret' ? 'the Secret Service keyring (libsecret)' : `KWallet (${backend})`;
  }
  return {
    cipher: {
      encrypt: (plain) => safeStorage.encryptString(plain),
      decrypt: (data) => safeStorage.decryptString(data),
    },
    info: { kind: 'osKeystore', description: `Tokens are encrypted with a key kept in ${where}.` },
  };
}
