/**
 * Updates through electron-updater's generic provider, only when configured
 * (app/updates/updateConfig.ts). electron-updater is loaded only then. Its checks stay
 * as they are: the sha512 of every download against latest*.yml, and the code signature
 * of the new version (Windows: the same publisher; macOS: Squirrel's signature check).
 */
import type { AppUpdater } from 'electron-updater';
import type { AppLog } from '../app/appContext';
import type { UpdateConfig } from '../app/updates/updateConfig';

type Updater = Pick<
  AppUpdater,
  | 'setFeedURL'
  | 'checkForUpdatesAndNotify'
  | 'on'
  | 'autoDownload'
  | 'autoInstallOnAppQuit'
  | 'allowDowngrade'
  | 'allowPrerelease'
  | 'logger'
>;

export async function startUpdates(
  config: UpdateConfig,
  log: AppLog,
  // Not bundled into main.cjs: a shipped dependency, loaded only when updates are on.
  loadUpdater: () => Promise<Updater> = async () => {
    // A CommonJS module whose autoUpdater is a getter: reach it through the module object.
    const updaterModule = (await import('electron-updater')) as {
      autoUpdater?: Updater;
      default?: { autoUpdater: Updater };
    };
    return (updaterModule.default?.autoUpdater ?? updaterModule.autoUpdater)!;
  },
): Promise<void> {
  if (!config.enabled) {
    log(`updates: off (${config.reason})`);
    return;
  }
  const updater = await loadUpdater();
  const write = (message: unknown) => log(`updates: ${String(message)}`);
  updater.logger = { info: write, warn: write, error: write };
  updater.autoDownload = true;
  updater.autoInstallOnAppQuit = true;
  updater.allowDowngrade = false;
  updater.allowPrerelease = false;
  updater.setFeedURL({ provider: 'generic', url: config.url });
  updater.on('error', (error) => log('updates: the check failed', error));
  log(`updates: checking ${config.url}`);
  await updater.checkForUpdatesAndNotify().catch((error: unknown) => log('updates: the check failed', error));
}
