/**
 * The app frame, on Cloudscape like the AWS console: top navigation with the
 * signed-in identity and Sign out, side navigation (Instances, Sessions,
 * Settings), the content area where the terminal tabs stay mounted, the
 * instance split panel, the Ctrl/Cmd+K palette and a status bar. Only content
 * areas scroll, never the window.
 */
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import AppLayout from '@cloudscape-design/components/app-layout';
import Box from '@cloudscape-design/components/box';
import Header from '@cloudscape-design/components/header';
import Modal from '@cloudscape-design/components/modal';
import SideNavigation from '@cloudscape-design/components/side-navigation';
import SplitPanel from '@cloudscape-design/components/split-panel';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import TopNavigation from '@cloudscape-design/components/top-navigation';
import type { AppInfo } from '../../app/api/calls/settings';
import type { AuthView } from '../../app/api/calls/auth';
import { call, errorMessage } from './bridge';
import { FirstRun } from './FirstRun/FirstRun';
import { InstanceDetails } from './Instances/InstanceDetails';
import { InstancesView, progressText } from './Instances/InstancesView';
import { FrozenInventory, InventoryProvider, useInventory } from './Instances/inventory';
import type { Access, InstanceRow } from './Instances/model';
import { notConnectableReason, userLabel } from './Instances/model';
import { QuickConnect } from './Instances/QuickConnect';
import { LoginPanel } from './Login/LoginPanel';
import { useAuthView, type AuthController } from './Login/useAuthView';
import { viewFromLocation, views, type ViewId } from './screens';
import { SettingsScreen } from './Settings/SettingsScreen';
import { ShellContext, type Shell } from './shell';
import { SessionsProvider, TerminalTabs, useSessions } from './Terminal';

export function App() {
  const { view: authView, error: authError, busy: authBusy, run, reload } = useAuthView();
  // One object while nothing in it changes: the kept Instances screen is memoised on its props.
  const auth = useMemo<AuthController>(
    () => ({ view: authView, error: authError, busy: authBusy, run, reload }),
    [authView, authError, authBusy, run, reload],
  );
  const status = auth.view?.state.status;
  const [authEpoch, setAuthEpoch] = useState(0);
  const [hasBrowsed, setHasBrowsed] = useState(false);
  const [signedOutByUser, setSignedOutByUser] = useState(false);
  const previous = useRef(status);
  useEffect(() => {
    if (status === 'signedIn' && previous.current !== 'signedIn') setAuthEpoch((n) => n + 1);
    if (status === 'signedIn') {
      setHasBrowsed(true);
      setSignedOutByUser(false);
    }
    previous.current = status;
  }, [status]);
  const [message, setMessage] = useState<string | null>(null);
  const [user, setUser] = useState<string | null>(null);
  useEffect(() => {
    if (status !== 'signedIn') {
      setUser(null);
      return;
    }
    let current = true;
    call('auth.getUser').then(
      (name) => current && setUser(name),
      () => current && setUser(null),
    );
    return () => {
      current = false;
    };
  }, [status, authEpoch]);

  return (
    <SessionsProvider>
      <InventoryProvider
        signedIn={status === 'signedIn'}
        signedOut={status === 'signedOut'}
        authEpoch={authEpoch}
        onProblem={setMessage}
      >
        <Frame
          auth={auth}
          user={user}
          hasBrowsed={hasBrowsed && !signedOutByUser}
          signedOutByUser={signedOutByUser}
          onSignOut={async () => {
            await auth.run(() => call('auth.signOut'));
            setSignedOutByUser(true);
            setHasBrowsed(false);
          }}
          message={message}
          setMessage={setMessage}
        />
      </InventoryProvider>
    </SessionsProvider>
  );
}

