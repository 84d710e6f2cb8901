/**
 * A packaged app ships the broker already bundled and no sources or esbuild:
 * `functionBundles` runs such a bundle as it is instead of the org's `module`.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';
import { defaultOrgWith } from '../testing/orgs';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

const CENTRAL = '111111111111';
const fn = (name: string) => ({
  name,
  account: CENTRAL,
  region: 'eu-west-1',
  // No such source: only the prebuilt bundle can run.
  module: 'sandbox/test-fixtures/lambda/not-in-a-packaged-app.ts',
  handler: 'handler',
  role: 'RoleShellBrokerExecution',
});
const decode = (p?: Uint8Array) => JSON.parse(new TextDecoder().decode(p));

describe('prebuilt function bundles', () => {
  let dir: string;
  let sandbox: Sandbox;
  let lambda: LambdaClient;
  const invoke = (name: string) =>
    lambda.send(
      new InvokeCommand({
        FunctionName: `arn:aws:lambda:eu-west-1:${CENTRAL}:function:${name}`,
        Payload: '{"a":1}',
      }),
    );

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-bundles-'));
    await writeFile(
      path.join(dir, 'bundled.mjs'),
      'export const handler = async (event) => ({ prebuilt: true, event, region: process.env.AWS_REGION });\n',
    );
    sandbox = await startSandbox({
      approve: 'alice',
      org: defaultOrgWith({ functions: [fn('bundled'), fn('bundle-missing')] }),
      functionBundles: {
        bundled: path.join(dir, 'bundled.mjs'),
        'bundle-missing': path.join(dir, 'gone.mjs'),
      },
    });
    const { accessToken } = await signIn(sandbox);
    const creds = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'Developer');
    lambda = new LambdaClient(clientConfig(sandbox, 'eu-west-1', creds));
  });
  afterAll(async () => {
    lambda.destroy();
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the bundle as it is, in the usual Lambda environment', async () => {
    const result = await invoke('bundled');
    expect(result.FunctionError).toBeUndefined();
    expect(decode(result.Payload)).toEqual({ prebuilt: true, event: { a: 1 }, region: 'eu-west-1' });
  });

  it('answers a missing bundle with a function error that names it', async () => {
    const result = await invoke('bundle-missing');
    expect(result.FunctionError).toBe('Unhandled');
    expect(decode(result.Payload).errorMessage).toContain(
      `Cannot find the bundle ${path.join(dir, 'gone.mjs')}`,
    );
  });
});
