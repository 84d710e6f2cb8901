/**
 * Runs in the browser before the renderer: installs `window.roleshell` with
 * exactly the preload's shape ({ call, on, onOutput }) and forwards it over the host's
 * loopback WebSocket. The per-launch token comes from the page URL (`?token=`),
 * which only the process that started the host knows.
 */
import type { RoleShellBridge } from '../../app/api/calls';
import type { CallResult } from '../../app/api/errors';
import { decodeOutputFrame, wsPath, type ClientMessage, type ServerMessage } from '../host/protocol';

type Listener = (payload: unknown) => void;
type OutputListener = (id: string, data: Uint8Array) => void;

const token = new URL(window.location.href).searchParams.get('token') ?? '';
const socketUrl = new URL(wsPath, window.location.href);
socketUrl.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
socketUrl.search = `?token=${encodeURIComponent(token)}`;

const pending = new Map<number, (result: CallResult<unknown>) => void>();
const listeners = new Map<string, Set<Listener>>();
const outputListeners = new Set<OutputListener>();
const queued: string[] = [];
let nextId = 1;
let closedResult: CallResult<unknown> | null = null;

const socket = new WebSocket(socketUrl);
socket.binaryType = 'arraybuffer';
socket.addEventListener('open', () => {
  for (const message of queued.splice(0)) socket.send(message);
});
socket.addEventListener('message', (event) => {
  if (event.data instanceof ArrayBuffer) {
    // Session output: binary, never JSON.
    const frame = decodeOutputFrame(new Uint8Array(event.data));
    if (frame) for (const listener of outputListeners) listener(frame.id, frame.data);
    return;
  }
  const message = JSON.parse(String(event.data)) as ServerMessage;
  if (message.type === 'result') {
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  } else if (message.type === 'openExternal') {
    // What shell.openExternal does in Electron: a new browser tab, with no link back to this page.
    window.open(message.url, '_blank', 'noopener,noreferrer');
  } else {
    for (const listener of listeners.get(message.name) ?? []) listener(message.payload);
  }
});
socket.addEventListener('close', () => {
  closedResult = {
    ok: false,
    error: {
      code: 'Unavailable',
      message: token
        ? 'The RoleShell host is not reachable, or this page is from an earlier run. Open the URL it printed (npm run web) again.'
        : 'This address is missing its token. Open the full URL RoleShell printed, including ?token=….',
    },
  };
  for (const resolve of pending.values()) resolve(closedResult);
  pending.clear();
});

const bridge: RoleShellBridge = {
  call(name, input) {
    if (closedResult) return Promise.resolve(closedResult) as ReturnType<RoleShellBridge['call']>;
    const id = nextId++;
    const text = JSON.stringify({ type: 'call', id, name, input } satisfies ClientMessage);
    const result = new Promise<CallResult<unknown>>((resolve) => pending.set(id, resolve));
    if (socket.readyState === WebSocket.OPEN) socket.send(text);
    else queued.push(text);
    return result as ReturnType<RoleShellBridge['call']>;
  },
  on(event, listener) {
    const set = listeners.get(event) ?? new Set<Listener>();
    listeners.set(event, set);
    const wrapped: Listener = (payload) => (listener as Listener)(payload);
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  },
  onOutput(listener) {
    const wrapped: OutputListener = (id, data) => listener(id, data);
    outputListeners.add(wrapped);
    return () => {
      outputListeners.delete(wrapped);
    };
  },
};

// Like contextBridge: a frozen object the page cannot replace or extend.
Object.defineProperty(window, 'roleshell', {
  value: Object.freeze(bridge),
  writable: false,
  configurable: false,
  enumerable: true,
});
