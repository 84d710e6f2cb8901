/** Types shared with the renderer (through app/api): no Node imports here. */
import type { FieldIssue } from '../api/errors';
import type { SecretStorageInfo } from '../auth/secretStorage';
import type { EnvVarName, OverridableField, SessionMode, Settings } from './schema';

/** What getSettings returns: the effective values and where each came from. */
export interface SettingsView {
  /** Effective settings: the file (or defaults), then environment overrides. */
  settings: Settings;
  /** Fields set by an environment variable, with the variable's name; shown read-only. */
  overriddenBy: Partial<Record<OverridableField, EnvVarName>>;
  /** The session mode for the effective start URL. */
  mode: SessionMode;
  /** Absolute path of the settings file. */
  file: string;
  /** Why the file could not be used (defaults are in effect), or null. */
  problem: string | null;
  /** Environment variables whose values are invalid and were ignored. */
  envProblems: FieldIssue[];
  /** Something the user should know about the last save, e.g. a bad file kept aside. */
  notice: string | null;
  /** How tokens are encrypted at rest; added by the settings calls (the store does not know). */
  secretStorage?: SecretStorageInfo;
}
