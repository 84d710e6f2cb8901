import { describe, expect, it } from 'vitest';
import { chooseSecretStorage, type SafeStorageApi } from './secretStorage';

/** A stand-in for Electron's safeStorage, reversible so the chosen cipher can be exercised. */
function safeStorage(available: boolean, backend?: string): SafeStorageApi & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    isEncryptionAvailable: () => available,
    ...(backend ? { getSelectedStorageBackend: () => backend } : {}),
    encryptString: (plain) => (calls.push('encrypt'), Buffer.from(plain).reverse()),
    decryptString: (data) => (calls.push('decrypt'), Buffer.from(data).reverse().toString()),
  };
}

describe('chooseSecretStorage', () => {
  it('uses the key file on Linux when safeStorage falls back to basic_text (a fixed password)', () => {
    const storage = safeStorage(true, 'basic_text');
    const chosen = chooseSecretStorage(storage, 'linux');
    expect(chosen.cipher).toBeUndefined();
    expect(chosen.info).toEqual({
      kind: 'keyFile',
      description: expect.stringMatching(/own key file .*no keyring .*basic_text.*fixed built-in password/),
    });
    expect(storage.calls).toEqual([]);
  });

  it.each(['unknown', 'something_new'])('uses the key file on Linux for backend %s', (backend) => {
    expect(chooseSecretStorage(safeStorage(true, backend), 'linux').info.kind).toBe('keyFile');
  });

  it.each([
    ['gnome_libsecret', /Secret Service keyring \(libsecret\)/],
    ['kwallet5', /KWallet \(kwallet5\)/],
  ])('uses safeStorage on Linux with the %s keyring', (backend, where) => {
    const storage = safeStorage(true, backend);
    const chosen = chooseSecretStorage(storage, 'linux');
    expect(chosen.info).toEqual({ kind: 'osKeystore', description: expect.stringMatching(where) });
    expect(chosen.cipher!.decrypt(chosen.cipher!.encrypt('token'))).toBe('token');
    expect(storage.calls).toEqual(['encrypt', 'decrypt']);
  });

  it('uses safeStorage on macOS and Windows, and the key file when no keystore is available', () => {
    expect(chooseSecretStorage(safeStorage(true), 'darwin').info.description).toMatch(/macOS Keychain/);
    expect(chooseSecretStorage(safeStorage(true), 'win32').info.description).toMatch(/DPAPI/);
    const none = chooseSecretStorage(safeStorage(false), 'darwin');
    expect(none.cipher).toBeUndefined();
    expect(none.info.kind).toBe('keyFile');
  });
});
