/** The terminal area's public types (the interface the app layout relies on). */
import type { SessionStatus } from '../../../app/api/calls/session';

export type { SessionStatus };

export interface ConnectRequest {
  accountId: string;
  accountName: string;
  permissionSet: string;
  linuxUser: string;
  region: string;
  instanceId: string;
  instanceName: string;
}

export interface SessionTab {
  id: string;
  /** `${linuxUser}@${instanceName}` */
  title: string;
  status: SessionStatus;
  reason?: string;
  request: ConnectRequest;
}
