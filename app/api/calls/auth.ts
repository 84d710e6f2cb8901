/** Sign-in calls (IdC device authorization, token state). Filled in by the login issue. */
export const authCalls = {};
export const authEvents = {};
