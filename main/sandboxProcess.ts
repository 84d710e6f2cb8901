/**
 * Electron's side of "Try the local sandbox": the sandbox runs in a utility
 * process (Electron's Node child process, which works with the RunAsNode fuse
 * off), from its own bundle. The logic is app/auth/localSandbox.ts.
 */
import { utilityProcess } from 'electron';
import type { ForkSandbox } from '../app/auth/localSandbox';
import type { FromSandbox } from '../sandbox/src/child/protocol';

export const forkUtilitySandbox: ForkSandbox = (entry) => {
  const child = utilityProcess.fork(entry, [], { serviceName: 'RoleShell local sandbox', stdio: 'inherit' });
  return {
    get pid() {
      return child.pid;
    },
    postMessage: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', (message: unknown) => listener(message as FromSandbox)),
    onExit: (listener) => child.on('exit', (code) => listener(code)),
    kill: () => void child.kill(),
  };
};