function Frame({
  auth,
  user,
  hasBrowsed,
  signedOutByUser,
  onSignOut,
  message,
  setMessage,
}: {
  auth: AuthController;
  /** The signed-in IdC user's name, once known. */
  user: string | null;
  hasBrowsed: boolean;
  signedOutByUser: boolean;
  onSignOut: () => Promise<void>;
  message: string | null;
  setMessage: (text: string | null) => void;
}) {
  const [view, setView] = useState<ViewId>(viewFromLocation);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const [paletteOpen, setPaletteOpen] = useState(false);
  const [navigationOpen, setNavigationOpen] = useState(true);
  const sessions = useSessions();
  const inventory = useInventory();
  const authView = auth.view;
  const signedIn = authView?.state.status === 'signedIn';

  useEffect(() => {
    // replaceState: the fragment records the current view; it is not navigation (main/ blocks that).
    window.history.replaceState(null, '', `#${encodeURIComponent(view)}`);
  }, [view]);
  useEffect(() => {
    call('getAppInfo').then(setInfo, (error: unknown) => setMessage(errorMessage(error)));
  }, [setMessage]);
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(null), 8000);
    return () => clearTimeout(timer);
  }, [message, setMessage]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        if (signedIn) setPaletteOpen(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [signedIn]);

  const shell = useMemo<Shell>(() => ({ navigate: setView, setStatus: setMessage }), [setMessage]);
  // The same utilities while the sign-in is unchanged: a new list makes TopNavigation measure its
  // width again (a forced layout) on every render of the frame, such as a Connect's switch of screen.
  const signOut = useRef(onSignOut);
  signOut.current = onSignOut;
  const utilities = useMemo(
    () => identityUtilities(authView, user, () => void signOut.current()),
    [authView, user],
  );

  // One function for the frame's life (the Instances screen's columns and memoised rows hold it): it reads
  // the current sessions and inventory when called.
  const latest = useRef({ sessions, inventory });
  latest.current = { sessions, inventory };
  const connect = useCallback(
    (row: InstanceRow, access: Access) => {
      // The quick-connect palette and the details panel reach here too: an offline instance says why instead.
      const unavailable = notConnectableReason(row);
      if (unavailable) {
        setMessage(unavailable);
        return;
      }
      latest.current.sessions.connect({
        accountId: row.accountId,
        accountName: row.accountName,
        permissionSet: access.permissionSet,
        linuxUser: userLabel(access),
        region: row.region,
        instanceId: row.instanceId,
        instanceName: row.name,
      });
      void latest.current.inventory.recordRecent(row, access);
      setView('sessions');
    },
    [setMessage],
  );

  const selected =
    view === 'instances' && signedIn && selectedKey
      ? inventory.rows.find((r) => r.key === selectedKey)
      : undefined;

  // Stable across the frame's renders, so the Instances screen (memoised, kept mounted while hidden) is not
  // rendered again for them: a Connect re-renders the frame with a new tab, and session events re-render it.
  const onSelect = useCallback((row: InstanceRow | null) => setSelectedKey(row?.key ?? null), []);
  const onQuickConnect = useCallback(() => setPaletteOpen(true), []);

  let content: React.ReactNode = null;
  if (view === 'settings') {
    content = (
      <>
        <Box margin={{ bottom: 'l' }}>
          <Header variant="h1">Settings</Header>
        </Box>
        <SettingsScreen auth={authView} />
      </>
    );
  } else if (view === 'sessions') {
    content = (
      <Box margin={{ bottom: 'm' }}>
        <Header variant="h1" counter={`(${sessions.tabs.length})`}>
          Sessions
        </Header>
      </Box>
    );
  }

  return (
    <ShellContext.Provider value={shell}>
      <div className="app">
        <div id="top-nav" className="app-top">
          <TopNavigation
            identity={{
              href: '#instances',
              title: 'RoleShell',
              onFollow: (e) => {
                e.preventDefault();
                setView('instances');
              },
            }}
            utilities={utilities}
          />
        </div>
        <div className="app-body">
          <AppLayout
            disableBodyScroll
            headerSelector="#top-nav"
            footerSelector="#status-bar"
            toolsHide
            navigationWidth={220}
            // Sessions shares the table layout (full width, as terminals want): a change of content type
            // restyles the whole content area, the kept Instances table with it, so a Connect's switch to
            // Sessions does not change it (7.6 ms of style recalculation in its click task, one trace).
            contentType={signedIn && view !== 'settings' ? 'table' : 'default'}
            navigationOpen={navigationOpen}
            onNavigationChange={({ detail }) => setNavigationOpen(detail.open)}
            ariaLabels={{
              navigation: 'Views',
              navigationClose: 'Close navigation',
              navigationToggle: 'Open navigation',
            }}
            navigation={
              <SideNavigation
                header={{ text: 'RoleShell', href: '#instances' }}
                activeHref={`#${view}`}
                onFollow={(event) => {
                  event.preventDefault();
                  const id = event.detail.href.slice(1) as ViewId;
                  if (views.some((v) => v.id === id)) setView(id);
                }}
                items={views.map((v) => ({
                  type: 'link' as const,
                  text: v.title,
                  href: `#${v.id}`,
                  info:
                    v.id === 'sessions' && sessions.tabs.length > 0 ? (
                      <Box color="text-status-info" fontSize="body-s">
                        {sessions.tabs.length}
                      </Box>
                    ) : undefined,
                }))}
              />
            }
            splitPanelOpen={!!selected}
            onSplitPanelToggle={({ detail }) => {
              if (!detail.open) setSelectedKey(null);
            }}
            splitPanelPreferences={{ position: 'bottom' }}
            splitPanel={
              selected ? (
                <SplitPanel
                  header={selected.name}
                  hidePreferencesButton
                  closeBehavior="hide"
                  i18nStrings={{
                    closeButtonAriaLabel: 'Close instance details',
                    openButtonAriaLabel: 'Open instance details',
                    resizeHandleAriaLabel: 'Resize instance details',
                    resizeHandleTooltipText: 'Drag or use the arrow keys to resize',
                  }}
                >
                  <InstanceDetails row={selected} recents={inventory.prefs.recents} onConnect={connect} />
                </SplitPanel>
              ) : undefined
            }
            content={
              <main aria-label={views.find((v) => v.id === view)?.title}>
                <InstancesScreen
                  visible={view === 'instances'}
                  auth={auth}
                  hasBrowsed={hasBrowsed}
                  signedOutByUser={signedOutByUser}
                  onSelect={onSelect}
                  onConnect={connect}
                  onQuickConnect={onQuickConnect}
                />
                {content}
                <TerminalTabs visible={view === 'sessions'} />
              </main>
            }
          />
        </div>
        <footer id="status-bar" className="app-status" aria-label="Status">
          <span role="status">{message ?? statusText(authView, inventory)}</span>
          {info && (
            <span>
              {info.name} {info.version} · {info.mode}
            </span>
          )}
        </footer>
        {signedIn && (
          <QuickConnect visible={paletteOpen} onClose={() => setPaletteOpen(false)} onConnect={connect} />
        )}
      </div>
    </ShellContext.Provider>
  );
}

