/**
 * The local sandbox as a child process of the app core ("Try the local
 * sandbox"), bundled on its own (scripts/build-sandbox.mjs) so none of it,
 * shell agent included, is loaded into the app's main process. Runs under
 * Node's `fork` (web host, tests) or Electron's `utilityProcess` (desktop app);
 * protocol.ts has the messages. It exits when told to close or when its parent
 * goes away, after closing the sandbox so no shell or worker is left running.
 */
import { BROKER_FUNCTION_NAME, startSandbox, type Sandbox } from '../index';
import type { FromSandbox, ToSandbox } from './protocol';

/** The part of Electron's `process.parentPort` used here (no Electron types in sandbox/). */
interface UtilityParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

interface ParentChannel {
  send(message: FromSandbox): void;
  onMessage(listener: (message: ToSandbox) => void): void;
  onGone(listener: () => void): void;
}

/** Electron's utilityProcess gives `process.parentPort`; Node's fork gives `process.send`. */
function parentChannel(): ParentChannel {
  const port = (process as { parentPort?: UtilityParentPort }).parentPort;
  if (port) {
    return {
      send: (message) => port.postMessage(message),
      onMessage: (listener) => port.on('message', (event) => listener(event.data as ToSandbox)),
      // Electron ends utility processes with the main process.
      onGone: () => {},
    };
  }
  if (!process.send) {
    process.stderr.write('The sandbox child process must be started by the RoleShell app core.\n');
    process.exit(2);
  }
  return {
    send: (message) => process.send?.(message),
    onMessage: (listener) => process.on('message', (message) => listener(message as ToSandbox)),
    onGone: (listener) => process.on('disconnect', listener),
  };
}

const parent = parentChannel();
let sandbox: Promise<Sandbox> | undefined;
let exiting = false;

async function shutDown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  const running = await sandbox?.catch(() => undefined);
  await running?.close().catch(() => undefined);
  process.exit(code);
}

parent.onGone(() => void shutDown(0));
parent.onMessage((message) => {
  if (message.type === 'close') {
    void shutDown(0);
    return;
  }
  if (message.type !== 'start' || sandbox) return;
  sandbox = startSandbox({
    org: message.org,
    ...(message.root ? { root: message.root } : {}),
    ...(message.brokerBundle ? { functionBundles: { [BROKER_FUNCTION_NAME]: message.brokerBundle } } : {}),
    log: (line) => parent.send({ type: 'log', line }),
  });
  sandbox.then(
    (started) => {
      const regions = [...new Set(started.org.instances.map((i) => i.region))];
      parent.send({
        type: 'ready',
        endpoint: started.endpoint,
        region: started.region,
        startUrl: started.startUrl,
        brokerFunctionArn: started.brokerFunctionArn,
        regions: regions.length > 0 ? regions : [started.region],
      });
    },
    (error: unknown) => {
      parent.send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      void shutDown(1);
    },
  );
});
