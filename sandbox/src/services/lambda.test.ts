import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';
import type { OrgFile } from '../org';
import { defaultOrgWith } from '../testing/orgs';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

const CENTRAL = '111111111111';
const fixture = (name: string) => `sandbox/test-fixtures/lambda/${name}.ts`;
const fn = (
  name: string,
  module: string,
  extra: Partial<NonNullable<OrgFile['functions']>[number]> = {},
) => ({
  name,
  account: CENTRAL,
  region: 'eu-west-1',
  module: fixture(module),
  handler: 'handler',
  role: 'RoleShellBrokerExecution',
  ...extra,
});
const decode = (p?: Uint8Array) => JSON.parse(new TextDecoder().decode(p));

describe('lambda Invoke', () => {
  let sandbox: Sandbox;
  let creds: AwsCredentialIdentity;
  let lambda: LambdaClient;
  const arn = (name: string) => `arn:aws:lambda:eu-west-1:${CENTRAL}:function:${name}`;
  const invoke = (name: string, payload: unknown, client = lambda) =>
    client.send(new InvokeCommand({ FunctionName: arn(name), Payload: JSON.stringify(payload) }));

  beforeAll(async () => {
    sandbox = await startSandbox({
      approve: 'alice',
      org: defaultOrgWith({
        functions: [
          fn('echo', 'echo', { environment: { CUSTOM: 'endpoint=${SANDBOX_ENDPOINT}' } }),
          fn('fail', 'fail', { timeoutSeconds: 1 }),
          fn('start-session', 'startSession'),
          fn('private', 'echo', { invokers: [`arn:aws:iam::${CENTRAL}:role/SomeoneElse`] }),
          fn('missing', 'does-not-exist'),
          fn('wrong-handler', 'echo', { handler: 'nope' }),
        ],
      }),
    });
    const { accessToken } = await signIn(sandbox);
    creds = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'Developer');
    lambda = new LambdaClient(clientConfig(sandbox, 'eu-west-1', creds));
  });
  afterAll(async () => {
    lambda.destroy();
    await sandbox.close();
  });

  it('runs the handler with a Lambda environment and its own execution-role credentials, warm after the first call', async () => {
    const first = await invoke('echo', { hello: 'world' });
    expect(first.StatusCode).toBe(200);
    expect(first.FunctionError).toBeUndefined();
    expect(first.ExecutedVersion).toBe('$LATEST');
    const body = decode(first.Payload);
    expect(body).toMatchObject({
      event: { hello: 'world' },
      invocations: 1,
      invokedFunctionArn: arn('echo'),
      env: {
        AWS_REGION: 'eu-west-1',
        AWS_LAMBDA_FUNCTION_NAME: 'echo',
        AWS_ENDPOINT_URL: sandbox.endpoint,
        CUSTOM: `endpoint=${sandbox.endpoint}`,
        HOME_AWS_KEY_IS_SANDBOX: true,
      },
      callerArn: `arn:aws:sts::${CENTRAL}:assumed-role/RoleShellBrokerExecution/echo`,
    });
    expect(body.awsRequestId).toBe(first.$metadata.requestId);
    const second = decode((await invoke('echo', {})).Payload);
    expect(second.invocations).toBe(2);
  });

  it('returns the function’s logs with LogType Tail', async () => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: arn('echo'), Payload: '{}', LogType: 'Tail' }),
    );
    const log = Buffer.from(out.LogResult!, 'base64').toString('utf8');
    expect(log).toMatch(/echo invoked \d+/);
    expect(log).toContain('REPORT RequestId:');
  });

  it('reports a thrown error as FunctionError Unhandled with errorType, errorMessage and trace', async () => {
    const out = await invoke('fail', {});
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const error = decode(out.Payload);
    expect(error.errorType).toBe('BrokenThing');
    expect(error.errorMessage).toBe('the handler failed on purpose');
    expect(Array.isArray(error.trace)).toBe(true);
  });

  it('times out a handler and recovers with a fresh worker', async () => {
    const out = await invoke('fail', { mode: 'sleep' });
    expect(out.FunctionError).toBe('Unhandled');
    expect(decode(out.Payload).errorMessage).toMatch(/Task timed out after 1\.00 seconds/);
    const exited = await invoke('fail', { mode: 'exit' });
    expect(decode(exited.Payload).errorType).toBe('Runtime.ExitError');
    expect(decode((await invoke('fail', {})).Payload).errorType).toBe('BrokenThing');
  });

  it('checks the resource policy (AccessDeniedException)', async () => {
    await expect(invoke('private', {})).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('answers ResourceNotFoundException for unknown functions and qualifiers', async () => {
    await expect(invoke('nope', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      lambda.send(new InvokeCommand({ FunctionName: arn('echo'), Qualifier: '7', Payload: '{}' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // By bare name, the function is looked up in the caller's own account.
    await expect(
      lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{}' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('refuses a payload that is not JSON', async () => {
    await expect(
      lambda.send(
        new InvokeCommand({ FunctionName: arn('echo'), Payload: new TextEncoder().encode('not json') }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
  });

  it('fails only the invoke of a function whose module or handler is missing, with a clear error', async () => {
    const missing = await invoke('missing', {});
    expect(missing.FunctionError).toBe('Unhandled');
    expect(decode(missing.Payload)).toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: expect.stringContaining(
        'Cannot find module sandbox/test-fixtures/lambda/does-not-exist.ts',
      ),
    });
    const wrong = decode((await invoke('wrong-handler', {})).Payload);
    expect(wrong).toMatchObject({ errorType: 'Runtime.HandlerNotFound' });
    // The sandbox itself is fine.
    expect((await invoke('echo', {})).FunctionError).toBeUndefined();
  });

  it('supports DryRun and Event invocation types', async () => {
    const framing: unknown[] = [];
    const client = new LambdaClient(clientConfig(sandbox, 'eu-west-1', creds));
    client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const headers = (out.response as { headers: Record<string, string> }).headers;
        framing.push([headers['content-length'], headers['transfer-encoding']]);
        return out;
      },
      { step: 'deserialize', name: 'recordFraming' },
    );
    const dry = await client.send(new InvokeCommand({ FunctionName: arn('echo'), InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    // No body and no length: a 204 may carry neither (RFC 9110).
    expect(framing).toEqual([[undefined, undefined]]);
    client.destroy();
    const event = await lambda.send(
      new InvokeCommand({ FunctionName: arn('echo'), InvocationType: 'Event', Payload: '{}' }),
    );
    expect(event.StatusCode).toBe(202);
  });

  it('lets a function assume the member target role and start a session attributed to the user', async () => {
    const out = await invoke('start-session', {
      accountId: '222222222222',
      user: 'alice',
      target: 'i-0a1b2c3d4e5f60001',
      documentName: 'RoleShell-Support_Tier1',
    });
    expect(out.FunctionError).toBeUndefined();
    const { SessionId } = decode(out.Payload);
    expect(SessionId).toMatch(/^alice-[0-9a-f]{17}$/);
    expect(sandbox.sessions.get(SessionId)).toMatchObject({
      runAsUser: 'support',
      owner: 'arn:aws:sts::222222222222:assumed-role/RoleShellTarget/alice',
      reason: 'RoleShell for alice',
    });
    const start = sandbox
      .cloudTrail()
      .find((e) => e.eventName === 'StartSession' && e.responseElements?.sessionId === SessionId);
    expect(start?.userIdentity.sessionContext?.sourceIdentity).toBe('alice');
    expect(start?.userIdentity.sessionContext?.sessionIssuer.arn).toBe(
      'arn:aws:iam::222222222222:role/RoleShellTarget',
    );
    const assume = sandbox
      .cloudTrail()
      .filter(
        (e) =>
          e.eventName === 'AssumeRole' &&
          e.userIdentity.arn?.endsWith('/RoleShellBrokerExecution/start-session'),
      )
      .at(-1);
    expect(assume?.requestParameters).toMatchObject({ roleSessionName: 'alice', sourceIdentity: 'alice' });
  });

  it('keeps the broker’s target role from taking an SSMSessionRunAs session tag that is not the mapping', async () => {
    // The target role trusts the broker with sts:TagSession, so a tag is possible; it then wins, as on AWS.
    const out = await invoke('start-session', {
      accountId: '222222222222',
      user: 'alice',
      target: 'i-0a1b2c3d4e5f60001',
      documentName: 'RoleShell-ReadOnly',
      tags: [{ Key: 'SSMSessionRunAs', Value: 'tagged' }],
    });
    expect(sandbox.sessions.get(decode(out.Payload).SessionId)?.runAsUser).toBe('tagged');
  });
});

describe('lambda shutdown', () => {
  it('close() ends warm and in-flight workers instead of waiting for them', async () => {
    let started = false;
    const sandbox = await startSandbox({
      approve: 'alice',
      org: defaultOrgWith({ functions: [fn('sleepy', 'fail', { timeoutSeconds: 900 })] }),
      log: (line) => (started ||= line.startsWith('[lambda sleepy] START')),
    });
    const { accessToken } = await signIn(sandbox);
    const creds = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'Developer');
    const lambda = new LambdaClient(clientConfig(sandbox, 'eu-west-1', creds));
    const pending = lambda
      .send(
        new InvokeCommand({
          FunctionName: `arn:aws:lambda:eu-west-1:${CENTRAL}:function:sleepy`,
          Payload: JSON.stringify({ mode: 'sleep' }),
        }),
      )
      .then(
        () => 'answered',
        () => 'connection closed',
      );
    // Wait until the handler is running.
    while (!started) await new Promise((r) => setTimeout(r, 20));
    // The test's own timeout (30 s) fails this if close() waited for the 60 s sleep or the 900 s timeout.
    await sandbox.close();
    expect(['answered', 'connection closed']).toContain(await pending);
    lambda.destroy();
  });
});