type InstancesContentProps = {
  auth: AuthController;
  hasBrowsed: boolean;
  signedOutByUser: boolean;
} & React.ComponentProps<typeof InstancesView>;

/**
 * The Instances screen stays mounted while Sessions or Settings shows, only hidden (content-visibility, see
 * app.css: neither Tab nor a screen reader reaches it): a Connect does not unmount a table of up to 20,000
 * rows in its click, and the way back does not mount it again; filter, page, scroll position and column
 * layout are as they were. While hidden it does not render either: its props are stable and it sees the
 * inventory as it was when hidden (FrozenInventory), so session events and the recent a Connect records wait
 * until it shows again.
 */
const InstancesScreen = memo(function InstancesScreen({
  visible,
  ...props
}: { visible: boolean } & InstancesContentProps) {
  const wrapper = useRef<HTMLDivElement>(null);
  useKeptScroll(wrapper, visible);
  return (
    <div ref={wrapper} className="instances-screen" hidden={!visible} data-testid="instances-screen">
      <FrozenInventory frozen={!visible}>
        <InstancesContent visible={visible} {...props} />
      </FrozenInventory>
    </div>
  );
});

/**
 * The layout's content area scrolls, not the hidden screen: hiding the screen shortens it to the other
 * screen's height and the browser clamps its scroll. Remember where it was while the screen showed, and put
 * it back before the screen is painted again.
 */
function useKeptScroll(wrapper: React.RefObject<HTMLDivElement | null>, visible: boolean): void {
  const kept = useRef<{ scroller: Element; top: number; left: number } | null>(null);
  useEffect(() => {
    if (!visible) return;
    const onScroll = (event: Event) => {
      const scroller = event.target;
      const screen = wrapper.current;
      // Not the browser's clamp once the screen is hidden (its event may come after the switch).
      if (scroller instanceof Element && screen && !screen.hidden && scroller.contains(screen))
        kept.current = { scroller, top: scroller.scrollTop, left: scroller.scrollLeft };
    };
    // Scroll events do not bubble: listen in the capture phase for the content area's.
    document.addEventListener('scroll', onScroll, { capture: true, passive: true });
    return () => document.removeEventListener('scroll', onScroll, { capture: true });
  }, [visible, wrapper]);
  useLayoutEffect(() => {
    const saved = kept.current;
    if (!visible || !saved || !saved.scroller.isConnected) return;
    saved.scroller.scrollTop = saved.top;
    saved.scroller.scrollLeft = saved.left;
  }, [visible]);
}

