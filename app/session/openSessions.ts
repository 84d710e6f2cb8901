/**
 * The sessions this app has open, on disk (`<dataDir>/sessions/open.json`), so
 * that a start after a crash can terminate what the last run left running.
 * Only ids and where they run: no token, no credential.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface OpenSessionRecord {
  sessionId: string;
  startUrl: string;
  accountId: string;
  permissionSet: string;
  region: string;
  instanceId: string;
  mode: 'broker' | 'direct';
}

export class OpenSessionsFile {
  private readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'sessions', 'open.json');
  }

  async list(): Promise<OpenSessionRecord[]> {
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      return Array.isArray(data)
        ? (data as OpenSessionRecord[]).filter((r) => typeof r?.sessionId === 'string')
        : [];
    } catch {
      return [];
    }
  }

  add(record: OpenSessionRecord): Promise<void> {
    return this.update((records) => [...records.filter((r) => r.sessionId !== record.sessionId), record]);
  }

  remove(sessionId: string): Promise<void> {
    return this.update((records) => records.filter((r) => r.sessionId !== sessionId));
  }

  /** Writes are serialized and atomic (temp file + rename), so a crash mid-write loses nothing. */
  private update(change: (records: OpenSessionRecord[]) => OpenSessionRecord[]): Promise<void> {
    const next = this.queue.then(async () => {
      const records = change(await this.list());
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify(records, null, 2), { mode: 0o600 });
      await rename(temp, this.file);
    });
    this.queue = next.catch(() => {});
    return next;
  }
}
