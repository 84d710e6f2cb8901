/**
 * Static checks on an identity proof before the broker replays it to STS
 * (architecture.md, "Identity proof"). Everything here is pure; the replay is in
 * replay.ts. A proof that fails any check is never sent anywhere.
 */
import { BrokerError } from '../errors';
import type { IdentityProof } from '../contract';
import {
  AUDIENCE_HEADER,
  GET_CALLER_IDENTITY_BODY,
  NONCE_HEADER,
  NONCE_PATTERN,
  REQUEST_HEADER,
} from './sign';

/** Whole proof, serialized as JSON. Real proofs are ~1.5-2.5 KiB. */
export const MAX_PROOF_BYTES = 8 * 1024;
/** STS honours a signature for 15 minutes; the broker accepts a proof for 5. */
export const MAX_PROOF_AGE_MS = 5 * 60 * 1000;
/** A proof dated up to this far ahead of the broker's clock is accepted (clock skew); later is refused. */
export const CLOCK_SKEW_ALLOWANCE_MS = 30 * 1000;

/** Connection-level headers are never forwarded to STS, signed or not. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);
/** Visible ASCII, space and tab: what SigV4 canonicalizes and Node will send. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

const STS_REGIONAL_HOST = /^sts\.[a-z]{2}(-[a-z]+)+-\d{1,2}\.amazonaws\.com$/;

export interface ProofCheckOptions {
  /** The broker's own function ARN, unqualified. */
  audience: string;
  /** Origins (scheme://host[:port]) accepted besides the public STS endpoints. */
  extraStsEndpoints: readonly string[];
  /** `requestDigest` of the request the broker received; the proof's x-roleshell-request must equal it. */
  requestDigest: string;
  now: Date;
}

/** What the broker sends to STS: only the proof's URL, its signed headers and its body. */
export interface CheckedProof {
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** Access key the proof was signed with (for logs; not a secret). */
  accessKeyId: string;
  /** The SigV4 signature (hex): names this one proof, for the single-use check. */
  signature: string;
  /** X-Amz-Date of the proof. */
  signedAt: Date;
}

function reject(reason: string, message = 'The identity proof was refused; sign in again and retry.'): never {
  throw new BrokerError('IdentityRejected', message, reason);
}

/** Byte size of the proof as it arrived; checked before anything else looks at it. */
export function proofByteSize(identity: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(identity) ?? '', 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export function isAllowedStsOrigin(url: URL, extraStsEndpoints: readonly string[]): boolean {
  if (extraStsEndpoints.includes(url.origin)) return true;
  if (url.protocol !== 'https:' || url.port !== '') return false;
  return url.hostname === 'sts.amazonaws.com' || STS_REGIONAL_HOST.test(url.hostname);
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` without the qualifier. */
export function unqualifiedFunctionArn(arn: string): string {
  const parts = arn.split(':');
  return parts.length > 7 && parts[5] === 'function' ? parts.slice(0, 7).join(':') : arn;
}

interface AuthorizationHeader {
  accessKeyId: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=a;b, Signature=<hex>`. */
export function parseAuthorizationHeader(value: string): AuthorizationHeader | undefined {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      value,
    );
  if (!match) return undefined;
  return {
    accessKeyId: match[1]!,
    service: match[4]!,
    signedHeaders: match[5]!.split(';'),
    signature: match[6]!,
  };
}

/** `20260130T101500Z` -> Date. */
export function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) || date.getUTCDate() !== d ? undefined : date;
}

