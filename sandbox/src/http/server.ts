/**
 * The sandbox's one HTTP server on 127.0.0.1, routing requests the way AWS's
 * front ends tell services apart: REST paths (sso-oidc, sso portal, lambda),
 * `X-Amz-Target: AmazonSSM.*` (ssm, JSON 1.1) and
 * `ResourceGroupsTaggingAPI_20170126.*` (tagging, JSON 1.1), and `Action=` form posts whose
 * SigV4 credential scope names the service (sts, iam, ec2). WebSocket upgrades go to
 * the data-channel host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CloudTrail } from '../cloudTrail';
import { roleSessionIdentity } from '../cloudTrail';
import type { DataChannelHost } from '../dataChannel';
import { newRequestId } from '../identity/ids';
import type { CredentialStore, IssuedCredentials } from '../identity/principals';
import { parseAuthorization, SignatureError, verifySignature, type CredentialScope } from '../identity/sigv4';
import { authError, AwsError, serializeError, type Protocol, type WireResponse } from './awsError';
import { header, json, type RequestContext } from './context';
import { TAGGING_TARGET_PREFIX } from '../services/tagging';

/** Lambda's payload limit is 6 MB; nothing the sandbox serves needs more. */
const MAX_BODY_BYTES = 6 * 1024 * 1024 + 64 * 1024;

export interface SignedCall {
  ctx: RequestContext;
  caller: IssuedCredentials;
  scope: CredentialScope;
}

export interface Routes {
  oidc(ctx: RequestContext): WireResponse;
  devicePage(ctx: RequestContext): WireResponse;
  portal(ctx: RequestContext): WireResponse;
  sts(call: SignedCall, form: URLSearchParams): WireResponse | Promise<WireResponse>;
  ec2(call: SignedCall, form: URLSearchParams): WireResponse | Promise<WireResponse>;
  iam(call: SignedCall, form: URLSearchParams): WireResponse | Promise<WireResponse>;
  ssm(call: SignedCall, operation: string): WireResponse | Promise<WireResponse>;
  tagging(call: SignedCall, operation: string): WireResponse | Promise<WireResponse>;
  lambda(call: SignedCall): WireResponse | Promise<WireResponse>;
}

export interface ServerDeps {
  routes: Routes;
  credentials: CredentialStore;
  cloudTrail: CloudTrail;
  dataChannel: DataChannelHost;
  log: (line: string) => void;
}

interface Route {
  protocol: Protocol;
  /** Signing service for SigV4-authenticated routes. */
  service?: string;
  run(ctx: RequestContext, signed?: SignedCall): WireResponse | Promise<WireResponse>;
}

function route(ctx: RequestContext, deps: ServerDeps): Route | undefined {
  const { routes } = deps;
  const path = ctx.url.pathname;
  if (path === '/client/register' || path === '/device_authorization' || path === '/token')
    return { protocol: 'restJson', run: (c) => routes.oidc(c) };
  if (path.startsWith('/assignment/') || path === '/federation/credentials' || path === '/logout')
    return { protocol: 'restJson', run: (c) => routes.portal(c) };
  const target = header(ctx, 'x-amz-target');
  if (target?.startsWith('AmazonSSM.')) {
    const operation = target.slice('AmazonSSM.'.length);
    return { protocol: 'json11', service: 'ssm', run: (_c, s) => routes.ssm(s!, operation) };
  }
  if (target?.startsWith(TAGGING_TARGET_PREFIX)) {
    const operation = target.slice(TAGGING_TARGET_PREFIX.length);
    return { protocol: 'json11', service: 'tagging', run: (_c, s) => routes.tagging(s!, operation) };
  }
  if (path.startsWith('/2015-03-31/functions/'))
    return { protocol: 'restJson', service: 'lambda', run: (_c, s) => routes.lambda(s!) };
  if (ctx.method === 'POST' && (path === '/' || path === '')) {
    const form = new URLSearchParams(ctx.body.toString('utf8'));
    if (!form.has('Action')) return undefined;
    // sts, iam and ec2 share the form protocol; the credential scope says which service was meant.
    let service = 'sts';
    try {
      service = parseAuthorization(ctx.headers)?.service ?? 'sts';
    } catch {
      // a malformed header is reported by the verification step
    }
    if (service === 'ec2') return { protocol: 'ec2', service: 'ec2', run: (_c, s) => routes.ec2(s!, form) };
    if (service === 'iam') return { protocol: 'query', service: 'iam', run: (_c, s) => routes.iam(s!, form) };
    return { protocol: 'query', service: 'sts', run: (_c, s) => routes.sts(s!, form) };
  }
  return undefined;
}

