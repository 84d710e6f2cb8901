import os from 'node:os';
import packageJson from '../package.json' with { type: 'json' };
import type { AppInfo } from './api/calls/settings';

export const appName = 'RoleShell';

export function appInfo(mode: AppInfo['mode'], dataDir: string): AppInfo {
  return { name: appName, version: packageJson.version, mode, platform: os.platform(), dataDir };
}
