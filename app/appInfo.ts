import os from 'node:os';
import packageJson from '../package.json' with { type: 'json' };
import type { AppInfo } from './api/calls/settings';
import type { SecretStorageInfo } from './auth/secretStorage';

export const appName = 'RoleShell';

export function appInfo(mode: AppInfo['mode'], dataDir: string, secretStorage: SecretStorageInfo): AppInfo {
  return {
    name: appName,
    version: packageJson.version,
    mode,
    platform: os.platform(),
    dataDir,
    secretStorage,
  };
}
