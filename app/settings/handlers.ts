/** Handlers for the settings calls (`app/api/calls/settings.ts`). */
import type { AppContext } from '../appContext';
import { appInfo } from '../appInfo';
import type { CallHandlers } from '../api/dispatch';

export function createSettingsHandlers(
  ctx: AppContext,
): Pick<CallHandlers, 'getAppInfo' | 'getSettings' | 'saveSettings'> {
  return {
    getAppInfo: async () => appInfo(ctx.mode, ctx.dataDir),
    getSettings: () => ctx.settings.load(),
    async saveSettings(patch) {
      const view = await ctx.settings.save(patch);
      ctx.emit('settings.changed', view);
      return view;
    },
  };
}
