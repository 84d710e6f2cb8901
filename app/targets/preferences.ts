/**
 * Favourites and recent connections, in one small JSON file in the data folder.
 * Replaced whole (temp file + rename) so a crash never leaves half a file; a
 * file that cannot be read starts empty rather than blocking the browse view.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowsePreferences, SavedTarget } from '../api/calls/browse';

export const MAX_RECENTS = 20;

export class PreferencesStore {
  private readonly file: string;
  private cached: BrowsePreferences | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.file = path.join(dataDir, 'browse-preferences.json');
  }

  async get(): Promise<BrowsePreferences> {
    if (!this.cached) {
      try {
        const data = JSON.parse(await readFile(this.file, 'utf8')) as Partial<BrowsePreferences>;
        this.cached = {
          favourites: Array.isArray(data.favourites) ? data.favourites : [],
          recents: Array.isArray(data.recents) ? data.recents : [],
        };
      } catch {
        this.cached = { favourites: [], recents: [] };
      }
    }
    return this.cached;
  }

  setFavourite(target: Omit<SavedTarget, 'at'>, favourite: boolean): Promise<BrowsePreferences> {
    return this.update((p) => ({
      ...p,
      favourites: favourite
        ? [...p.favourites.filter((f) => f.key !== target.key), { ...target, at: this.now() }]
        : p.favourites.filter((f) => f.key !== target.key),
    }));
  }

  recordRecent(target: Omit<SavedTarget, 'at'>): Promise<BrowsePreferences> {
    return this.update((p) => ({
      ...p,
      recents: [{ ...target, at: this.now() }, ...p.recents.filter((r) => r.key !== target.key)].slice(
        0,
        MAX_RECENTS,
      ),
    }));
  }

  /** One read-modify-write at a time. */
  private update(change: (p: BrowsePreferences) => BrowsePreferences): Promise<BrowsePreferences> {
    const run = this.queue.then(async () => {
      const next = change(await this.get());
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify(next, null, 2), { mode: 0o600 });
      await rename(temp, this.file);
      this.cached = next;
      return next;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
