/**
 * The data channel through the real sandbox: SSM StartSession, ResumeSession,
 * DescribeSessions and TerminateSession with the unmodified AWS SDK client,
 * the session's shell reached with RoleShell's built-in client.
 */
import {
  DescribeSessionsCommand,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DataChannelClient } from '../../../app/session/dataChannel/client';
import type { ChannelClosedPayload } from '../../../app/session/dataChannel/message';
import { startSandbox, type Sandbox } from '../index';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';
import { Transcript, ensureLinuxUser, runningAsRoot } from './fixtures/harness';

const ACCOUNT = '222222222222';
const INSTANCE = 'i-0a1b2c3d4e5f60001';

let sandbox: Sandbox;
let ssm: SSMClient;
let client: DataChannelClient | undefined;

beforeAll(async () => {
  sandbox = await startSandbox({ approve: 'alice' });
  // Without bubblewrap the shell runs on the machine itself, as its own developer user when root.
  if (!sandbox.isolation.available && runningAsRoot) ensureLinuxUser('developer');
  const { accessToken } = await signIn(sandbox);
  const credentials = await permissionSetCredentials(sandbox, accessToken, ACCOUNT, 'Developer');
  ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', credentials));
});

afterAll(async () => {
  client?.close();
  ssm?.destroy();
  await sandbox?.close();
});

it('opens a StartSession stream as the mapped Linux user, resumes it, and ends it with TerminateSession', async () => {
  const started = await ssm.send(
    new StartSessionCommand({ Target: INSTANCE, DocumentName: 'RoleShell-Developer' }),
  );
  expect(started.StreamUrl).toMatch(
    /^ws:\/\/127\.0\.0\.1:\d+\/v1\/data-channel\/.+\?role=publish_subscribe$/,
  );
  client = await DataChannelClient.open(started.StreamUrl!, started.TokenValue!);
  const transcript = new Transcript();
  client.on('output', transcript.append);
  const closed = new Promise<ChannelClosedPayload>((resolve) => client!.once('closed', resolve));

  client.sendInput('echo "I am" "$(whoami)."\r');
  const who = await transcript.waitFor(/I am ([\w-]+)\.\r\n/);
  expect(who[1]).toBe(
    sandbox.isolation.available || runningAsRoot
      ? 'developer'
      : (await import('node:os')).userInfo().username,
  );

  const active = await ssm.send(new DescribeSessionsCommand({ State: 'Active' }));
  expect(active.Sessions?.map((s) => s.SessionId)).toContain(started.SessionId);

  const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: started.SessionId }));
  await client.resume(resumed.TokenValue!);
  client.sendInput('echo "resumed $((40+2))"\r');
  await transcript.waitFor(/resumed 42\r\n/);

  await ssm.send(new TerminateSessionCommand({ SessionId: started.SessionId }));
  expect((await closed).SessionId).toBe(started.SessionId);
  const history = await ssm.send(new DescribeSessionsCommand({ State: 'History' }));
  expect(history.Sessions?.find((s) => s.SessionId === started.SessionId)?.Status).toBe('Terminated');
});
