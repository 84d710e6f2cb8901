/** Sign-in calls (IdC device authorization, token state). No call or event ever carries a token. */
import * as z from 'zod';
import { defineCall, defineEvent } from '../define';
import type { AuthState } from '../../auth/types';

export type { AuthState } from '../../auth/types';

/** What the login and first-run screens need to know. */
export interface AuthView {
  state: AuthState;
  /** False until a start URL is configured (or the local sandbox runs): the first-run screen. */
  configured: boolean;
  startUrl: string;
  region: string;
  /** True while RoleShell's own local sandbox is the AWS endpoint. */
  sandbox: boolean;
  /**
   * What the app core is really connected with (the sandbox's values while the sandbox is in use), for
   * Settings to show; null before a start URL is set.
   */
  inUse: { mode: 'broker' | 'direct'; endpoint: string; brokerArn: string; regions: string[] } | null;
  /** Set when the AWS CLI holds a usable sign-in for this start URL (epoch ms it expires). */
  cliSignInExpiresAt: number | null;
}

export const authCalls = {
  'auth.getView': defineCall<AuthView>()(z.undefined()),
  /** Starts the device flow; resolves with `awaitingApproval` (user code, verification page, expiry). */
  'auth.signIn': defineCall<AuthView>()(z.undefined()),
  'auth.cancelSignIn': defineCall<AuthView>()(z.undefined()),
  /** Opens the current sign-in's verification page in the system browser. */
  'auth.openVerificationPage': defineCall<void>()(z.undefined()),
  /** Uses the AWS CLI's sign-in for the same start URL instead of a new one. */
  'auth.useCliSignIn': defineCall<AuthView>()(z.undefined()),
  'auth.signOut': defineCall<AuthView>()(z.undefined()),
  /** The signed-in IdC user's name (for the UI to show who is signed in); null when not signed in or unknown. */
  'auth.getUser': defineCall<string | null>()(z.undefined()),
  /**
   * First run: starts the local sandbox inside the app with its default org,
   * points every AWS client at it and starts signing in against it.
   */
  'auth.tryLocalSandbox': defineCall<AuthView>()(z.undefined()),
};

export const authEvents = {
  /** Every sign-in state change (approval pending, signed in, refresh failed → signInRequired …). */
  'auth.state': defineEvent<AuthView>(),
};
