/**
 * Entry point of the session host process. Under Electron it is a
 * `utilityProcess` (messages on `process.parentPort`); in web mode and tests a
 * Node child process (`process.send`, advanced serialization so bytes stay
 * bytes). The backends (node-pty, plugin processes, data-channel sockets) live
 * here, so a hung or crashing one cannot freeze the core or the window.
 */
import { runSessionHost } from './runHost';
import type { HostTransport } from './protocol';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

const transport: HostTransport = parentPort
  ? {
      send: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
    }
  : {
      send: (message) => {
        if (process.connected) process.send?.(message);
      },
      onMessage: (listener) => process.on('message', listener),
    };

// The core going away (crash, kill) must not leave plugin processes behind.
if (!parentPort) process.on('disconnect', () => process.exit(0));

runSessionHost(transport, () => setTimeout(() => process.exit(0), 50));
