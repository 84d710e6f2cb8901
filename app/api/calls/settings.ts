/** Settings and app info calls (foundation issue). */
import { z } from 'zod';
import { defineCall, defineEvent } from '../define';
import { settingsPatchSchema } from '../../settings/schema';
import type { SettingsView } from '../../settings/types';
import type { SecretStorageInfo } from '../../auth/secretStorage';

export type { SecretStorageInfo } from '../../auth/secretStorage';

export type { SettingsView } from '../../settings/types';
export type {
  Settings,
  SettingsPatch,
  SessionMode,
  OverridableField,
  EnvVarName,
} from '../../settings/schema';

export interface AppInfo {
  name: string;
  version: string;
  /** `electron` in the desktop app; `web` in the loopback host (`npm run web`, e2e). */
  mode: 'electron' | 'web';
  platform: string;
  /** The app data folder (settings, token cache). */
  dataDir: string;
  /** How tokens are encrypted at rest (OS keystore, or RoleShell's key file), for Settings to say. */
  secretStorage: SecretStorageInfo;
}

export const settingsCalls = {
  getAppInfo: defineCall<AppInfo>()(z.undefined()),
  /** Re-reads the settings file; a malformed file is reported in `problem`, not thrown. */
  getSettings: defineCall<SettingsView>()(z.undefined()),
  /**
   * Saves any subset of the fields. Invalid values come back as InvalidInput with
   * per-field issues and nothing is written; fields set by an environment variable
   * may be repeated unchanged but not changed.
   */
  saveSettings: defineCall<SettingsView>()(settingsPatchSchema),
};

export const settingsEvents = {
  /** After every successful save, from any window. */
  'settings.changed': defineEvent<SettingsView>(),
};
