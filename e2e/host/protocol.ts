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

/**
 * Session output travels as binary WebSocket messages, never JSON text:
 * [1 byte: length of the tab id][the tab id, ASCII][the terminal bytes].
 */
export function encodeOutputFrame(id: string, data: Uint8Array): Uint8Array {
  const idBytes = new TextEncoder().encode(id);
  if (idBytes.length > 255) throw new RangeError('tab id too long');
  const frame = new Uint8Array(1 + idBytes.length + data.length);
  frame[0] = idBytes.length;
  frame.set(idBytes, 1);
  frame.set(data, 1 + idBytes.length);
  return frame;
}

export function decodeOutputFrame(frame: Uint8Array): { id: string; data: Uint8Array } | null {
  const length = frame[0];
  if (length === undefined || frame.length < 1 + length) return null;
  return {
    id: new TextDecoder().decode(frame.subarray(1, 1 + length)),
    data: frame.subarray(1 + length),
  };
}
