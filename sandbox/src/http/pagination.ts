/**
 * Opaque pagination tokens. A token is bound to the query it came from, so
 * reusing it with different filters is refused, as AWS does.
 */
import { createHash } from 'node:crypto';
import { AwsError } from './awsError';

const digest = (scope: string) => createHash('sha256').update(scope).digest('base64url').slice(0, 12);

export function encodePageToken(offset: number, scope: string): string {
  return Buffer.from(JSON.stringify({ o: offset, s: digest(scope) })).toString('base64url');
}

/** Offset encoded in `token` (0 when absent); throws `errorCode` for a foreign or malformed token. */
export function decodePageToken(
  token: string | undefined | null,
  scope: string,
  errorCode: string,
  status = 400,
): number {
  if (token === undefined || token === null || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      o?: unknown;
      s?: unknown;
    };
    if (
      typeof parsed.o === 'number' &&
      Number.isInteger(parsed.o) &&
      parsed.o >= 0 &&
      parsed.s === digest(scope)
    )
      return parsed.o;
  } catch {
    // fall through
  }
  throw new AwsError(
    errorCode,
    'The pagination token is invalid or does not belong to this request.',
    status,
  );
}

/** What a paginated call asked for: its token (if any), page size, and the query the token must belong to. */
export interface PageRequest {
  token: string | undefined | null;
  size: number;
  scope: string;
  /** The service's error code for a foreign or malformed token. */
  invalidTokenCode: string;
}

/** The page of `items` the request's token points at, and the token for the next page if any. */
export function page<T>(items: T[], request: PageRequest): { items: T[]; nextToken?: string } {
  const offset = decodePageToken(request.token, request.scope, request.invalidTokenCode);
  const end = offset + request.size;
  const slice = items.slice(offset, end);
  return end < items.length
    ? { items: slice, nextToken: encodePageToken(end, request.scope) }
    : { items: slice };
}
