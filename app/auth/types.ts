/** What the app core keeps about an IdC sign-in. None of it ever crosses to the renderer. */

/** An OIDC client registration (RegisterClient), reused until shortly before it expires. */
export interface ClientRegistration {
  region: string;
  clientId: string;
  clientSecret: string;
  /** clientSecretExpiresAt, in epoch milliseconds. */
  expiresAt: number;
  /** The endpoint override it was registered with; absent = AWS itself. */
  endpoint?: string;
}

/** A started device authorization (StartDeviceAuthorization) plus when it stops being valid. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Seconds between CreateToken polls; grows by 5 on every SlowDownException. */
  intervalSeconds: number;
}

/** An access token and, when IdC grants one, a refresh token. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
}

/** Where the renderer is told the sign-in stands. Carries no token. */
export type AuthState =
  | { status: 'signedOut'; startUrl?: string; message?: string }
  | {
      status: 'awaitingApproval';
      startUrl: string;
      userCode: string;
      verificationUri: string;
      verificationUriComplete?: string;
      expiresAt: number;
    }
  | { status: 'signedIn'; startUrl: string; region: string; expiresAt: number }
  | { status: 'signInRequired'; startUrl: string; message: string };

/** Why a sign-in stopped; each has a message the user can act on. */
export type SignInFailure = 'expired' | 'denied' | 'cancelled' | 'invalidGrant' | 'rejected';

export class SignInError extends Error {
  override readonly name = 'SignInError';
  constructor(
    readonly reason: SignInFailure,
    message: string,
  ) {
    super(message);
  }
}
