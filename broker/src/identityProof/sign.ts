/**
 * Signs the identity proof the broker verifies: an STS GetCallerIdentity
 * request, SigV4-signed with the permission set's role credentials, carrying the
 * broker's function ARN in a signed `x-roleshell-audience` header. The launcher
 * sends this signed request (never the credentials) with every broker call.
 * Pure: no I/O, the request is only signed here.
 */
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import type { IdentityProof } from '../contract';

export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
export const AUDIENCE_HEADER = 'x-roleshell-audience';

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
  /** STS endpoint, e.g. the sandbox's http://127.0.0.1:<port>; default https://sts.<region>.amazonaws.com. */
  endpoint?: string;
  /** Signing time; default now. */
  signingDate?: Date;
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
