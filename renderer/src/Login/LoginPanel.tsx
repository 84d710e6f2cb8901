/**
 * Sign-in with IdC's device flow: the user code large and copyable, a button
 * that opens the verification page in the system browser, a countdown to the
 * code's expiry, and cancel. The page URL is shown too, for when no browser
 * can be opened (and for the e2e, which opens it in a second page).
 */
import { useEffect, useState } from 'react';
import Alert from '@cloudscape-design/components/alert';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import Container from '@cloudscape-design/components/container';
import CopyToClipboard from '@cloudscape-design/components/copy-to-clipboard';
import Header from '@cloudscape-design/components/header';
import SpaceBetween from '@cloudscape-design/components/space-between';
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
  const [openProblem, setOpenProblem] = useState<string | null>(null);
  const where = `${view.startUrl} (${view.region})${view.sandbox ? ', the local sandbox' : ''}`;

  if (state.status === 'awaitingApproval') {
    const url = state.verificationUriComplete ?? state.verificationUri;
    const remaining = state.expiresAt - now;
    return (
      <section className="login" aria-label="Sign in" data-testid="login-approval">
        <Container
          header={
            <Header variant="h2" description={`Signing in to ${where}.`}>
              Confirm this code
            </Header>
          }
        >
          <SpaceBetween size="m">
            <Box variant="p">
              Check that the IAM Identity Center sign-in page shows this code, then approve it there:
            </Box>
            <SpaceBetween direction="horizontal" size="s" alignItems="center">
              <output className="login-code" data-testid="user-code" aria-label="User code">
                {state.userCode}
              </output>
              <CopyToClipboard
                variant="button"
                copyButtonText="Copy code"
                copySuccessText="Code copied"
                copyErrorText="The code could not be copied"
                textToCopy={state.userCode}
              />
            </SpaceBetween>
            <SpaceBetween direction="horizontal" size="xs">
              <Button
                variant="primary"
                iconName="external"
                iconAlign="right"
                onClick={() => {
                  setOpenProblem(null);
                  call('auth.openVerificationPage').catch((e: unknown) => setOpenProblem(errorMessage(e)));
                }}
              >
                Open sign-in page
              </Button>
              <Button onClick={() => void auth.run(() => call('auth.cancelSignIn'))}>Cancel</Button>
            </SpaceBetween>
            <Box variant="p" color="text-body-secondary">
              Or open <code data-testid="verification-url">{url}</code> in your browser.
            </Box>
            {openProblem && <Alert type="error">{openProblem}</Alert>}
            <Box color="text-body-secondary" data-testid="code-expiry">
              {remaining > 0 ? `The code expires in ${countdown(remaining)}.` : 'The code has expired.'}
            </Box>
          </SpaceBetween>
        </Container>
      </section>
    );
  }

  const message =
    state.status === 'signInRequired' || state.status === 'signedOut' ? state.message : undefined;
  return (
    <section className="login" aria-label="Sign in" data-testid="login">
      <Container
        header={
          <Header variant="h2" description={`To ${where}.`}>
            Sign in with IAM Identity Center
          </Header>
        }
      >
        <SpaceBetween size="m">
          {message && (
            <Alert type={state.status === 'signInRequired' ? 'warning' : 'error'}>
              <span role="alert">{message}</span>
            </Alert>
          )}
          <SpaceBetween direction="horizontal" size="xs">
            <Button
              variant="primary"
              loading={auth.busy}
              onClick={() => void auth.run(() => call('auth.signIn'))}
            >
              {state.status === 'signInRequired' ? 'Sign in again' : 'Sign in'}
            </Button>
            {view.cliSignInExpiresAt && (
              <Button disabled={auth.busy} onClick={() => void auth.run(() => call('auth.useCliSignIn'))}>
                Use my AWS CLI sign-in (valid until {new Date(view.cliSignInExpiresAt).toLocaleTimeString()})
              </Button>
            )}
          </SpaceBetween>
          {auth.error && (
            <Alert type="error">
              <span role="alert">{auth.error}</span>
            </Alert>
          )}
        </SpaceBetween>
      </Container>
    </section>
  );
}
