import {
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
  ResumeSessionCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataChannelClient } from '../../../app/session/dataChannel/client';
import { startSandbox, type Sandbox } from '../index';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

/** StartSession / ResumeSession / TerminateSession wired to the data-channel agent behind StreamUrl. */
describe('ssm sessions over the data channel', () => {
  let sandbox: Sandbox;
  let ssm: SSMClient;
  beforeAll(async () => {
    sandbox = await startSandbox({ approve: 'alice' });
    const { accessToken } = await signIn(sandbox);
    const creds = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'Support_Tier1');
    ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', creds));
  });
  afterAll(async () => {
    ssm.destroy();
    await sandbox.close();
  });

  const until = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 20));
  };

  it('opens a shell with the StreamUrl and token, accepts a resumed token, and ends it on TerminateSession', async () => {
    const session = await ssm.send(
      new StartSessionCommand({ Target: 'i-0a1b2c3d4e5f60002', DocumentName: 'RoleShell-Support_Tier1' }),
    );
    const client = await DataChannelClient.open(session.StreamUrl!, session.TokenValue!, {
      size: { cols: 80, rows: 24 },
    });
    let output = '';
    client.on('output', (chunk: Buffer) => (output += chunk.toString()));
    client.sendInput(Buffer.from('echo ready-$((40+2))\n'));
    await until(() => output.includes('ready-42'));
    expect(sandbox.sessions.get(session.SessionId!)?.status).toBe('Connected');

    // A token from ResumeSession opens the same session.
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: session.SessionId }));
    expect(sandbox.sessions.get(session.SessionId!)?.tokens).toContain(resumed.TokenValue);

    const closed = new Promise<void>((resolve) => client.once('closed', () => resolve()));
    await ssm.send(new TerminateSessionCommand({ SessionId: session.SessionId }));
    await closed;
    expect(sandbox.sessions.get(session.SessionId!)).toMatchObject({
      status: 'Terminated',
      endDate: expect.any(Date),
    });
    client.close();

    // A terminated session cannot be opened again.
    await expect(
      DataChannelClient.open(session.StreamUrl!, resumed.TokenValue!, { handshakeTimeoutMs: 5000 }),
    ).rejects.toThrow();
  });

  it('refuses a StreamUrl with a wrong token', async () => {
    const session = await ssm.send(
      new StartSessionCommand({ Target: 'i-0a1b2c3d4e5f60002', DocumentName: 'RoleShell-Support_Tier1' }),
    );
    await expect(
      DataChannelClient.open(session.StreamUrl!, 'not-the-token', { handshakeTimeoutMs: 5000 }),
    ).rejects.toThrow();
    await ssm.send(new TerminateSessionCommand({ SessionId: session.SessionId }));
  });
});
