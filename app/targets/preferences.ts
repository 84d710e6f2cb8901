/**
 * Favourites and recent connections, in one small JSON file in the data folder,
 * kept apart per IdC identity (start URL, IdC user): after alice signs out and
 * bob signs in, bob sees only his own. Replaced whole (temp file + rename) so a
 * crash never leaves half a file; a file that cannot be read starts empty
 * rather than blocking the browse view. A file from before identities were kept
 * apart (one flat list) is not shown to anyone: whose it was is unknown.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowsePreferences, SavedTarget } from '../api/calls/browse';
import { normalizeStartUrl } from '../auth/cliCache';

export const MAX_RECENTS = 20;

/** Who the lists belong to: one IdC user of one IdC instance. */
export interface PreferencesOwner {
  startUrl: string;
  /** The IdC user name (the role session name IdC gives permission-set sessions). */
  userName: string;
}

interface PreferencesFile {
  version: 2;
  /** `ownerKey(owner)` → that identity's lists. */
  identities: Record<string, BrowsePreferences>;
}

const empty = (): BrowsePreferences => ({ favourites: [], recents: [] });

/** Start URL normalised (case, trailing slash, fragment) so `…/start/` and `…/start` are one owner. */
export function ownerKey(owner: PreferencesOwner): string {
  return JSON.stringify([normalizeStartUrl(owner.startUrl), owner.userName]);
}

export class PreferencesStore {
  private readonly file: string;
  private cached: PreferencesFile | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.file = path.join(dataDir, 'browse-preferences.json');
  }

  async get(owner: PreferencesOwner): Promise<BrowsePreferences> {
    const lists = (await this.read()).identities[ownerKey(owner)];
    return lists ? { favourites: [...lists.favourites], recents: [...lists.recents] } : empty();
  }

  private async read(): Promise<PreferencesFile> {
    if (!this.cached) {
      const identities = new Map<string, BrowsePreferences>();
      try {
        const data = JSON.parse(await readFile(this.file, 'utf8')) as Partial<PreferencesFile>;
        if (data.version === 2 && data.identities && typeof data.identities === 'object') {
          for (const [key, lists] of Object.entries(data.identities)) {
            identities.set(key, {
              favourites: Array.isArray(lists?.favourites) ? lists.favourites : [],
              recents: Array.isArray(lists?.recents) ? lists.recents : [],
            });
          }
        }
      } catch {
        // missing or unreadable: start empty
      }
      this.cached = { version: 2, identities: Object.fromEntries(identities) };
    }
    return this.cached;
  }

  setFavourite(
    owner: PreferencesOwner,
    target: Omit<SavedTarget, 'at'>,
    favourite: boolean,
  ): Promise<BrowsePreferences> {
    return this.update(owner, (p) => ({
      ...p,
      favourites: favourite
        ? [...p.favourites.filter((f) => f.key !== target.key), { ...target, at: this.now() }]
        : p.favourites.filter((f) => f.key !== target.key),
    }));
  }

  recordRecent(owner: PreferencesOwner, target: Omit<SavedTarget, 'at'>): Promise<BrowsePreferences> {
    return this.update(owner, (p) => ({
      ...p,
      recents: [{ ...target, at: this.now() }, ...p.recents.filter((r) => r.key !== target.key)].slice(
        0,
        MAX_RECENTS,
      ),
    }));
  }

  /** One read-modify-write at a time. */
  private update(
    owner: PreferencesOwner,
    change: (p: BrowsePreferences) => BrowsePreferences,
  ): Promise<BrowsePreferences> {
    const run = this.queue.then(async () => {
      const current = await this.read();
      const key = ownerKey(owner);
      const lists = change(current.identities[key] ?? empty());
      // A Map-built copy: owner keys come from outside and must not reach Object.prototype.
      const identities = new Map(Object.entries(current.identities));
      identities.set(key, lists);
      const next: PreferencesFile = { version: 2, identities: Object.fromEntries(identities) };
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify(next, null, 2), { mode: 0o600 });
      await rename(temp, this.file);
      this.cached = next;
      return lists;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