async function authenticate(ctx: RequestContext, service: string, deps: ServerDeps): Promise<SignedCall> {
  try {
    const auth = parseAuthorization(ctx.headers);
    if (!auth) throw new SignatureError('missing', 'Request is missing Authentication Token');
    const verified = await verifySignature(
      {
        method: ctx.method,
        rawPath: ctx.rawPath,
        query: ctx.url.searchParams,
        headers: ctx.headers,
        body: ctx.body,
      },
      auth,
      deps.credentials,
    );
    ctx.trail.userIdentity = roleSessionIdentity(verified.credentials);
    ctx.trail.awsRegion = verified.scope.region;
    return { ctx, caller: verified.credentials, scope: verified.scope };
  } catch (err) {
    if (err instanceof SignatureError)
      throw authError(
        service === 'ssm' || service === 'lambda' || service === 'tagging' ? 'json' : service,
        err.failure,
        err.message,
      );
    throw err;
  }
}

/** The whole request body, or undefined once it passed MAX_BODY_BYTES (the request is then answered 413). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  // Plain events rather than `for await`: an async iterator per request cost more than the read.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ServerDeps): Promise<void> {
  const requestId = newRequestId();
  const body = await readBody(req);
  if (!body) {
    res.writeHead(413, {
      'content-type': 'application/json',
      'x-amzn-errortype': 'RequestEntityTooLargeException',
    });
    res.end(JSON.stringify({ message: 'Request must be smaller than 6291456 bytes' }));
    req.destroy();
    return;
  }
  const rawUrl = req.url ?? '/';
  const ctx: RequestContext = {
    requestId,
    method: req.method ?? 'GET',
    url: new URL(rawUrl, 'http://127.0.0.1'),
    rawPath: rawUrl.split('?')[0] ?? '/',
    headers: req.headers,
    body,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    userAgent: header({ headers: req.headers } as RequestContext, 'user-agent') ?? '',
    trail: {},
  };

  let response: WireResponse;
  let protocol: Protocol = 'restJson';
  let error: AwsError | undefined;
  try {
    if (ctx.url.pathname === '/_sandbox/cloudtrail' && ctx.method === 'GET') {
      const eventName = ctx.url.searchParams.get('eventName') ?? undefined;
      const eventSource = ctx.url.searchParams.get('eventSource') ?? undefined;
      response = json(200, deps.cloudTrail.list({ eventName, eventSource }));
    } else if (ctx.url.pathname === '/device') {
      response = deps.routes.devicePage(ctx);
    } else {
      const r = route(ctx, deps);
      if (!r)
        throw new AwsError(
          'UnknownOperationException',
          `No AWS operation at ${ctx.method} ${ctx.url.pathname}`,
          404,
        );
      protocol = r.protocol;
      const signed = r.service ? await authenticate(ctx, r.service, deps) : undefined;
      response = await r.run(ctx, signed);
    }
  } catch (err) {
    if (err instanceof AwsError) {
      error = err;
    } else {
      deps.log(
        `sandbox: internal error on ${ctx.method} ${ctx.url.pathname}: ${(err as Error).stack ?? String(err)}`,
      );
      error = new AwsError(
        protocol === 'ec2' ? 'InternalError' : 'InternalFailure',
        'An internal error occurred in the sandbox.',
        500,
      );
    }
    response = serializeError(error, protocol, requestId);
  }

  const t = ctx.trail;
  if (t.eventName && t.eventSource) {
    deps.cloudTrail.record({
      eventSource: t.eventSource,
      eventName: t.eventName,
      awsRegion: t.awsRegion ?? 'us-east-1',
      sourceIPAddress: ctx.sourceIp,
      userAgent: ctx.userAgent,
      userIdentity: t.userIdentity ?? { type: 'Unknown' },
      requestParameters: t.requestParameters ?? null,
      responseElements: error ? null : (t.responseElements ?? null),
      ...(error ? { errorCode: error.code, errorMessage: error.message } : {}),
      requestID: requestId,
      readOnly: t.readOnly ?? /^(Get|List|Describe)/.test(t.eventName),
      ...(t.recipientAccountId || t.userIdentity?.accountId
        ? { recipientAccountId: t.recipientAccountId ?? t.userIdentity?.accountId }
        : {}),
    });
  }
  // A Content-Length, as AWS's answers carry: without one, Node frames every answer as chunked.
  const framed = response.status !== 204 && response.status !== 304 && ctx.method !== 'HEAD';
  res.writeHead(response.status, {
    'x-amzn-requestid': requestId,
    ...(framed ? { 'content-length': String(Buffer.byteLength(response.body)) } : {}),
    ...response.headers,
  });
  res.end(response.body);
}

export function createSandboxServer(deps: ServerDeps): Server {
  const server = createServer((req, res) => {
    handle(req, res, deps).catch((err: unknown) => {
      deps.log(`sandbox: request failed: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // AWS's endpoints keep idle connections open far longer than Node's 5 s default; at that
  // default a client reusing a pooled socket races the close and sees ECONNRESET under load.
  server.keepAliveTimeout = 65_000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!deps.dataChannel.handleUpgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  return server;
}
