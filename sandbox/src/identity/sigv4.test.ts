import { createHash } from 'node:crypto';
import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type {
  AwsCredentialIdentity,
  FinalizeRequestMiddleware,
  MetadataBearer,
  MiddlewareStack,
} from '@smithy/types';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';
import { CredentialStore } from './principals';
import type { SignatureError } from './sigv4';
import { parseAuthorization, SigningKeys, verifySignature } from './sigv4';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

/** Changes the request after the SDK signed it, as a man in the middle would. */
function tamperAfterSigning(client: SSMClient | STSClient, tamper: (request: HttpRequest) => void) {
  const middleware: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
    if (HttpRequest.isInstance(args.request)) tamper(args.request);
    return next(args);
  };
  (client.middlewareStack as MiddlewareStack<object, MetadataBearer>).addRelativeTo(middleware, {
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
    name: 'tamperAfterSigning',
  });
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
  );

describe('SigV4 verification', () => {
  let sandbox: Sandbox;
  let creds: AwsCredentialIdentity;
  beforeAll(async () => {
    sandbox = await startSandbox({ approve: 'alice' });
    const { accessToken } = await signIn(sandbox);
    creds = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'ReadOnly');
  });
  afterAll(() => sandbox.close());

  it('accepts a correctly signed request', async () => {
    const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', creds));
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Arn).toMatch(
      /^arn:aws:sts::222222222222:assumed-role\/AWSReservedSSO_ReadOnly_[0-9a-f]{16}\/alice$/,
    );
  });

  it('refuses a SignedHeaders entry named like an Object built-in as a missing header', async () => {
    const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', creds));
    tamperAfterSigning(sts, (r) => {
      r.headers.authorization = r.headers.authorization!.replace(
        'SignedHeaders=',
        'SignedHeaders=constructor;',
      );
    });
    const err = await errorOf(sts.send(new GetCallerIdentityCommand({})));
    expect(err?.name).toBe('SignatureDoesNotMatch');
    expect(err?.message).toBe('Signed header constructor is missing.');
    sts.destroy();
  });

  it('refuses a tampered body (payload hash mismatch)', async () => {
    const ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', creds));
    tamperAfterSigning(ssm, (r) => {
      r.body = String(r.body).replace('RoleShell-ReadOnly', 'RoleShell-Developer');
      r.headers['content-length'] = String(Buffer.byteLength(String(r.body)));
    });
    const err = await errorOf(ssm.send(new GetDocumentCommand({ Name: 'RoleShell-ReadOnly' })));
    expect(err?.name).toBe('InvalidSignatureException');
  });

  it('refuses a tampered body whose payload hash was recomputed (signature mismatch)', async () => {
    const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', creds));
    tamperAfterSigning(sts, (r) => {
      r.body = 'Action=GetCallerIdentity&Version=2011-06-15&X=1';
      r.headers['content-length'] = String(Buffer.byteLength(r.body as string));
      r.headers['x-amz-content-sha256'] = createHash('sha256')
        .update(r.body as string)
        .digest('hex');
    });
    const err = await errorOf(sts.send(new GetCallerIdentityCommand({})));
    expect(err?.name).toBe('SignatureDoesNotMatch');
    expect(err?.$metadata?.httpStatusCode).toBe(403);
  });

  it('refuses a tampered signed header', async () => {
    const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', creds));
    tamperAfterSigning(sts, (r) => {
      r.headers['x-amz-user-agent'] = 'evil';
    });
    const err = await errorOf(sts.send(new GetCallerIdentityCommand({})));
    expect(err?.name).toBe('SignatureDoesNotMatch');
  });

  it('refuses the wrong secret with each service’s error code', async () => {
    const wrong = { ...creds, secretAccessKey: 'x'.repeat(40) };
    const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', wrong));
    expect((await errorOf(sts.send(new GetCallerIdentityCommand({}))))?.name).toBe('SignatureDoesNotMatch');
    const ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', wrong));
    expect((await errorOf(ssm.send(new GetDocumentCommand({ Name: 'RoleShell-ReadOnly' }))))?.name).toBe(
      'InvalidSignatureException',
    );
    const ec2 = new EC2Client(clientConfig(sandbox, 'eu-west-1', wrong));
    expect((await errorOf(ec2.send(new DescribeInstancesCommand({}))))?.name).toBe('AuthFailure');
  });

  it('refuses a signature more than 15 minutes old, and the SDK corrects its clock from the Date header', async () => {
    const stale = new STSClient({
      ...clientConfig(sandbox, 'eu-west-1', creds),
      systemClockOffset: -20 * 60_000,
    });
    const err = await errorOf(stale.send(new GetCallerIdentityCommand({})));
    expect(err?.name).toBe('SignatureDoesNotMatch');
    expect(err?.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z/);
    const future = { ...clientConfig(sandbox, 'eu-west-1', creds), systemClockOffset: 20 * 60_000 };
    const errFuture = await errorOf(
      new SSMClient(future).send(new GetDocumentCommand({ Name: 'RoleShell-ReadOnly' })),
    );
    expect(errFuture?.name).toBe('InvalidSignatureException');
    expect(errFuture?.message).toMatch(/^Signature not yet current/);
    // The SDK adopted the server's clock from the error's Date header: its next call is signed in time.
    const id = await stale.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe('222222222222');
  });

  it('refuses unknown access keys and a mismatched session token', async () => {
    const unknown = { accessKeyId: 'ASIAUNKNOWNUNKNOWN12', secretAccessKey: 'x', sessionToken: 'y' };
    const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', unknown));
    expect((await errorOf(sts.send(new GetCallerIdentityCommand({}))))?.name).toBe('InvalidClientTokenId');
    const ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', unknown));
    expect((await errorOf(ssm.send(new GetDocumentCommand({ Name: 'x-doc' }))))?.name).toBe(
      'UnrecognizedClientException',
    );
    const noToken = new STSClient(clientConfig(sandbox, 'eu-west-1', { ...creds, sessionToken: undefined }));
    expect((await errorOf(noToken.send(new GetCallerIdentityCommand({}))))?.name).toBe(
      'InvalidClientTokenId',
    );
  });

  it('refuses unsigned requests', async () => {
    const res = await fetch(sandbox.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });
});

