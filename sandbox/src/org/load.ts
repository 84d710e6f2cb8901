/** Loads and validates an org file (YAML path or an already-parsed object). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { formatOrgIssues, orgSchema, type Org, type OrgFile } from './schema';

export const defaultOrgPath = fileURLToPath(new URL('../../org/default.yaml', import.meta.url));

export interface LoadedOrg {
  org: Org;
  /** Folder that handler module paths are relative to (the project root holding package.json). */
  root: string;
  source: string;
}

export class OrgFileError extends Error {
  override name = 'OrgFileError';
}

/** The nearest folder at or above `from` that holds a package.json (else `from`). */
export function findProjectRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(from);
    dir = parent;
  }
}

export function loadOrg(org: string | OrgFile = defaultOrgPath, root?: string): LoadedOrg {
  let raw: unknown;
  let source: string;
  if (typeof org === 'string') {
    source = resolve(org);
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      throw new OrgFileError(`Cannot read org file ${source}: ${(err as Error).message}`);
    }
    try {
      raw = parse(text, { merge: true });
    } catch (err) {
      throw new OrgFileError(`Org file ${source} is not valid YAML: ${(err as Error).message}`);
    }
  } else {
    source = '(object)';
    raw = org;
  }
  const result = orgSchema.safeParse(raw);
  if (!result.success) throw new OrgFileError(formatOrgIssues(result.error, source));
  return {
    org: result.data,
    root: root ?? findProjectRoot(typeof org === 'string' ? dirname(source) : process.cwd()),
    source,
  };
}
