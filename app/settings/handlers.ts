/** Handlers for the settings calls (`app/api/calls/settings.ts`). */
import type { AppContext } from '../appContext';
import { appInfo } from '../appInfo';
import type { CallHandlers } from '../api/dispatch';
import type { SettingsView } from './types';

export function createSettingsHandlers(
  ctx: AppContext,
): Pick<CallHandlers, 'getAppInfo' | 'getSettings' | 'saveSettings'> {
  const withStorage = (view: SettingsView): SettingsView => ({ ...view, secretStorage: ctx.secretStorage });
  return {
    getAppInfo: async () => appInfo(ctx.mode, ctx.dataDir, ctx.secretStorage),
    getSettings: async () => withStorage(await ctx.settings.load()),
    async saveSettings(patch) {
      const view = withStorage(await ctx.settings.save(patch));
      ctx.emit('settings.changed', view);
      return view;
    },
  };
}
