/** The terminal area's public types (the interface the app layout relies on). */
import type { ConnectRequest, SessionStatus } from '../../../app/api/calls/session';

export type { ConnectRequest, SessionStatus };

export interface SessionTab {
  id: string;
  /** `${linuxUser}@${instanceName}` */
  title: string;
  status: SessionStatus;
  reason?: string;
  request: ConnectRequest;
}