describe('expired credentials', () => {
  it('are refused with ExpiredToken / ExpiredTokenException', async () => {
    const sandbox = await startSandbox({ approve: 'bob', roleCredentialLifetimeSeconds: 1 });
    try {
      const { accessToken } = await signIn(sandbox);
      const creds = await permissionSetCredentials(sandbox, accessToken, '333333333333', 'Developer');
      await new Promise((r) => setTimeout(r, 1100));
      const sts = new STSClient(clientConfig(sandbox, 'eu-west-1', creds));
      expect((await errorOf(sts.send(new GetCallerIdentityCommand({}))))?.name).toBe('ExpiredToken');
      const ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', creds));
      expect((await errorOf(ssm.send(new GetDocumentCommand({ Name: 'RoleShell-Developer' }))))?.name).toBe(
        'ExpiredTokenException',
      );
    } finally {
      await sandbox.close();
    }
  });
});

describe('verifySignature with cached signing keys', () => {
  const store = new CredentialStore();
  const issued = store.issue(
    { accountId: '222222222222', roleName: 'Caller', rolePath: '/', sessionName: 'alice' },
    3600,
  );
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';

  /** A request signed as the SDK signs it, headers as Node receives them (lower case). */
  async function signed(options: {
    secretAccessKey?: string;
    region?: string;
    service?: string;
    signingDate?: Date;
  }) {
    const signer = new SignatureV4({
      service: options.service ?? 'sts',
      region: options.region ?? 'us-east-1',
      credentials: { ...issued, secretAccessKey: options.secretAccessKey ?? issued.secretAccessKey },
      sha256: Hash.bind(null, 'sha256'),
    });
    const request = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 4566,
        path: '/',
        headers: { host: '127.0.0.1:4566', 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }),
      { signingDate: options.signingDate ?? new Date() },
    );
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    return { method: 'POST', rawPath: '/', query: new URLSearchParams(), headers, body: Buffer.from(body) };
  }
  const verify = async (request: Awaited<ReturnType<typeof signed>>, keys: SigningKeys, now = new Date()) =>
    verifySignature(request, parseAuthorization(request.headers)!, store, now, keys);
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: SignatureError) => e.failure,
    );

  it('accepts a request signed with the issued secret, again from the cached key', async () => {
    const keys = new SigningKeys();
    await expect(verify(await signed({}), keys)).resolves.toMatchObject({ scope: { service: 'sts' } });
    expect(keys.size).toBe(1);
    await expect(verify(await signed({}), keys)).resolves.toBeDefined();
    expect(keys.size).toBe(1);
  });

  it('refuses another secret for the same key ID once the right key is cached', async () => {
    const keys = new SigningKeys();
    await verify(await signed({}), keys);
    const wrong = `${issued.secretAccessKey.slice(0, -1)}${issued.secretAccessKey.endsWith('A') ? 'B' : 'A'}`;
    expect(await refusal(verify(await signed({ secretAccessKey: wrong }), keys))).toBe('signature');
  });

  it('derives another key for another date, region or service instead of reusing the cached one', async () => {
    const keys = new SigningKeys();
    const today = new Date();
    await verify(await signed({ signingDate: today }), keys);
    const yesterday = new Date(today.getTime() - 24 * 3600_000);
    await expect(verify(await signed({ signingDate: yesterday }), keys, yesterday)).resolves.toBeDefined();
    await expect(verify(await signed({ region: 'eu-west-1' }), keys)).resolves.toBeDefined();
    await expect(verify(await signed({ service: 'iam' }), keys)).resolves.toBeDefined();
    expect(keys.size).toBe(4);
  });

  it('refuses a request whose scope names another region than it was signed for', async () => {
    const keys = new SigningKeys();
    await verify(await signed({ region: 'eu-west-1' }), keys);
    const request = await signed({ region: 'us-east-1' });
    request.headers.authorization = request.headers.authorization!.replace('/us-east-1/', '/eu-west-1/');
    expect(await refusal(verify(request, keys))).toBe('signature');
  });

  it('keeps at most its limit of keys, the least recently used dropped', () => {
    const keys = new SigningKeys(2);
    const a = keys.get('AKIDA', 'secretA', '20260101', 'us-east-1', 'sts');
    keys.get('AKIDB', 'secretB', '20260101', 'us-east-1', 'sts');
    expect(keys.get('AKIDA', 'secretA', '20260101', 'us-east-1', 'sts')).toBe(a);
    keys.get('AKIDC', 'secretC', '20260101', 'us-east-1', 'sts');
    expect(keys.size).toBe(2);
    // A was used after B, so B went; A is still the same cached key.
    expect(keys.get('AKIDA', 'secretA', '20260101', 'us-east-1', 'sts')).toBe(a);
    expect(keys.size).toBe(2);
  });

  it('derives the key AWS documents (kSigning of the SigV4 example)', () => {
    // AWS's SigV4 documentation example: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830/us-east-1/iam.
    const key = new SigningKeys().get(
      'AKIDEXAMPLE',
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '20150830',
      'us-east-1',
      'iam',
    );
    expect(key.toString('hex')).toBe('c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
  });
});
