/**
 * The "Connect" screen: first run (no start URL), sign-in, or the browse view.
 * When IdC asks for a new sign-in mid-session the browse view stays mounted
 * under the sign-in panel, so the user lands back where they were.
 */
import { useEffect, useRef, useState } from 'react';
import { call } from '../bridge';
import { FirstRun } from '../FirstRun/FirstRun';
import { LoginPanel } from '../Login/LoginPanel';
import { useAuthView } from '../Login/useAuthView';
import { BrowseView } from './BrowseView';
import './browse.css';

export function BrowseScreen() {
  const auth = useAuthView();
  const { view } = auth;
  const status = view?.state.status;
  // Counts sign-ins: each new one tells the browse view to reload what failed.
  const [authEpoch, setAuthEpoch] = useState(0);
  const [hasBrowsed, setHasBrowsed] = useState(false);
  const previous = useRef(status);
  useEffect(() => {
    if (status === 'signedIn' && previous.current !== 'signedIn') setAuthEpoch((n) => n + 1);
    if (status === 'signedIn') setHasBrowsed(true);
    if (status === 'signedOut') setHasBrowsed(false);
    previous.current = status;
  }, [status]);

  if (!view) return <p className="muted">Loading…</p>;
  if (!view.configured) return <FirstRun auth={auth} />;

  const signedIn = status === 'signedIn';
  const reSignIn = hasBrowsed && !signedIn;
  return (
    <div className="connect-screen">
      {signedIn && (
        <div className="signed-in-bar" data-testid="signed-in">
          Signed in to {view.startUrl}
          {view.sandbox ? ' (local sandbox)' : ''}
          <button type="button" onClick={() => void auth.run(() => call('auth.signOut'))}>
            Sign out
          </button>
        </div>
      )}
      {!signedIn && (
        <div className={reSignIn ? 'login-overlay' : undefined}>
          <LoginPanel auth={auth} view={view} />
        </div>
      )}
      {hasBrowsed && (
        <div aria-hidden={!signedIn} className={signedIn ? undefined : 'dimmed'}>
          <BrowseView authEpoch={authEpoch} />
        </div>
      )}
    </div>
  );
}
