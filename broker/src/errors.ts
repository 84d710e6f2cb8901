/**
 * The broker's error codes (the design's "Broker contract"). Messages are
 * written for the person using the launcher: they say what to do next and never
 * quote an AWS error, an ARN of the broker's own roles or a stack.
 */
export const brokerErrorCodes = [
  'InvalidRequest',
  'IdentityRejected',
  'AccessDenied',
  'TargetNotFound',
  'TargetNotConnected',
  'Throttled',
  'Internal',
] as const;
export type BrokerErrorCode = (typeof brokerErrorCodes)[number];

export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    /** Why, for the audit record and logs only; never sent to the caller. */
    readonly reason: string = message,
  ) {
    super(message);
  }
}

/** Names AWS uses for throttling across STS, SSM, tagging and EC2 (query and JSON protocols). */
const throttlingNames = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);

export function awsErrorName(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'name' in error) {
    const name = (error as { name: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

export function isThrottling(error: unknown): boolean {
  const name = awsErrorName(error);
  return name !== undefined && throttlingNames.has(name);
}

/**
 * Turns anything thrown while serving a request into a BrokerError. AWS errors
 * other than throttling become Internal: they describe the broker's own
 * deployment, which the caller can do nothing about.
 */
export function toBrokerError(error: unknown, requestId: string): BrokerError {
  if (error instanceof BrokerError) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (isThrottling(error)) {
    return new BrokerError(
      'Throttled',
      'AWS is throttling requests right now; try again in a few seconds.',
      detail,
    );
  }
  return new BrokerError(
    'Internal',
    `The broker hit an internal error; give your administrator request id ${requestId}.`,
    detail,
  );
}
