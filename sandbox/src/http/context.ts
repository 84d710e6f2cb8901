/** One received request as the services see it, plus the CloudTrail draft they fill in. */
import type { IncomingHttpHeaders } from 'node:http';
import type { CloudTrailUserIdentity } from '../cloudTrail';
import { AwsError } from './awsError';

export interface TrailDraft {
  eventSource?: string;
  eventName?: string;
  awsRegion?: string;
  userIdentity?: CloudTrailUserIdentity;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  readOnly?: boolean;
  recipientAccountId?: string;
}

export interface RequestContext {
  requestId: string;
  method: string;
  url: URL;
  /** Path as received, still percent-encoded (what SigV4 signed). */
  rawPath: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  userAgent: string;
  trail: TrailDraft;
}

export function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Parses a JSON request body into an object; a malformed body is the caller's error. */
export function jsonBody(ctx: RequestContext, errorCode = 'SerializationException'): Record<string, unknown> {
  if (ctx.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(ctx.body.toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AwsError(errorCode, 'The request body is not a JSON object.', 400);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
