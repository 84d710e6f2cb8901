/**
 * Exposes exactly one object, `window.roleshell`, to the sandboxed renderer.
 * Calls, events and session output cross as plain data on three channels; the renderer
 * never gets ipcRenderer itself. The e2e shim (e2e/browser/shim.ts) has the
 * same shape.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { RoleShellBridge } from '../app/api/calls';
import { callChannel, eventChannel, outputChannel } from './channels';

const bridge: RoleShellBridge = {
  call: (name, input) => ipcRenderer.invoke(callChannel, name, input),
  on(event, listener) {
    const handler = (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
      if (name === event) (listener as (payload: unknown) => void)(payload);
    };
    ipcRenderer.on(eventChannel, handler);
    return () => {
      ipcRenderer.removeListener(eventChannel, handler);
    };
  },
  onOutput(listener) {
    const handler = (_event: IpcRendererEvent, id: unknown, data: unknown) => {
      if (typeof id === 'string' && data instanceof Uint8Array) listener(id, data);
    };
    ipcRenderer.on(outputChannel, handler);
    return () => {
      ipcRenderer.removeListener(outputChannel, handler);
    };
  },
};

contextBridge.exposeInMainWorld('roleshell', bridge);
