import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findCliCacheEntry } from './cliCache';

let home: string;
const now = Date.UTC(2026, 0, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

async function cache(name: string, data: unknown): Promise<void> {
  const dir = path.join(home, '.aws', 'sso', 'cache');
  await mkdir(dir, { recursive: true });
  const file = `${createHash('sha1').update(name).digest('hex')}.json`;
  await writeFile(path.join(dir, file), typeof data === 'string' ? data : JSON.stringify(data), {
    mode: 0o600,
  });
}

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'roleshell-home-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const startUrl = 'https://corp.awsapps.com/start';

describe('findCliCacheEntry', () => {
  it('finds a valid sso-session entry for the same start URL, with its registration', async () => {
    await cache('corp', {
      startUrl: `${startUrl}/#/`,
      region: 'eu-west-1',
      accessToken: 'aoa-cli',
      expiresAt: iso(now + 3_000_000),
      clientId: 'cid',
      clientSecret: 'csecret',
      registrationExpiresAt: iso(now + 86_400_000),
      refreshToken: 'aor-cli',
    });
    const entry = await findCliCacheEntry({ home, startUrl, now });
    expect(entry).toMatchObject({
      region: 'eu-west-1',
      tokens: { accessToken: 'aoa-cli', refreshToken: 'aor-cli', expiresAt: now + 3_000_000 },
      registration: { clientId: 'cid', clientSecret: 'csecret', region: 'eu-west-1' },
    });
  });

  it('reads the legacy "UTC" time format', async () => {
    await cache(startUrl, {
      startUrl,
      region: 'us-east-1',
      accessToken: 'aoa-legacy',
      expiresAt: iso(now + 3_000_000).replace('Z', 'UTC'),
    });
    expect((await findCliCacheEntry({ home, startUrl, now }))?.tokens.expiresAt).toBe(now + 3_000_000);
  });

  it('ignores other start URLs, expired tokens without a way to refresh, and junk files', async () => {
    await cache('other', {
      startUrl: 'https://other.awsapps.com/start',
      region: 'eu-west-1',
      accessToken: 'x',
      expiresAt: iso(now + 3e6),
    });
    await cache('expired', {
      startUrl,
      region: 'eu-west-1',
      accessToken: 'old',
      expiresAt: iso(now - 1000),
      refreshToken: 'r',
    });
    await cache('junk', 'not json');
    await cache('botocore-client-id', { clientId: 'x', clientSecret: 'y', expiresAt: iso(now + 3e6) });
    expect(await findCliCacheEntry({ home, startUrl, now })).toBeUndefined();
  });

  it('accepts an expired access token when the refresh token and registration are still good', async () => {
    await cache('corp', {
      startUrl,
      region: 'eu-west-1',
      accessToken: 'old',
      expiresAt: iso(now - 1000),
      clientId: 'cid',
      clientSecret: 'cs',
      registrationExpiresAt: iso(now + 86_400_000),
      refreshToken: 'aor',
    });
    expect((await findCliCacheEntry({ home, startUrl, now }))?.tokens.refreshToken).toBe('aor');
  });

  it('finds nothing when there is no CLI cache at all', async () => {
    expect(await findCliCacheEntry({ home, startUrl, now })).toBeUndefined();
  });
});
