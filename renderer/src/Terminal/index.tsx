/**
 * PLACEHOLDER for the terminal area (the real one, with xterm and the session
 * calls, comes from the Connect work and replaces this file). It has the agreed
 * interface: a list of session tabs with title and status, so the layout, the
 * Connect-as control and their tests work before terminals exist. It starts no
 * session: a tab stays "starting" until the real implementation connects it.
 */
import { createContext, useCallback, useContext, useMemo, useState } from 'react';
import Box from '@cloudscape-design/components/box';
import Button from '@cloudscape-design/components/button';
import StatusIndicator from '@cloudscape-design/components/status-indicator';
import Tabs from '@cloudscape-design/components/tabs';

export interface ConnectRequest {
  accountId: string;
  accountName: string;
  permissionSet: string;
  linuxUser: string;
  region: string;
  instanceId: string;
  instanceName: string;
}
export type SessionStatus = 'starting' | 'connected' | 'disconnected' | 'reconnecting' | 'closed';
export interface SessionTab {
  id: string;
  title: string /* `${linuxUser}@${instanceName}` */;
  status: SessionStatus;
  reason?: string;
  request: ConnectRequest;
}

interface Sessions {
  tabs: SessionTab[];
  activeId: string | null;
  connect(request: ConnectRequest): void;
  activate(id: string): void;
  close(id: string): void;
}

const SessionsContext = createContext<Sessions | null>(null);

export function SessionsProvider(props: { children: React.ReactNode }): React.JSX.Element {
  const [tabs, setTabs] = useState<SessionTab[]>([]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [counter, setCounter] = useState(0);

  const connect = useCallback(
    (request: ConnectRequest) => {
      const id = `session-${counter + 1}`;
      setCounter((n) => n + 1);
      setTabs((old) => [
        ...old,
        { id, title: `${request.linuxUser}@${request.instanceName}`, status: 'starting', request },
      ]);
      setActiveId(id);
    },
    [counter],
  );
  const close = useCallback((id: string) => {
    setTabs((old) => {
      const next = old.filter((t) => t.id !== id);
      setActiveId((active) => (active === id ? (next.at(-1)?.id ?? null) : active));
      return next;
    });
  }, []);
  const value = useMemo(
    () => ({ tabs, activeId, connect, activate: setActiveId, close }),
    [tabs, activeId, connect, close],
  );
  return <SessionsContext.Provider value={value}>{props.children}</SessionsContext.Provider>;
}

export function useSessions(): Sessions {
  const sessions = useContext(SessionsContext);
  if (!sessions) throw new Error('useSessions outside SessionsProvider');
  return sessions;
}

const statusText: Record<
  SessionStatus,
  { type: 'pending' | 'success' | 'stopped' | 'loading'; text: string }
> = {
  starting: { type: 'pending', text: 'Starting' },
  connected: { type: 'success', text: 'Connected' },
  disconnected: { type: 'stopped', text: 'Disconnected' },
  reconnecting: { type: 'loading', text: 'Reconnecting' },
  closed: { type: 'stopped', text: 'Closed' },
};

/** Tab strip + one terminal per tab. Always rendered by the layout; hidden (CSS) when !visible, never unmounted. */
export function TerminalTabs(props: { visible: boolean }): React.JSX.Element {
  const { tabs, activeId, activate, close } = useSessions();
  return (
    <div className="terminal-area" hidden={!props.visible} data-testid="terminal-area">
      {tabs.length === 0 ? (
        <Box textAlign="center" color="text-body-secondary" padding="xxl">
          <b>No sessions</b>
          <Box variant="p" color="inherit">
            Choose Connect as on an instance, or press Ctrl+K to connect by name.
          </Box>
        </Box>
      ) : (
        <Tabs
          ariaLabel="Sessions"
          activeTabId={activeId ?? undefined}
          onChange={({ detail }) => activate(detail.activeTabId)}
          tabs={tabs.map((tab) => ({
            id: tab.id,
            label: tab.title,
            content: (
              <Box padding="m" data-testid="session-placeholder">
                <StatusIndicator type={statusText[tab.status].type}>
                  {statusText[tab.status].text}
                </StatusIndicator>{' '}
                {tab.request.linuxUser} on {tab.request.instanceName} ({tab.request.instanceId}) as{' '}
                {tab.request.permissionSet} in {tab.request.accountName}{' '}
                <Button variant="inline-link" onClick={() => close(tab.id)} ariaLabel={`Close ${tab.title}`}>
                  Close
                </Button>
              </Box>
            ),
          }))}
        />
      )}
    </div>
  );
}
