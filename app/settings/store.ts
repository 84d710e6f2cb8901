/**
 * The settings store: one JSON file in the app data folder, overridden field by
 * field by environment variables. The file is only ever replaced whole (temp
 * file, fsync, rename), so a crash mid-save leaves the old file; a file that
 * cannot be read is reported, never silently overwritten: the next save moves
 * it aside as `settings.json.bad-<time>` and says so.
 */
import nodeFs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ApiError, type FieldIssue } from '../api/errors';
import type { SettingsView } from './types';
import {
  envOverrides,
  MAX_USED_START_URLS,
  settingsSchema,
  settingsPatchSchema,
  sessionModeFor,
  type EnvVarName,
  type OverridableField,
  type Settings,
  type SettingsPatch,
} from './schema';

export const settingsFileName = 'settings.json';

/** The few file operations the store needs; tests substitute one to simulate a crash mid-save. */
export interface SettingsFs {
  readFile(file: string): Promise<string>;
  writeFileDurably(file: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
}

export const nodeSettingsFs: SettingsFs = {
  readFile: (file) => nodeFs.readFile(file, 'utf8'),
  async writeFileDurably(file, data) {
    // `wx`: never follow or reuse an existing file at the temp path; 0600: settings may name internal ARNs.
    const handle = await nodeFs.open(file, 'wx', 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => nodeFs.rename(from, to),
  unlink: (file) => nodeFs.unlink(file),
  async syncDir(dir) {
    // Makes the rename itself durable; directories cannot be opened for sync on Windows, which is fine to skip.
    let handle: nodeFs.FileHandle | undefined;
    try {
      handle = await nodeFs.open(dir, 'r');
      await handle.sync();
    } catch {
      // best effort
    } finally {
      await handle?.close();
    }
  },
  mkdir: async (dir) => {
    await nodeFs.mkdir(dir, { recursive: true, mode: 0o700 });
  },
};

export interface SettingsStoreOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  fs?: SettingsFs;
  /** Clock for the `.bad-<time>` name; tests pin it. */
  now?: () => Date;
}

export interface SettingsStore {
  readonly file: string;
  /** Re-reads the file (it may have been edited by hand) and returns the view. */
  load(): Promise<SettingsView>;
  /** The effective settings as of the last load or save. */
  current(): Settings;
  /** Applies a patch, writes the file atomically and returns the new view. */
  save(patch: SettingsPatch): Promise<SettingsView>;
  /**
   * Records a successful sign-in to `startUrl` (most recent first, at most MAX_USED_START_URLS), so
   * per-start-URL settings are kept for start URLs that were actually used and dropped for the rest.
   * Does nothing while the file is unreadable (that is reported on the next save instead).
   */
  recordSignIn(startUrl: string): Promise<SettingsView>;
}

export type FileState =
  | { kind: 'missing' }
  | { kind: 'ok'; stored: Settings; extra: Record<string, unknown> }
  | { kind: 'bad'; problem: string };

export function createSettingsStore(options: SettingsStoreOptions): SettingsStore {
  const fs = options.fs ?? nodeSettingsFs;
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const file = path.join(options.dataDir, settingsFileName);
  const overrides = readEnvOverrides(env);

  // Read once synchronously so `current()` is right from the start; `load()` re-reads later.
  let last: SettingsView = buildView(readStateSync(file), null);
  // Saves run one at a time so two quick saves cannot interleave their read-modify-write.
  let queue: Promise<unknown> = Promise.resolve();

  async function readState(): Promise<FileState> {
    let text: string;
    try {
      text = await fs.readFile(file);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return { kind: 'missing' };
      return {
        kind: 'bad',
        problem: `RoleShell cannot read ${file} (${errnoText(error)}); it is using defaults.`,
      };
    }
    return parseSettingsFile(file, text);
  }

  function buildView(state: FileState, notice: string | null): SettingsView {
    const stored = state.kind === 'ok' ? state.stored : settingsSchema.parse({});
    // The endpoint comes from the launch environment only; never from the file.
    const settings: Settings = { ...stored, awsEndpoint: '', ...overrides.values };
    return {
      settings,
      overriddenBy: overrides.overriddenBy,
      mode: sessionModeFor(settings),
      file,
      problem: state.kind === 'bad' ? state.problem : null,
      envProblems: overrides.problems,
      notice,
    };
  }

  async function load(): Promise<SettingsView> {
    last = buildView(await readState(), null);
    return last;
  }

  async function save(patch: SettingsPatch): Promise<SettingsView> {
    const checked = settingsPatchSchema.parse(patch);
    refuseOverriddenChanges(checked, overrides);
    refuseEndpointChange(checked, overrides.values.awsEndpoint ?? '');
    const state = await readState();
    let notice: string | null = null;
    let base: Settings = settingsSchema.parse({});
    let extra: Record<string, unknown> = {};
    if (state.kind === 'ok') {
      base = state.stored;
      extra = state.extra;
    }
    const next = keepUsedStartUrls(
      settingsSchema.parse({ ...base, ...withoutOverridden(checked, overrides) }),
      overrides.values.startUrl,
    );
    let moveBadFileAside: (() => Promise<void>) | undefined;
    if (state.kind === 'bad') {
      // Keep the unreadable file where the user can find it, and tell them. Done only once the new
      // file is safely written, so a failed save leaves everything as it was.
      const keptAs = `${file}.bad-${now().toISOString().replace(/[:.]/g, '-')}`;
      moveBadFileAside = async () => {
        try {
          await fs.rename(file, keptAs);
        } catch (error) {
          if (isErrno(error, 'ENOENT')) return; // removed by hand meanwhile: nothing to keep
          throw new ApiError(
            'Unavailable',
            `The settings file could not be read and could not be moved aside (${errnoText(error)}); nothing was saved. Fix or remove ${file}.`,
          );
        }
        notice = `The previous settings file could not be read; it was kept as ${keptAs}.`;
      };
    }
    await writeAtomically(fs, file, fileText(next, extra), moveBadFileAside);
    last = buildView({ kind: 'ok', stored: next, extra }, notice);
    return last;
  }

  async function recordSignIn(startUrl: string): Promise<SettingsView> {
    const state = await readState();
    if (state.kind === 'bad') return last;
    const base = state.kind === 'ok' ? state.stored : settingsSchema.parse({});
    const extra = state.kind === 'ok' ? state.extra : {};
    const usedStartUrls = [startUrl, ...base.usedStartUrls.filter((u) => u !== startUrl)].slice(
      0,
      MAX_USED_START_URLS,
    );
    const next = keepUsedStartUrls({ ...base, usedStartUrls }, overrides.values.startUrl);
    if (JSON.stringify(next) === JSON.stringify(base) && state.kind === 'ok') return last;
    await writeAtomically(fs, file, fileText(next, extra));
    last = buildView({ kind: 'ok', stored: next, extra }, null);
    return last;
  }

  return {
    file,
    load,
    current: () => last.settings,
    save(patch) {
      const run = queue.then(() => save(patch));
      queue = run.catch(() => undefined);
      return run;
    },
    recordSignIn(startUrl) {
      const run = queue.then(() => recordSignIn(startUrl));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

function readStateSync(file: string): FileState {
  try {
    return parseSettingsFile(file, readFileSync(file, 'utf8'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'missing' };
    return {
      kind: 'bad',
      problem: `RoleShell cannot read ${file} (${errnoText(error)}); it is using defaults.`,
    };
  }
}

/** Parses the file's text; any problem becomes a message naming the file and the field. */
export function parseSettingsFile(file: string, text: string): FileState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return {
      kind: 'bad',
      problem: `${file} is not valid JSON (${detail}). RoleShell is using defaults; saving will keep the broken file aside.`,
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      kind: 'bad',
      problem: `${file} must hold a JSON object. RoleShell is using defaults; saving will keep the broken file aside.`,
    };
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` "${issue.path.map(String).join('.')}"` : '';
    return {
      kind: 'bad',
      problem: `${file} has an invalid value${where}: ${issue?.message ?? 'invalid'}. RoleShell is using defaults; saving will keep the broken file aside.`,
    };
  }
  // Keep keys this version does not know (a newer RoleShell may have written them).
  const known = new Set(Object.keys(settingsSchema.shape));
  const extra = Object.fromEntries(Object.entries(raw).filter(([key]) => !known.has(key)));
  return { kind: 'ok', stored: parsed.data, extra };
}

interface EnvOverrides {
  values: Partial<Settings>;
  overriddenBy: Partial<Record<OverridableField, EnvVarName>>;
  problems: FieldIssue[];
}

/** Reads the override variables; an empty variable counts as unset, an invalid one is reported and ignored. */
export function readEnvOverrides(env: NodeJS.ProcessEnv): EnvOverrides {
  const values: Record<string, unknown> = {};
  const overriddenBy: Partial<Record<OverridableField, EnvVarName>> = {};
  const problems: FieldIssue[] = [];
  for (const [field, variable] of Object.entries(envOverrides) as [OverridableField, EnvVarName][]) {
    const rawValue = env[variable]?.trim();
    if (!rawValue) continue;
    const candidate =
      field === 'regions'
        ? rawValue
            .split(',')
            .map((part) => part.trim())
            .filter(Boolean)
        : rawValue;
    const parsed = settingsSchema.shape[field].safeParse(candidate);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'invalid value';
      problems.push({ path: field, message: `${variable} is ignored: ${message}` });
      continue;
    }
    values[field] = parsed.data;
    overriddenBy[field] = variable;
  }
  return { values: values as Partial<Settings>, overriddenBy, problems };
}

/** A save may repeat an overridden value (the form shows it) but may not change it. */
function refuseOverriddenChanges(patch: SettingsPatch, overrides: EnvOverrides): void {
  const issues: FieldIssue[] = [];
  for (const [field, variable] of Object.entries(overrides.overriddenBy) as [
    OverridableField,
    EnvVarName,
  ][]) {
    if (!(field in patch)) continue;
    if (JSON.stringify(patch[field]) !== JSON.stringify(overrides.values[field])) {
      issues.push({
        path: field,
        message: `Set by the environment variable ${variable}; change or unset it to edit this here.`,
      });
    }
  }
  if (issues.length > 0) throw new ApiError('InvalidInput', issues[0]!.message, issues);
}

/** The endpoint receives the IdC tokens: a save may repeat the launch value but never change it. */
function refuseEndpointChange(patch: SettingsPatch, launchValue: string): void {
  if (patch.awsEndpoint === undefined || patch.awsEndpoint.trim() === launchValue) return;
  const message =
    'The AWS endpoint is set only when RoleShell starts (ROLESHELL_AWS_ENDPOINT, or "Try the local sandbox"); it cannot be changed here.';
  throw new ApiError('InvalidInput', message, [{ path: 'awsEndpoint', message }]);
}

/** Session modes are kept only for start URLs signed in to, and the one configured now. */
function keepUsedStartUrls(settings: Settings, envStartUrl: string | undefined): Settings {
  const keep = new Set([...settings.usedStartUrls, settings.startUrl, envStartUrl ?? '']);
  const modes = Object.fromEntries(Object.entries(settings.modes).filter(([url]) => keep.has(url)));
  return { ...settings, modes };
}

/** The file never holds the endpoint (see refuseEndpointChange). */
function fileText(settings: Settings, extra: Record<string, unknown>): string {
  const { awsEndpoint: _launchOnly, ...stored } = settings;
  return `${JSON.stringify({ ...extra, ...stored }, null, 2)}\n`;
}

function withoutOverridden(patch: SettingsPatch, overrides: EnvOverrides): SettingsPatch {
  const copy: Record<string, unknown> = { ...patch };
  delete copy.awsEndpoint;
  for (const field of Object.keys(overrides.overriddenBy)) delete copy[field];
  return copy as SettingsPatch;
}

/** Temp file, fsync, rename: the settings file is always either the old one or the new one. */
async function writeAtomically(
  fs: SettingsFs,
  file: string,
  data: string,
  beforeReplace?: () => Promise<void>,
): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir);
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFileDurably(temp, data);
    await beforeReplace?.();
    await fs.rename(temp, file);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    if (error instanceof ApiError) throw error;
    throw new ApiError(
      'Unavailable',
      `Could not save settings to ${file} (${errnoText(error)}); nothing was changed.`,
    );
  }
  await fs.syncDir(dir);
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function errnoText(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return error instanceof Error ? error.message : String(error);
}
