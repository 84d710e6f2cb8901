/**
 * Broker error codes → what the user sees, and what they can do next. The
 * broker's own message is already written for people (it never quotes AWS
 * internals); we add the next step the launcher can offer.
 */
import { ApiError, type ApiErrorCode } from '../api/errors';
import type { BrokerErrorCode } from '../../broker/src/errors';

const mapping: Record<BrokerErrorCode, { code: ApiErrorCode; next: string }> = {
  InvalidRequest: {
    code: 'InvalidInput',
    next: 'This RoleShell version may not match the broker; update RoleShell.',
  },
  IdentityRejected: {
    code: 'AccessDenied',
    next: "The broker could not confirm who you are. Check this computer's clock, then refresh to sign the request again.",
  },
  AccessDenied: {
    code: 'AccessDenied',
    next: 'Ask your administrator to map this permission set or tag the instance for it.',
  },
  TargetNotFound: {
    code: 'NotFound',
    next: 'The instance may have been stopped, re-tagged or removed; refresh the list.',
  },
  TargetNotConnected: {
    code: 'Unavailable',
    next: 'The instance is offline in Session Manager (its agent is not connected). Start it or pick another instance.',
  },
  Throttled: { code: 'Throttled', next: 'Wait a few seconds and try again.' },
  Internal: {
    code: 'Internal',
    next: 'Try again; if it keeps failing, give your administrator the details above.',
  },
};

export class BrokerRefusal extends ApiError {
  constructor(
    readonly brokerCode: BrokerErrorCode,
    brokerMessage: string,
  ) {
    const entry = mapping[brokerCode];
    const lead =
      brokerCode === 'Internal' || brokerCode === 'Throttled'
        ? 'The broker could not answer'
        : 'The broker refused';
    super(entry.code, `${lead}: ${brokerMessage.replace(/\.?$/, '.')} ${entry.next}`);
  }
}

/** Failures of the Lambda Invoke itself (the broker never ran). */
export function invokeFailure(errorName: string, functionArn: string): ApiError {
  switch (errorName) {
    case 'ResourceNotFoundException':
      return new ApiError(
        'Unavailable',
        `The broker function ${functionArn} does not exist. Check the broker ARN in Settings.`,
      );
    case 'AccessDeniedException':
    case 'AccessDenied':
      return new ApiError(
        'AccessDenied',
        'This permission set may not invoke the broker (lambda:InvokeFunction). Ask your administrator, or use direct mode.',
      );
    case 'TooManyRequestsException':
    case 'ThrottlingException':
      return new ApiError('Throttled', 'The broker is busy right now. Wait a few seconds and try again.');
    case 'ExpiredTokenException':
    case 'UnrecognizedClientException':
      return new ApiError(
        'SignInExpired',
        "This permission set's credentials are no longer valid. Refresh to get new ones.",
      );
    default:
      return new ApiError(
        'Unavailable',
        'Could not reach the broker. Check your network (and the broker ARN in Settings), then refresh.',
      );
  }
}
