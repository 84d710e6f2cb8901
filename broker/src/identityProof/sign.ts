/**
 * Signs the identity proof the broker verifies: an STS GetCallerIdentity
 * request, SigV4-signed with the permission set's role credentials, carrying two
 * signed headers of RoleShell's own:
 * - `x-roleshell-audience`: the broker's function ARN, so a proof is good for
 *   one broker only;
 * - `x-roleshell-request`: the SHA-256 (hex) of the broker request's canonical
 *   fields (`canonicalRequest` below), so a proof can only ever repeat the exact
 *   request it was made for;
 * - `x-roleshell-nonce`: 128 random bits (hex), so two proofs for the same
 *   request in the same second (SigV4 dates have one-second resolution) still
 *   differ: single-use proofs are told apart by their signature.
 * The launcher sends this signed request (never the credentials) with every
 * broker call. This is the one signer: everything that calls the broker signs
 * through it, so the two sides cannot drift. No I/O.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import type { IdentityProof } from '../contract';

export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
export const AUDIENCE_HEADER = 'x-roleshell-audience';
export const REQUEST_HEADER = 'x-roleshell-request';
export const NONCE_HEADER = 'x-roleshell-nonce';
export const NONCE_PATTERN = /^[0-9a-f]{32}$/;
/** First line of the canonical request; a new encoding gets a new version. */
export const CANONICAL_REQUEST_VERSION = 'roleshell-request/1';

/** The fields of a broker request a proof is bound to; absent ones are empty. */
export interface ProofRequest {
  action: string;
  /** The request's region; for listTargets with `regions`, those joined by ','. */
  region?: string;
  /** The optional target account of the request (not the caller's account). */
  accountId?: string;
  instanceId?: string;
  sessionId?: string;
}

/** The bound fields of a broker request payload (what the launcher sends, what the broker parsed). */
export function proofRequestFor(payload: {
  action: string;
  region?: string | undefined;
  regions?: readonly string[] | undefined;
  accountId?: string | undefined;
  instanceId?: string | undefined;
  sessionId?: string | undefined;
}): ProofRequest {
  const regions = payload.regions ?? (payload.region !== undefined ? [payload.region] : []);
  if (regions.some((region) => region.includes(',')))
    throw new Error('a region of the request holds a comma');
  return {
    action: payload.action,
    region: regions.join(','),
    accountId: payload.accountId ?? '',
    instanceId: payload.instanceId ?? '',
    sessionId: payload.sessionId ?? '',
  };
}

/**
 * The canonical text of a request: the version line, then one `name:value` line
 * per field in this fixed order, joined by a line feed (no trailing one):
 *
 *     roleshell-request/1
 *     action:startSession
 *     region:eu-west-1
 *     accountId:
 *     instanceId:i-0123456789abcdef0
 *     sessionId:
 *
 * No valid field holds a line feed or a comma, so the text names one request
 * only; a value with either is refused rather than encoded.
 */
export function canonicalRequest(request: ProofRequest): string {
  const fields: [string, string][] = [
    ['action', request.action],
    ['region', request.region ?? ''],
    ['accountId', request.accountId ?? ''],
    ['instanceId', request.instanceId ?? ''],
    ['sessionId', request.sessionId ?? ''],
  ];
  for (const [name, value] of fields) {
    // Commas only ever appear between the regions of a listTargets request.
    const allowed = name === 'region' ? /^[^\n\r]*$/ : /^[^\n\r,]*$/;
    if (!allowed.test(value)) throw new Error(`the request's ${name} holds a line break or comma`);
  }
  return [CANONICAL_REQUEST_VERSION, ...fields.map(([name, value]) => `${name}:${value}`)].join('\n');
}

/** The `x-roleshell-request` value: hex SHA-256 of the canonical request (UTF-8). */
export function requestDigest(request: ProofRequest): string {
  return createHash('sha256').update(canonicalRequest(request), 'utf8').digest('hex');
}

export interface ProofCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignIdentityProofOptions {
  credentials: ProofCredentials;
  /** Region of the STS endpoint (and of the signature scope). */
  region: string;
  /** The broker's function ARN (unqualified). */
  audience: string;
  /** The broker request this proof is for (`proofRequestFor(payload)`). */
  request: ProofRequest;
  /** STS endpoint, e.g. the sandbox's http://127.0.0.1:<port>; default https://sts.<region>.amazonaws.com. */
  endpoint?: string;
  /** Signing time; default now. */
  signingDate?: Date;
  /** 32 hex digits; default random (tests fix it to compare signatures). */
  nonce?: string;
}

export async function signIdentityProof(options: SignIdentityProofOptions): Promise<IdentityProof> {
  const url = new URL(options.endpoint ?? `https://sts.${options.region}.amazonaws.com`);
  url.pathname = '/';
  url.search = '';
  url.hash = '';
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      [AUDIENCE_HEADER]: options.audience,
      [REQUEST_HEADER]: requestDigest(options.request),
      [NONCE_HEADER]: options.nonce ?? randomBytes(16).toString('hex'),
    },
    body: GET_CALLER_IDENTITY_BODY,
  });
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: options.credentials.accessKeyId,
      secretAccessKey: options.credentials.secretAccessKey,
      ...(options.credentials.sessionToken ? { sessionToken: options.credentials.sessionToken } : {}),
    },
    region: options.region,
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(request, options.signingDate ? { signingDate: options.signingDate } : {});
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name] = String(value);
  return { method: 'POST', url: url.toString(), headers, body: GET_CALLER_IDENTITY_BODY };
}
