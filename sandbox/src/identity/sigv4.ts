/**
 * SigV4 verification: recompute the signature with @smithy/signature-v4 (the
 * signer the SDK itself uses) over exactly what was received — method, raw path,
 * query, the headers named in SignedHeaders, body — with the secret of the key
 * the sandbox issued, and compare.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AuthFailure } from '../http/awsError';
import type { CredentialStore, IssuedCredentials } from './principals';

/** AWS honours a signature for 15 minutes either side of its clock. */
export const MAX_SKEW_MS = 15 * 60_000;

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export interface SignedRequest {
  method: string;
  /** Path exactly as received (still percent-encoded). */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class SignatureError extends Error {
  constructor(
    readonly failure: AuthFailure,
    message: string,
  ) {
    super(message);
  }
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256\s+Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

export interface ParsedAuthorization extends CredentialScope {
  signedHeaders: string[];
  signature: string;
}

/** Parses the Authorization header; undefined when there is none. */
export function parseAuthorization(headers: IncomingHttpHeaders): ParsedAuthorization | undefined {
  const header = headers.authorization;
  if (header === undefined) return undefined;
  const m = AUTH_PATTERN.exec(header.trim());
  if (!m) {
    throw new SignatureError(
      'malformed',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS4-HMAC-SHA256).",
    );
  }
  return {
    accessKeyId: m[1]!,
    date: m[2]!,
    region: m[3]!,
    service: m[4]!,
    signedHeaders: m[5]!.split(';'),
    signature: m[6]!,
  };
}

/** `20260101T000000Z` -> Date. */
function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

const fmt = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

export interface VerifiedRequest {
  credentials: IssuedCredentials;
  scope: CredentialScope;
}

/** Verifies a signed request; throws SignatureError with the reason AWS would give. */
export async function verifySignature(
  req: SignedRequest,
  auth: ParsedAuthorization,
  store: CredentialStore,
  now = new Date(),
): Promise<VerifiedRequest> {
  // Header names come from the request's SignedHeaders: own properties only (not `constructor`).
  const header = (name: string) => {
    const v = Object.hasOwn(req.headers, name) ? req.headers[name] : undefined;
    return Array.isArray(v) ? v.join(',') : v;
  };
  const amzDate = header('x-amz-date');
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || !auth.signedHeaders.includes('x-amz-date') || !auth.signedHeaders.includes('host')) {
    throw new SignatureError(
      'malformed',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header, signed with host.",
    );
  }
  if (signingDate.getTime() < now.getTime() - MAX_SKEW_MS) {
    throw new SignatureError(
      'skew',
      `Signature expired: ${amzDate} is now earlier than ${fmt(new Date(now.getTime() - MAX_SKEW_MS))} (${fmt(now)} - 15 min.)`,
    );
  }
  if (signingDate.getTime() > now.getTime() + MAX_SKEW_MS) {
    throw new SignatureError(
      'skew',
      `Signature not yet current: ${amzDate} is still later than ${fmt(new Date(now.getTime() + MAX_SKEW_MS))} (${fmt(now)} + 15 min.)`,
    );
  }
  const credentials = store.get(auth.accessKeyId);
  if (!credentials)
    throw new SignatureError('unknownKey', 'The security token included in the request is invalid.');
  const token = header('x-amz-security-token');
  if (token !== credentials.sessionToken) {
    throw new SignatureError('badToken', 'The security token included in the request is invalid.');
  }
  if (credentials.expiration.getTime() <= now.getTime()) {
    throw new SignatureError('expired', 'The security token included in the request is expired');
  }
  if (amzDate!.slice(0, 8) !== auth.date) {
    throw new SignatureError(
      'signature',
      `Credential should be scoped to a valid date: ${amzDate!.slice(0, 8)}, not ${auth.date}.`,
    );
  }
  const contentSha = header('x-amz-content-sha256');
  if (contentSha !== undefined && contentSha !== createHash('sha256').update(req.body).digest('hex')) {
    throw new SignatureError(
      'signature',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  // Only the headers the client signed take part, as AWS does.
  const signed: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(name);
    if (value === undefined) throw new SignatureError('signature', `Signed header ${name} is missing.`);
    signed[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(req.query.keys())) {
    const all = req.query.getAll(key);
    query[key] = all.length === 1 ? all[0]! : all;
  }
  const host = signed.host ?? '';
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      // The signer adds the token header itself; include it only if the client signed it.
      sessionToken: auth.signedHeaders.includes('x-amz-security-token')
        ? credentials.sessionToken
        : undefined,
    },
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: contentSha !== undefined,
  });
  const request = new HttpRequest({
    method: req.method,
    protocol: 'http:',
    hostname: host.split(':')[0] ?? host,
    path: req.rawPath,
    query,
    headers: signed,
    body: req.body,
  });
  const result = await signer.sign(request, { signingDate, signableHeaders: new Set(auth.signedHeaders) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(result.headers.authorization ?? ''))?.[1] ?? '';
  const a = Buffer.from(expected);
  const b = Buffer.from(auth.signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new SignatureError(
      'signature',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { credentials, scope: auth };
}
