/**
 * Errors that cross the renderer boundary. Only `code`, `message` and field
 * issues travel; never a stack, never a raw AWS error (it may quote a token).
 */
export const apiErrorCodes = [
  'InvalidInput',
  'NotFound',
  'NotSignedIn',
  'SignInExpired',
  'AccessDenied',
  'Unavailable',
  'Throttled',
  'Cancelled',
  'Internal',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

/** A problem with one field of a call's input, for inline display. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `startUrl` or `regions.1`. */
  path: string;
  message: string;
}

export interface ApiErrorShape {
  code: ApiErrorCode;
  message: string;
  fields?: FieldIssue[];
}

export class ApiError extends Error implements ApiErrorShape {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly fields?: FieldIssue[],
  ) {
    super(message);
  }

  toShape(): ApiErrorShape {
    return this.fields
      ? { code: this.code, message: this.message, fields: this.fields }
      : { code: this.code, message: this.message };
  }

  static fromShape(shape: ApiErrorShape): ApiError {
    return new ApiError(shape.code, shape.message, shape.fields);
  }
}

/** What every call returns on the wire (IPC or the e2e WebSocket). */
export type CallResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorShape };
