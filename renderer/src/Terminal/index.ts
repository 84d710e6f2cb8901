/** The terminal area: what the app layout uses (see docs/contracts.md, "Renderer terminal area"). */
export type { ConnectRequest, SessionStatus, SessionTab } from './types';
export { SessionsProvider, useSessions } from './sessions';
export { TerminalTabs } from './TerminalTabs';
