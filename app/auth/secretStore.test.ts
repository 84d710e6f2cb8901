import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEncryptedFileStore, createKeyFileCipher } from './secretStore';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-secrets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('encrypted file store with a key-file cipher', () => {
  it('round-trips a secret, encrypted at rest, files and key 0600', async () => {
    const keyFile = path.join(dir, 'key');
    const store = createEncryptedFileStore(path.join(dir, 'secrets'), createKeyFileCipher(keyFile));
    await store.set('idc:https://corp.awsapps.com/start', '{"accessToken":"aoaAAAAtoken-value"}');
    expect(await store.get('idc:https://corp.awsapps.com/start')).toBe(
      '{"accessToken":"aoaAAAAtoken-value"}',
    );

    const [file] = await readdir(path.join(dir, 'secrets'));
    const raw = await readFile(path.join(dir, 'secrets', file!));
    expect(raw.toString('latin1')).not.toContain('token-value');
    expect(file).not.toContain('corp');
    expect((await stat(path.join(dir, 'secrets', file!))).mode & 0o777).toBe(0o600);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('reads the same secrets with the same key file after a restart', async () => {
    const keyFile = path.join(dir, 'key');
    await createEncryptedFileStore(dir, createKeyFileCipher(keyFile)).set('a', 'value-a');
    expect(await createEncryptedFileStore(dir, createKeyFileCipher(keyFile)).get('a')).toBe('value-a');
  });

  it('treats a secret it cannot decrypt as absent, and delete removes it', async () => {
    await createEncryptedFileStore(dir, createKeyFileCipher(path.join(dir, 'key1'))).set('a', 'value-a');
    const other = createEncryptedFileStore(dir, createKeyFileCipher(path.join(dir, 'key2')));
    expect(await other.get('a')).toBeUndefined();
    await other.delete('a');
    expect((await readdir(dir)).filter((f) => f.endsWith('.secret'))).toEqual([]);
    expect(await other.get('missing')).toBeUndefined();
  });

  it('refuses a key file that is not an AES-256 key', async () => {
    await writeFile(path.join(dir, 'bad'), 'short');
    expect(() => createKeyFileCipher(path.join(dir, 'bad'))).toThrow(/32-byte/);
  });
});
