/**
 * The app shell: header, sidebar (one entry per registered screen), content
 * area and status line. Screens are registered in screens.tsx, not here.
 */
import { useEffect, useMemo, useState } from 'react';
import type { AppInfo } from '../../app/api/calls/settings';
import { call, errorMessage } from './bridge';
import { initialScreenId, screens } from './screens';
import { ShellContext, type Shell } from './shell';
import { SessionsProvider, TerminalTabs } from './Terminal';

/** The screen named in the URL's fragment, so a reload keeps the user where they were. */
function screenFromLocation(): string {
  const id = decodeURIComponent(window.location.hash.slice(1));
  return screens.some((screen) => screen.id === id) ? id : initialScreenId;
}

export function App() {
  const [screenId, setScreenId] = useState(screenFromLocation);
  const [status, setStatus] = useState<string | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);

  useEffect(() => {
    // replaceState: the fragment records the current screen; it is not navigation (main/ blocks that).
    window.history.replaceState(null, '', `#${encodeURIComponent(screenId)}`);
  }, [screenId]);

  useEffect(() => {
    call('getAppInfo').then(setInfo, (error: unknown) => setStatus(errorMessage(error)));
  }, []);

  const shell = useMemo<Shell>(
    () => ({
      navigate: (id) => {
        if (screens.some((screen) => screen.id === id)) setScreenId(id);
      },
      setStatus,
    }),
    [],
  );
  const current = screens.find((screen) => screen.id === screenId) ?? screens[0]!;

  return (
    <ShellContext.Provider value={shell}>
      <SessionsProvider>
        <div className="app">
          <header className="app-header">
            <span className="app-name">RoleShell</span>
          </header>
          <nav className="app-sidebar" aria-label="Screens">
            <ul>
              {screens.map((screen) => (
                <li key={screen.id}>
                  <button
                    type="button"
                    aria-current={screen.id === current.id ? 'page' : undefined}
                    onClick={() => setScreenId(screen.id)}
                  >
                    {screen.title}
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          <main className="app-content" aria-labelledby="screen-title">
            <h1 id="screen-title">{current.title}</h1>
            <current.Component />
            <TerminalTabs visible={current.id === 'sessions'} />
          </main>
          <footer className="app-status" role="status" aria-label="Status">
            <span>{status ?? 'Ready'}</span>
            {info && (
              <span className="app-status-info">
                {info.name} {info.version} · {info.mode}
              </span>
            )}
          </footer>
        </div>
      </SessionsProvider>
    </ShellContext.Provider>
  );
}
