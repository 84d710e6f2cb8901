/**
 * Sign-in with IdC's device flow: the user code large and copyable, a button
 * that opens the verification page in the system browser, a countdown to the
 * code's expiry, and cancel. The page URL is shown too, for when no browser
 * can be opened (and for the e2e, which opens it in a second page).
 */
import { useEffect, useState } from 'react';
import type { AuthView } from '../../../app/api/calls/auth';
import { call, errorMessage } from '../bridge';
import type { AuthController } from './useAuthView';

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function countdown(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function LoginPanel({ auth, view }: { auth: AuthController; view: AuthView }) {
  const { state } = view;
  const waiting = state.status === 'awaitingApproval';
  const now = useNow(waiting);
  const [copied, setCopied] = useState(false);
  const [openProblem, setOpenProblem] = useState<string | null>(null);

  if (state.status === 'awaitingApproval') {
    const url = state.verificationUriComplete ?? state.verificationUri;
    const remaining = state.expiresAt - now;
    return (
      <section className="login" aria-label="Sign in" data-testid="login-approval">
        <p>Confirm this code on the IAM Identity Center sign-in page:</p>
        <div className="login-code-row">
          <output className="login-code" data-testid="user-code" aria-label="User code">
            {state.userCode}
          </output>
          <button
            type="button"
            onClick={() => {
              navigator.clipboard?.writeText(state.userCode).then(
                () => setCopied(true),
                () => setCopied(false),
              );
            }}
          >
            {copied ? 'Copied' : 'Copy code'}
          </button>
        </div>
        <div className="login-actions">
          <button
            type="button"
            className="primary"
            onClick={() => {
              setOpenProblem(null);
              call('auth.openVerificationPage').catch((e: unknown) => setOpenProblem(errorMessage(e)));
            }}
          >
            Open sign-in page
          </button>
          <button type="button" onClick={() => void auth.run(() => call('auth.cancelSignIn'))}>
            Cancel
          </button>
        </div>
        <p className="login-url">
          Or open <code data-testid="verification-url">{url}</code> in your browser.
        </p>
        {openProblem && <p className="error-text">{openProblem}</p>}
        <p className="muted" data-testid="code-expiry">
          {remaining > 0 ? `The code expires in ${countdown(remaining)}.` : 'The code has expired.'}
        </p>
      </section>
    );
  }

  const message =
    state.status === 'signInRequired' || state.status === 'signedOut' ? state.message : undefined;
  return (
    <section className="login" aria-label="Sign in" data-testid="login">
      <p>
        Sign in to <strong>{view.startUrl}</strong> ({view.region})
        {view.sandbox ? ' — the local sandbox' : ''}.
      </p>
      {message && (
        <p className={state.status === 'signInRequired' ? 'notice' : 'error-text'} role="alert">
          {message}
        </p>
      )}
      <div className="login-actions">
        <button
          type="button"
          className="primary"
          disabled={auth.busy}
          onClick={() => void auth.run(() => call('auth.signIn'))}
        >
          {state.status === 'signInRequired' ? 'Sign in again' : 'Sign in'}
        </button>
        {view.cliSignInExpiresAt && (
          <button
            type="button"
            disabled={auth.busy}
            onClick={() => void auth.run(() => call('auth.useCliSignIn'))}
          >
            Use my AWS CLI sign-in (valid until {new Date(view.cliSignInExpiresAt).toLocaleTimeString()})
          </button>
        )}
      </div>
      {auth.error && (
        <p className="error-text" role="alert">
          {auth.error}
        </p>
      )}
    </section>
  );
}
