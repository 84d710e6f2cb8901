/**
 * The RoleShell log: what "Details are in the RoleShell log" points at. One
 * file in the data folder (0600: errors may quote account ids or ARNs), kept
 * under a size limit by rolling over to `roleshell.log.1`. Writes are
 * synchronous and small, so a crash right after an error still leaves it on disk.
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AppLog } from './appContext';

export const logFileName = 'roleshell.log';

export interface FileLogOptions {
  /** Folder for the log (the app data folder's `logs/`). */
  dir: string;
  /** Roll over above this size (default 5 MiB). */
  maxBytes?: number;
  /** Also echo to stderr (development). */
  echo?: boolean;
  now?: () => Date;
}

export function createFileLog(options: FileLogOptions): AppLog & { file: string } {
  const file = path.join(options.dir, logFileName);
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const now = options.now ?? (() => new Date());
  let ready = false;

  const log = (message: string, error?: unknown) => {
    const line = `${now().toISOString()} ${message}${error === undefined ? '' : ` ${describe(error)}`}\n`;
    if (options.echo) process.stderr.write(line);
    try {
      if (!ready) {
        mkdirSync(options.dir, { recursive: true, mode: 0o700 });
        ready = true;
      }
      if (sizeOf(file) + line.length > maxBytes) renameSync(file, `${file}.1`);
      appendFileSync(file, line, { mode: 0o600 });
    } catch {
      // A log that cannot be written must never break the call that wanted to log.
    }
  };
  return Object.assign(log, { file });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
