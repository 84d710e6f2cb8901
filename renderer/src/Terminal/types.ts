/** The terminal area's public types (the interface the app layout relies on). */
import type { ConnectRequest, SessionStatus } from '../../../app/api/calls/session';

export type { ConnectRequest, SessionStatus };

export interface SessionTab {
  /** The tab's own key, made in the renderer at the click. */
  id: string;
  /** The core's id for the session, once `session.start` has answered. */
  sessionId?: string;
  /** `${linuxUser}@${instanceName}` */
  title: string;
  status: SessionStatus;
  reason?: string;
  request: ConnectRequest;
}
