/**
 * Where tokens and the client registration rest between runs. The store is an
 * interface so the app core never imports Electron: `main/` passes a cipher
 * backed by `safeStorage` (OS keychain / DPAPI / libsecret), and the e2e host and
 * headless runs use the key-file cipher below.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile, rename, chmod } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export interface SecretStore {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** Encrypts one secret at a time. Electron: `safeStorage.encryptString` / `decryptString`. */
export interface SecretCipher {
  encrypt(plain: string): Buffer;
  decrypt(data: Buffer): string;
}

/**
 * One file per secret (name hashed, so file names reveal nothing), written
 * 0600 via a temp file and rename so a crash never leaves half a token.
 * A file that no longer decrypts (key replaced, OS keychain reset) reads as
 * absent: the user signs in again instead of being stuck.
 */
export function createEncryptedFileStore(dir: string, cipher: SecretCipher): SecretStore {
  const fileOf = (name: string) =>
    path.join(dir, `${createHash('sha256').update(name).digest('hex').slice(0, 32)}.secret`);
  return {
    async get(name) {
      let data: Buffer;
      try {
        data = await readFile(fileOf(name));
      } catch {
        return undefined;
      }
      try {
        return cipher.decrypt(data);
      } catch {
        return undefined;
      }
    },
    async set(name, value) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = fileOf(name);
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, cipher.encrypt(value), { mode: 0o600 });
      await chmod(temp, 0o600);
      await rename(temp, file);
    },
    async delete(name) {
      await rm(fileOf(name), { force: true });
    },
  };
}

/**
 * AES-256-GCM with a random key kept in its own 0600 file, for hosts without
 * Electron's safeStorage. This is weaker than safeStorage: the key sits on the
 * same disk as the data, protected only by file permissions, so anyone who can
 * read the user's files (a backup, another process as the same user) can read
 * both. It still keeps tokens out of plain-text files, logs and casual greps.
 */
export function createKeyFileCipher(keyFile: string): SecretCipher {
  let key: Buffer;
  if (existsSync(keyFile)) {
    key = readFileSync(keyFile);
    if (key.length !== 32) throw new Error(`The key file ${keyFile} is not a 32-byte AES key.`);
  } else {
    mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    key = randomBytes(32);
    writeFileSync(keyFile, key, { mode: 0o600, flag: 'wx' });
  }
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), body]);
    },
    decrypt(data) {
      if (data[0] !== 1 || data.length < 29) throw new Error('Unknown secret format.');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(1, 13));
      decipher.setAuthTag(data.subarray(13, 29));
      return Buffer.concat([decipher.update(data.subarray(29)), decipher.final()]).toString('utf8');
    },
  };
}

/** For unit tests of code that needs a store, and for runs that must not persist. */
export function createMemoryStore(): SecretStore & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    get: async (name) => entries.get(name),
    set: async (name, value) => void entries.set(name, value),
    delete: async (name) => void entries.delete(name),
  };
}
