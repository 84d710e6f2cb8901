/**
 * The session host's loop in-process (a transport pair instead of the IPC channel), with the real
 * built-in client against the real sandbox: what the core sends while a backend is still opening
 * (dialling, handshaking) is not lost.
 */
import { SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../sandbox/src/index';
import { clientConfig, permissionSetCredentials, signIn } from '../../../sandbox/src/testing/sdk';
import { runSessionHost } from './runHost';
import type { CoreToHost, HostToCore } from './protocol';

let sandbox: Sandbox | undefined;
let ssm: SSMClient | undefined;
let send: ((message: CoreToHost) => void) | undefined;
afterEach(async () => {
  send?.({ type: 'shutdown' });
  ssm?.destroy();
  await sandbox?.close();
  sandbox = ssm = send = undefined;
});

/** The host with the core's end of a transport pair: what it sent, and a way to wait for a message. */
function hostInProcess() {
  const received: HostToCore[] = [];
  const waiters = new Set<() => void>();
  let deliver: (message: unknown) => void = () => {};
  runSessionHost({
    send: (message) => {
      received.push(message);
      for (const waiter of [...waiters]) waiter();
    },
    onMessage: (listener) => {
      deliver = listener;
    },
  });
  send = (message) => deliver(message);
  const until = (test: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20_000);
      const check = () => {
        if (!test()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  const output = (id: string) =>
    received
      .filter((m): m is Extract<HostToCore, { type: 'output' }> => m.type === 'output' && m.id === id)
      .map((m) => Buffer.from(m.data).toString('utf8'))
      .join('');
  return { send: send!, received, until, output };
}

describe('session host', () => {
  it('applies a resize that arrives while the data channel is still opening', async () => {
    sandbox = await startSandbox({ approve: 'alice' });
    const { accessToken } = await signIn(sandbox);
    const credentials = await permissionSetCredentials(
      sandbox,
      accessToken,
      '222222222222',
      'AdministratorAccess',
    );
    ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', credentials));
    const started = await ssm.send(
      new StartSessionCommand({
        Target: 'i-0a1b2c3d4e5f60001',
        DocumentName: 'RoleShell-AdministratorAccess',
      }),
    );
    const host = hostInProcess();
    const id = 'tab-1-0';
    host.send({
      type: 'open',
      id,
      backend: 'dataChannel',
      streamUrl: started.StreamUrl!,
      tokenValue: started.TokenValue!,
      cols: 80,
      rows: 24,
    });
    // The renderer's terminal was fitted again before the channel was up (the socket is not even open yet).
    host.send({ type: 'resize', id, cols: 101, rows: 31 });
    await host.until(() => host.received.some((m) => m.type === 'opened' && m.id === id), 'opened');
    await host.until(() => host.output(id).length > 0, 'the prompt');
    host.send({ type: 'input', id, data: 'echo "size=$(stty size)"\r' });
    await host.until(() => /size=\d+ \d+/.test(host.output(id)), 'stty size');
    expect(/size=(\d+ \d+)/.exec(host.output(id))?.[1]).toBe('31 101');
    await ssm.send(new TerminateSessionCommand({ SessionId: started.SessionId }));
  });
});