export function checkIdentityProof(proof: IdentityProof, options: ProofCheckOptions): CheckedProof {
  if (proof.method !== 'POST') reject(`method ${proof.method} is not POST`);

  let url: URL;
  try {
    url = new URL(proof.url);
  } catch {
    reject('proof URL does not parse');
  }
  if (url.username !== '' || url.password !== '') reject('proof URL carries user info');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '')
    reject(`proof URL path/query not "/": ${url.pathname}${url.search}`);
  if (!isAllowedStsOrigin(url, options.extraStsEndpoints))
    reject(`proof URL host ${url.host} is not an allowed STS endpoint`);

  if (proof.body !== GET_CALLER_IDENTITY_BODY) reject('proof body is not exactly GetCallerIdentity');

  // Header names are case-insensitive; two spellings of one name make the proof ambiguous.
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(proof.headers)) {
    const lower = name.toLowerCase();
    if (headers.has(lower)) reject(`header ${lower} appears twice`);
    if (!/^[a-z0-9-]{1,64}$/.test(lower)) reject('a header name has characters SigV4 does not sign');
    if (!HEADER_VALUE.test(value)) reject(`header ${lower} has control or non-ASCII characters`);
    if (HOP_BY_HOP.has(lower)) reject(`connection-level header ${lower} in the proof`);
    headers.set(lower, value);
  }

  const authorization = headers.get('authorization');
  if (authorization === undefined) reject('proof has no Authorization header');
  const parsedAuthorization = parseAuthorizationHeader(authorization);
  if (!parsedAuthorization) reject('Authorization header is not SigV4');
  if (parsedAuthorization.service !== 'sts')
    reject(`proof is signed for service ${parsedAuthorization.service}`);
  const signed = new Set(parsedAuthorization.signedHeaders);

  const audience = headers.get(AUDIENCE_HEADER);
  if (audience === undefined) reject(`proof has no ${AUDIENCE_HEADER} header`);
  if (!signed.has(AUDIENCE_HEADER)) reject(`${AUDIENCE_HEADER} is not in SignedHeaders`);
  if (audience !== options.audience) {
    reject(
      `audience ${audience} is not this broker (${options.audience})`,
      'The identity proof was made for another broker; check the broker ARN in your settings.',
    );
  }

  // The request binding: the proof repeats only the request it was signed for.
  const boundRequest = headers.get(REQUEST_HEADER);
  if (boundRequest === undefined) reject(`proof has no ${REQUEST_HEADER} header`);
  if (!signed.has(REQUEST_HEADER)) reject(`${REQUEST_HEADER} is not in SignedHeaders`);
  if (boundRequest !== options.requestDigest) {
    reject(
      `${REQUEST_HEADER} ${boundRequest} does not match the request received (${options.requestDigest})`,
      'The identity proof was made for a different request; retry.',
    );
  }
  // Without a nonce, two proofs for one request in one second would share a signature.
  const nonce = headers.get(NONCE_HEADER);
  if (nonce === undefined || !NONCE_PATTERN.test(nonce)) reject(`proof has no valid ${NONCE_HEADER} header`);
  if (!signed.has(NONCE_HEADER)) reject(`${NONCE_HEADER} is not in SignedHeaders`);
  const host = headers.get('host');
  if (host !== undefined && host !== url.host)
    reject(`host header ${host} does not match URL host ${url.host}`);
  if (!signed.has('host')) reject('host is not in SignedHeaders');

  const amzDate = headers.get('x-amz-date');
  const date = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (!date) reject('proof has no valid X-Amz-Date');
  if (!signed.has('x-amz-date')) reject('x-amz-date is not in SignedHeaders');
  const age = options.now.getTime() - date.getTime();
  if (age > MAX_PROOF_AGE_MS)
    reject(
      `proof dated ${amzDate} is older than 5 minutes`,
      'The identity proof has expired; check your computer clock and retry.',
    );
  if (age < -CLOCK_SKEW_ALLOWANCE_MS)
    reject(
      `proof dated ${amzDate} is in the future`,
      'The identity proof is dated in the future; check your computer clock and retry.',
    );

  const contentLength = headers.get('content-length');
  if (contentLength !== undefined && contentLength !== String(Buffer.byteLength(proof.body)))
    reject('content-length does not match the body');

  // Only what the signature covers is forwarded; Node sets Host from the URL.
  const forward: Record<string, string> = {};
  for (const name of signed) {
    if (name === 'host') continue;
    const value = headers.get(name);
    if (value === undefined) reject(`signed header ${name} is missing`);
    forward[name] = value;
  }
  forward.authorization = authorization;
  return {
    url,
    headers: forward,
    body: proof.body,
    accessKeyId: parsedAuthorization.accessKeyId,
    signature: parsedAuthorization.signature,
    signedAt: date,
  };
}
