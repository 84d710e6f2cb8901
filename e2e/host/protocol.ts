/**
 * Messages between the browser shim and the host, one JSON object per
 * WebSocket message. The payloads are exactly what IPC carries in Electron:
 * a call's name and input one way, its CallResult or an event the other.
 */
import type { CallResult } from '../../app/api/errors';

export const wsPath = '/__roleshell/ws';
export const shimPath = '/__roleshell/bridge.js';

export type ClientMessage = { type: 'call'; id: number; name: string; input: unknown };
export type ServerMessage =
  | { type: 'result'; id: number; result: CallResult<unknown> }
  | { type: 'event'; name: string; payload: unknown }
  /** Web mode's `shell.openExternal`: the URL already passed the app's allow-list. */
  | { type: 'openExternal'; url: string };
