import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerError } from '../errors';
import { keepAliveAgents, parseGetCallerIdentityResponse, replayIdentityProof } from './replay';
import type { CheckedProof } from './verify';

const IDENTITY_XML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice</Arn>
    <UserId>AROAEXAMPLE:alice</UserId>
    <Account>111122223333</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;

const errorXml = (code: string) =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>m</Message></Error><RequestId>1</RequestId></ErrorResponse>`;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

const servers: http.Server[] = [];

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, received };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

const proofFor = (origin: string): CheckedProof => ({
  url: new URL(`${origin}/`),
  headers: {
    authorization: 'AWS4-HMAC-SHA256 x',
    'x-amz-date': '20260130T101500Z',
    'x-roleshell-audience': 'arn',
  },
  body: 'Action=GetCallerIdentity&Version=2011-06-15',
  accessKeyId: 'ASIA',
  signature: '0'.repeat(64),
  signedAt: new Date('2026-01-30T10:15:00Z'),
});

async function refusal(promise: Promise<unknown>): Promise<BrokerError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BrokerError);
  return error as BrokerError;
}

describe('replayIdentityProof', () => {
  it('sends the body and only the given headers, and returns what STS says', async () => {
    const sts = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/xml' }).end(IDENTITY_XML),
    );
    const identity = await replayIdentityProof(proofFor(sts.origin), 2000);
    expect(identity).toEqual({
      Arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice',
      UserId: 'AROAEXAMPLE:alice',
      Account: '111122223333',
    });
    expect(sts.received).toHaveLength(1);
    expect(sts.received[0]!.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(sts.received[0]!.headers['x-roleshell-audience']).toBe('arn');
    expect(sts.received[0]!.headers.host).toBe(new URL(sts.origin).host);
  });

  it('reuses one connection across replays with keep-alive agents', async () => {
    const sockets = new Set<unknown>();
    const sts = await serve((req, res) => {
      sockets.add(req.socket);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(IDENTITY_XML);
    });
    const agents = keepAliveAgents();
    try {
      for (let i = 0; i < 3; i++) await replayIdentityProof(proofFor(sts.origin), 2000, agents);
      expect(sts.received).toHaveLength(3);
      expect(sockets.size).toBe(1);
    } finally {
      agents.http?.destroy();
      agents.https?.destroy();
    }
  });

  it('follows no redirect: the server it points to is never contacted', async () => {
    const forged = await serve((_req, res) => res.writeHead(200).end(IDENTITY_XML));
    const redirecting = await serve((_req, res) =>
      res.writeHead(307, { location: `${forged.origin}/` }).end(),
    );
    const error = await refusal(replayIdentityProof(proofFor(redirecting.origin), 2000));
    expect(error.code).toBe('IdentityRejected');
    expect(redirecting.received).toHaveLength(1);
    expect(forged.received).toHaveLength(0);
  });

  it('gives up when STS does not answer in time', async () => {
    const silent = await serve(() => {});
    const error = await refusal(replayIdentityProof(proofFor(silent.origin), 200));
    expect(error.code).toBe('Internal');
    expect(error.reason).toMatch(/within 200 ms/);
  });

  it.each([
    [403, 'SignatureDoesNotMatch', 'IdentityRejected'],
    [403, 'InvalidClientTokenId', 'IdentityRejected'],
    [400, 'ExpiredToken', 'IdentityRejected'],
    [400, 'Throttling', 'Throttled'],
    [503, 'ServiceUnavailable', 'Internal'],
  ])('maps STS %i %s to %s', async (status, code, expected) => {
    const sts = await serve((_req, res) => res.writeHead(status).end(errorXml(code)));
    const error = await refusal(replayIdentityProof(proofFor(sts.origin), 2000));
    expect(error.code).toBe(expected);
    expect(error.message).not.toContain(code);
  });

  it('treats an unreadable success as an internal error', async () => {
    const sts = await serve((_req, res) => res.writeHead(200).end('<html>hello</html>'));
    expect((await refusal(replayIdentityProof(proofFor(sts.origin), 2000))).code).toBe('Internal');
  });

  it('refuses an oversized response', async () => {
    const sts = await serve((_req, res) => res.writeHead(200).end(`<x>${'a'.repeat(100 * 1024)}</x>`));
    expect((await refusal(replayIdentityProof(proofFor(sts.origin), 2000))).code).toBe('Internal');
  });

  it('reports a connection failure as internal', async () => {
    const sts = await serve(() => {});
    const closed = servers.pop()!;
    await new Promise((resolve) => closed.close(resolve));
    expect((await refusal(replayIdentityProof(proofFor(sts.origin), 2000))).code).toBe('Internal');
  });
});

describe('parseGetCallerIdentityResponse', () => {
  it('needs all three fields', () => {
    expect(
      parseGetCallerIdentityResponse(IDENTITY_XML.replace(/<Account>.*<\/Account>/, '')),
    ).toBeUndefined();
    expect(parseGetCallerIdentityResponse('not xml <<<')).toBeUndefined();
  });
});