function InstancesContent({
  visible,
  auth,
  hasBrowsed,
  signedOutByUser,
  ...view
}: { visible: boolean } & InstancesContentProps) {
  const authView = auth.view;
  const status = authView?.state.status;
  // The table itself is kept while hidden; what stands in for it before sign-in is shown only on this screen.
  // One tree shape for both branches that show the table, so a lapsed sign-in does not mount it again.
  if (authView && (status === 'signedIn' || hasBrowsed))
    return (
      <>
        {status !== 'signedIn' && visible && (
          // The sign-in lapsed mid-use: ask again over the same view, which stays as it was.
          <Modal visible header="Sign in again" size="medium" closeAriaLabel="Close">
            <LoginPanel auth={auth} view={authView} />
          </Modal>
        )}
        <InstancesView {...view} />
      </>
    );
  if (!visible) return null;
  // Until the app core answers: say what is happening, in the console's loading style.
  if (!authView)
    return (
      <Box textAlign="center" padding={{ vertical: 'xxxl' }}>
        <StatusIndicator type="loading">Starting RoleShell</StatusIndicator>
      </Box>
    );
  if (status === 'awaitingApproval') return <LoginPanel auth={auth} view={authView} />;
  if (!authView.configured || signedOutByUser) return <FirstRun auth={auth} signedOut={signedOutByUser} />;
  return (
    <>
      <Box margin={{ bottom: 'l' }}>
        <Header variant="h1">Sign in</Header>
      </Box>
      <LoginPanel auth={auth} view={authView} />
    </>
  );
}

function identityUtilities(view: AuthView | null, user: string | null, onSignOut: () => void) {
  if (!view || view.state.status !== 'signedIn') return [];
  const until = new Date(view.state.expiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  let host = view.startUrl;
  try {
    host = new URL(view.startUrl).host;
  } catch {
    // Not a URL: show it as it is.
  }
  return [
    ...(view.sandbox
      ? [
          {
            type: 'button' as const,
            text: 'Local sandbox',
            iconName: 'status-info' as const,
            disableUtilityCollapse: true,
          },
        ]
      : []),
    {
      type: 'menu-dropdown' as const,
      text: user ?? host,
      description: user ? `${host} · until ${until}` : `Signed in until ${until}`,
      iconName: 'user-profile' as const,
      ariaLabel: `Signed in${user ? ` as ${user}` : ''} to ${view.startUrl}${view.sandbox ? ' (local sandbox)' : ''} until ${until}`,
      items: [
        ...(user ? [{ id: 'user', text: `IAM Identity Center user: ${user}`, disabled: true }] : []),
        { id: 'start-url', text: `Start URL: ${view.startUrl}`, disabled: true },
        { id: 'region', text: `Region: ${view.region}`, disabled: true },
        { id: 'signout', text: 'Sign out' },
      ],
      onItemClick: ({ detail }: { detail: { id: string } }) => {
        if (detail.id === 'signout') onSignOut();
      },
    },
  ];
}

/** What the status bar says: what is happening now, never "Ready" while waiting for the user. */
function statusText(view: AuthView | null, inventory: ReturnType<typeof useInventory>): string {
  if (!view) return 'Starting…';
  switch (view.state.status) {
    case 'awaitingApproval':
      return 'Waiting for you to approve the sign-in in your browser';
    case 'signInRequired':
      return 'Sign in again to continue';
    case 'signedOut':
      return view.configured ? 'Signed out' : 'Not set up yet: try the local sandbox or enter your start URL';
    case 'signedIn': {
      if (inventory.loading)
        return inventory.progress && inventory.progress.total > 0
          ? `Loading instances: ${progressText(inventory.progress)}`
          : 'Loading accounts…';
      if (inventory.error) return 'Instances could not be loaded';
      const n = inventory.rows.length.toLocaleString('en-US');
      const a = (inventory.accounts?.length ?? 0).toLocaleString('en-US');
      return `${n} instance${inventory.rows.length === 1 ? '' : 's'} in ${a} account${inventory.accounts?.length === 1 ? '' : 's'}`;
    }
  }
}
