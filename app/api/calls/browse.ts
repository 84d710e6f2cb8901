/** Browse calls (accounts, permission sets, targets). Filled in by the login/browse issue. */
export const browseCalls = {};
export const browseEvents = {};
