/**
 * AWS-shaped errors. Each protocol puts the error code where the SDK v3
 * deserializers look for it (@aws-sdk/core protocols): rest-json reads the
 * `x-amzn-ErrorType` header, JSON 1.1 reads `__type`, awsQuery reads
 * `<ErrorResponse><Error><Code>`, ec2Query reads `<Response><Errors><Error><Code>`.
 */
import { xmlEscape } from './xml';

export type Protocol = 'restJson' | 'json11' | 'query' | 'ec2';

export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra members of the error shape (e.g. sso-oidc's `error`, `error_description`). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export function serializeError(error: AwsError, protocol: Protocol, requestId: string): WireResponse {
  switch (protocol) {
    case 'restJson':
      return {
        status: error.status,
        headers: {
          'content-type': 'application/json',
          'x-amzn-errortype': error.code,
          'x-amzn-requestid': requestId,
        },
        body: JSON.stringify({ message: error.message, ...error.fields }),
      };
    case 'json11':
      return {
        status: error.status,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: error.code, message: error.message, ...error.fields }),
      };
    case 'query':
      return {
        status: error.status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n` +
          `    <Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type>\n` +
          `    <Code>${xmlEscape(error.code)}</Code>\n    <Message>${xmlEscape(error.message)}</Message>\n` +
          `  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
      };
    case 'ec2':
      return {
        status: error.status,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(error.code)}</Code>` +
          `<Message>${xmlEscape(error.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
  }
}

/** The error codes each service uses for refused signatures and credentials. */
export type AuthFailure =
  'missing' | 'malformed' | 'unknownKey' | 'badToken' | 'expired' | 'signature' | 'skew';

const QUERY_AUTH_CODES: Record<AuthFailure, [string, number]> = {
  missing: ['MissingAuthenticationToken', 403],
  malformed: ['IncompleteSignature', 400],
  unknownKey: ['InvalidClientTokenId', 403],
  badToken: ['InvalidClientTokenId', 403],
  expired: ['ExpiredToken', 400],
  signature: ['SignatureDoesNotMatch', 403],
  skew: ['SignatureDoesNotMatch', 403],
};

const AUTH_CODES: Record<string, Record<AuthFailure, [string, number]>> = {
  // STS and IAM (both awsQuery) answer alike.
  sts: QUERY_AUTH_CODES,
  iam: QUERY_AUTH_CODES,
  ec2: {
    missing: ['AuthFailure', 401],
    malformed: ['IncompleteSignature', 400],
    unknownKey: ['AuthFailure', 401],
    badToken: ['AuthFailure', 401],
    expired: ['RequestExpired', 400],
    signature: ['AuthFailure', 401],
    skew: ['RequestExpired', 400],
  },
  // JSON and rest-json services (ssm, lambda).
  json: {
    missing: ['MissingAuthenticationTokenException', 403],
    malformed: ['IncompleteSignatureException', 400],
    unknownKey: ['UnrecognizedClientException', 403],
    badToken: ['UnrecognizedClientException', 403],
    expired: ['ExpiredTokenException', 403],
    signature: ['InvalidSignatureException', 403],
    skew: ['InvalidSignatureException', 403],
  },
};

export function authError(service: string, failure: AuthFailure, message: string): AwsError {
  const table = AUTH_CODES[service] ?? AUTH_CODES.json!;
  const [code, status] = table[failure];
  return new AwsError(code, message, status);
}
