/** The sign-in state as the app core reports it (`auth.state` events), plus the calls that change it. */
import { useCallback, useEffect, useState } from 'react';
import type { AuthView } from '../../../app/api/calls/auth';
import { call, errorMessage, on } from '../bridge';

export interface AuthController {
  view: AuthView | null;
  /** The last call's failure, for the screen that made it. */
  error: string | null;
  busy: boolean;
  run(action: () => Promise<AuthView | void>): Promise<void>;
  reload(): Promise<void>;
}

export function useAuthView(): AuthController {
  const [view, setView] = useState<AuthView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = useCallback(async () => {
    try {
      setView(await call('auth.getView'));
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);

  useEffect(() => {
    const off = on('auth.state', (next) => setView(next));
    void reload();
    // A settings save (new start URL) changes what the sign-in is for.
    const offSettings = on('settings.changed', () => void reload());
    return () => {
      off();
      offSettings();
    };
  }, [reload]);

  const run = useCallback(async (action: () => Promise<AuthView | void>) => {
    setBusy(true);
    setError(null);
    try {
      const next = await action();
      if (next) setView(next);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }, []);

  return { view, error, busy, run, reload };
}
