import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proofRequestFor, requestDigest } from '../../broker/src/identityProof/sign';
import { BrokerClient } from './brokerClient';

/** A Lambda Invoke endpoint on the wire (restJson), answering what each test scripts. */
let server: http.Server;
let endpoint: string;
let reply: (payload: Record<string, unknown>) => {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
};
let received: { path: string; authorization: string | undefined; payload: Record<string, unknown> }[];

beforeEach(async () => {
  received = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      received.push({ path: req.url ?? '', authorization: req.headers.authorization, payload });
      const out = reply(payload);
      res
        .writeHead(out.status ?? 200, { 'content-type': 'application/json', ...out.headers })
        .end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const arn = 'arn:aws:lambda:eu-west-1:111111111111:function:roleshell-broker';
const credentials = {
  accessKeyId: 'ASIAEXAMPLEKEY000001',
  secretAccessKey: 'secret-example',
  sessionToken: 'session-token-example',
  expiration: Date.now() + 3600_000,
};

describe('BrokerClient', () => {
  it('invokes with the permission set credentials and a signed proof whose audience is the broker ARN', async () => {
    reply = () => ({
      body: {
        ok: true,
        permissionSet: 'ReadOnly',
        linuxUser: 'auditor',
        documentName: 'RoleShell-ReadOnly',
        targets: [],
      },
    });
    const broker = new BrokerClient({ functionArn: arn, endpoint });
    try {
      const got = await broker.listTargets(credentials, ['eu-west-1', 'us-east-1']);
      expect(got.linuxUser).toBe('auditor');
    } finally {
      broker.destroy();
    }
    const [call] = received;
    expect(call?.path).toContain(
      '/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A111111111111%3Afunction%3Aroleshell-broker/invocations',
    );
    expect(call?.authorization).toContain('Credential=ASIAEXAMPLEKEY000001/');
    expect(call?.payload).toMatchObject({ action: 'listTargets', regions: ['eu-west-1', 'us-east-1'] });
    const identity = call?.payload.identity as { url: string; headers: Record<string, string>; body: string };
    expect(identity.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(identity.headers['x-roleshell-audience']).toBe(arn);
    expect(identity.headers.authorization).toMatch(/SignedHeaders=[^,]*x-roleshell-audience/);
    // The proof carries a signature, never the secret key.
    expect(JSON.stringify(call?.payload)).not.toContain('secret-example');
  });

  it('binds each proof to the request it carries, with a fresh proof per call', async () => {
    reply = (payload) => ({
      body: {
        ok: true,
        session: { SessionId: payload.sessionId, StreamUrl: 'wss://example/stream', TokenValue: 'new-token' },
      },
    });
    const broker = new BrokerClient({ functionArn: arn, endpoint });
    const target = { region: 'eu-west-1', sessionId: 'alice-0123456789abcdef0' };
    try {
      const resumed = await broker.resumeSession(credentials, target);
      expect(resumed.session).toEqual({
        SessionId: target.sessionId,
        StreamUrl: 'wss://example/stream',
        TokenValue: 'new-token',
      });
      await broker.resumeSession(credentials, target);
    } finally {
      broker.destroy();
    }
    const [first, second] = received.map((call) => call.payload);
    expect(first).toMatchObject({ action: 'resumeSession', ...target });
    const headers = (first?.identity as { headers: Record<string, string> }).headers;
    expect(headers['x-roleshell-request']).toBe(
      requestDigest(proofRequestFor({ action: 'resumeSession', ...target })),
    );
    expect(headers.authorization).toMatch(/SignedHeaders=[^,]*x-roleshell-request/);
    // Two identical calls never share a proof: resume proofs are single-use.
    const secondHeaders = (second?.identity as { headers: Record<string, string> }).headers;
    expect(secondHeaders.authorization).not.toBe(headers.authorization);
  });

  it.each([
    ['AccessDenied', 'AccessDenied', /map this permission set/],
    ['TargetNotConnected', 'Unavailable', /offline in Session Manager/],
    ['TargetNotFound', 'NotFound', /refresh the list/],
    ['IdentityRejected', 'AccessDenied', /clock/],
    ['Throttled', 'Throttled', /Wait a few seconds/],
    ['SomethingNew', 'Internal', /give your administrator/],
  ])('maps broker code %s to %s with a next step', async (brokerCode, apiCode, next) => {
    reply = () => ({ body: { ok: false, error: { code: brokerCode, message: 'Broker says no' } } });
    const broker = new BrokerClient({ functionArn: arn, endpoint });
    try {
      await expect(broker.listTargets(credentials, ['eu-west-1'])).rejects.toMatchObject({
        code: apiCode,
        message: expect.stringMatching(next),
      });
    } finally {
      broker.destroy();
    }
  });

  it('explains a missing broker function and an unreachable broker', async () => {
    reply = () => ({
      status: 404,
      headers: { 'x-amzn-errortype': 'ResourceNotFoundException' },
      body: { message: 'Function not found' },
    });
    const broker = new BrokerClient({ functionArn: arn, endpoint });
    await expect(broker.listTargets(credentials, ['eu-west-1'])).rejects.toMatchObject({
      code: 'Unavailable',
      message: /does not exist/,
    });
    broker.destroy();
    const gone = new BrokerClient({ functionArn: arn, endpoint: 'http://127.0.0.1:9' });
    await expect(gone.listTargets(credentials, ['eu-west-1'])).rejects.toMatchObject({
      code: 'Unavailable',
      message: /Could not reach the broker/,
    });
    gone.destroy();
  });

  it('reports a crashed broker without its stack', async () => {
    reply = () => ({
      headers: { 'x-amz-function-error': 'Unhandled' },
      body: { errorMessage: 'boom at /var/task/index.js', errorType: 'Error' },
    });
    const broker = new BrokerClient({ functionArn: arn, endpoint });
    const error = await broker.listTargets(credentials, ['eu-west-1']).catch((e: unknown) => e as Error);
    broker.destroy();
    expect(error).toMatchObject({ code: 'Internal' });
    expect((error as Error).message).not.toContain('/var/task');
  });

  it('refuses a broker ARN that is not a Lambda function ARN', () => {
    expect(() => new BrokerClient({ functionArn: 'arn:aws:s3:::bucket' })).toThrow(
      /not a Lambda function ARN/,
    );
  });
});
