/** Settings and app info calls (foundation issue). */
import { z } from 'zod';
import { defineCall, defineEvent } from '../define';

// Placeholder shapes; the foundation work fills these in.
export const settingsCalls = {
  getAppInfo: defineCall<{ name: string; version: string; mode: 'electron' | 'web' }>()(z.undefined()),
};

export const settingsEvents = {
  'settings.changed': defineEvent<unknown>(),
};
