import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_RECENTS, PreferencesStore } from './preferences';

const alice = { startUrl: 'https://my-org.awsapps.com/start', userName: 'alice' };
const bob = { startUrl: 'https://my-org.awsapps.com/start', userName: 'bob' };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-prefs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const target = (n: number) => ({
  key: `222222222222/ReadOnly/eu-west-1/i-0000000000000000${n.toString(16)}`,
  accountId: '222222222222',
  accountName: 'prod',
  permissionSet: 'ReadOnly',
  region: 'eu-west-1',
  instanceId: `i-0000000000000000${n.toString(16)}`,
  name: `web-${n}`,
  linuxUser: 'auditor',
});

describe('PreferencesStore', () => {
  it('keeps favourites across a restart and removes them on request', async () => {
    await new PreferencesStore(dir).setFavourite(alice, target(1), true);
    await new PreferencesStore(dir).setFavourite(alice, target(2), true);
    const reopened = new PreferencesStore(dir);
    expect((await reopened.get(alice)).favourites.map((f) => f.name)).toEqual(['web-1', 'web-2']);
    await reopened.setFavourite(alice, target(1), false);
    expect((await new PreferencesStore(dir).get(alice)).favourites.map((f) => f.name)).toEqual(['web-2']);
  });

  it('keeps the most recent connections first, without duplicates, at most 20', async () => {
    const store = new PreferencesStore(dir);
    for (let i = 0; i < 25; i++) await store.recordRecent(alice, target(i % 22));
    const { recents } = await store.get(alice);
    expect(recents).toHaveLength(MAX_RECENTS);
    expect(recents[0]?.name).toBe('web-2');
    expect(new Set(recents.map((r) => r.key)).size).toBe(MAX_RECENTS);
  });

  it('starts empty when the file is not readable JSON', async () => {
    await writeFile(path.join(dir, 'browse-preferences.json'), '{oops');
    expect(await new PreferencesStore(dir).get(alice)).toEqual({ favourites: [], recents: [] });
  });

  it('keeps each identity its own lists, the same start URL written differently being one identity', async () => {
    const store = new PreferencesStore(dir);
    await store.setFavourite(alice, target(1), true);
    await store.recordRecent(alice, target(2));
    await store.setFavourite(bob, target(3), true);
    const reopened = new PreferencesStore(dir);
    expect((await reopened.get(bob)).favourites.map((f) => f.name)).toEqual(['web-3']);
    expect((await reopened.get(bob)).recents).toEqual([]);
    expect((await reopened.get(alice)).favourites.map((f) => f.name)).toEqual(['web-1']);
    const aliceAgain = { startUrl: 'https://MY-ORG.awsapps.com/start/', userName: 'alice' };
    expect((await reopened.get(aliceAgain)).recents.map((r) => r.name)).toEqual(['web-2']);
    const otherOrg = { startUrl: 'https://other.awsapps.com/start', userName: 'alice' };
    expect(await reopened.get(otherOrg)).toEqual({ favourites: [], recents: [] });
    // User names from outside cannot reach Object.prototype.
    expect(await reopened.get({ startUrl: alice.startUrl, userName: '__proto__' })).toEqual({
      favourites: [],
      recents: [],
    });
  });

  it('shows nobody the lists of a file from before identities were kept apart', async () => {
    await writeFile(
      path.join(dir, 'browse-preferences.json'),
      JSON.stringify({ favourites: [{ ...target(1), at: 1 }], recents: [] }),
    );
    expect(await new PreferencesStore(dir).get(alice)).toEqual({ favourites: [], recents: [] });
  });
});
