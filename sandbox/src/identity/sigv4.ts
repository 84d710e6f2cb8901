/**
 * SigV4 verification: recompute the signature over exactly what was received —
 * method, raw path, query, the headers named in SignedHeaders, body — with the
 * secret of the key the sandbox issued, and compare. The canonical request
 * (path, query and header canonicalization) is @smithy/signature-v4's, the
 * signer the SDK itself uses; the signing key it derives per request is kept
 * here instead (SigningKeys), since a caller signs many requests with one key
 * and one day's scope, and the derivation is four HMACs of the five a request costs.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { getCanonicalHeaders, SignatureV4Base } from '@smithy/signature-v4';
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

/**
 * Signing keys by (key ID, secret, date, region, service), the most recently used kept: a
 * bounded map, so a sandbox that issues thousands of credentials holds at most `limit` keys.
 * The secret is part of the cache key, so a request signed with another secret never meets
 * the key of the right one (nor another date, region or service's).
 */
export class SigningKeys {
  private readonly keys = new Map<string, Buffer>();

  constructor(readonly limit = 4096) {}

  get size(): number {
    return this.keys.size;
  }

  /** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
  get(accessKeyId: string, secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const id = `${accessKeyId}\n${secretAccessKey}\n${date}\n${region}\n${service}`;
    let key = this.keys.get(id);
    if (key) {
      // Most recently used last: the first in the map is the one to drop.
      this.keys.delete(id);
    } else {
      key = createHmac('sha256', `AWS4${secretAccessKey}`).update(date).digest();
      for (const part of [region, service, 'aws4_request'])
        key = createHmac('sha256', key).update(part).digest();
      if (this.keys.size >= this.limit) this.keys.delete(this.keys.keys().next().value!);
    }
    this.keys.set(id, key);
    return key;
  }
}

/** The canonical request as @smithy/signature-v4 builds it when signing (createCanonicalRequest). */
class CanonicalRequest extends SignatureV4Base {
  constructor() {
    super({
      service: 'unused',
      region: 'unused',
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  of(request: HttpRequest, signableHeaders: Set<string>, payloadHash: string): string {
    return this.createCanonicalRequest(
      request,
      getCanonicalHeaders(request, undefined, signableHeaders),
      payloadHash,
    );
  }
}

const canonical = new CanonicalRequest();
const defaultSigningKeys = new SigningKeys();

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
  keys: SigningKeys = defaultSigningKeys,
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
  const bodySha = createHash('sha256').update(req.body).digest('hex');
  const contentSha = header('x-amz-content-sha256');
  if (contentSha !== undefined && contentSha !== bodySha) {
    throw new SignatureError(
      'signature',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  // Only the headers the client signed take part, as AWS does; as the SDK's signer does, with
  // authorization and date left out, and the content hash signed whenever it was sent.
  const signed: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(name);
    if (value === undefined) throw new SignatureError('signature', `Signed header ${name} is missing.`);
    if (name !== 'authorization' && name !== 'date') signed[name] = value;
  }
  if (contentSha !== undefined) signed['x-amz-content-sha256'] ??= contentSha;
  // The date as the signer writes it from the parsed one (a rolled-over day such as 1301 differs).
  const longDate = fmt(signingDate);
  const shortDate = longDate.slice(0, 8);
  signed['x-amz-date'] = longDate;
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(req.query.keys())) {
    const all = req.query.getAll(key);
    query[key] = all.length === 1 ? all[0]! : all;
  }
  const host = signed.host ?? '';
  const request = new HttpRequest({
    method: req.method,
    protocol: 'http:',
    hostname: host.split(':')[0] ?? host,
    path: req.rawPath,
    query,
    headers: signed,
    body: req.body,
  });
  const canonicalRequest = canonical.of(request, new Set(auth.signedHeaders), bodySha);
  const scope = `${shortDate}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const signingKey = keys.get(
    credentials.accessKeyId,
    credentials.secretAccessKey,
    shortDate,
    auth.region,
    auth.service,
  );
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
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
