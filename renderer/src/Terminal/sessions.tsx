/**
 * The renderer's sessions: one tab per session, each with a TerminalView that
 * lives as long as the tab (never re-created by React). State comes from the
 * core's `session.state` events; output arrives as bytes on
 * `window.roleshell.onOutput`, only for this window's own sessions.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { SessionStateEvent } from '../../../app/api/calls/session';
import { call, errorMessage, on } from '../bridge';
import { useShell } from '../shell';
import { TerminalView } from './TerminalView';
import type { ConnectRequest, SessionTab } from './types';

export interface SessionsApi {
  tabs: SessionTab[];
  activeId: string | null;
  connect(request: ConnectRequest): void;
  activate(id: string): void;
  close(id: string): void;
}

interface Internals {
  viewFor(id: string): TerminalView | undefined;
  reconnect(id: string): void;
  details: ReadonlyMap<string, Pick<SessionStateEvent, 'sessionId' | 'backend'>>;
}

const SessionsContext = createContext<(SessionsApi & Internals) | null>(null);

const initialTerminalOptions = { fontSize: 13, scrollback: 5000 };

export function SessionsProvider(props: { children: React.ReactNode }): React.JSX.Element {
  const shell = useShell();
  const [tabs, setTabs] = useState<SessionTab[]>([]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [details, setDetails] = useState<Map<string, Pick<SessionStateEvent, 'sessionId' | 'backend'>>>(
    () => new Map(),
  );
  const views = useRef(new Map<string, TerminalView>());
  /** State and output that arrived before `session.start` answered with the tab's id. */
  const early = useRef(new Map<string, { states: SessionStateEvent[]; output: Uint8Array[] }>());
  const terminalOptions = useRef(initialTerminalOptions);

  const applyState = useCallback((event: SessionStateEvent) => {
    setTabs((current) =>
      current.map((tab) =>
        tab.id !== event.id
          ? tab
          : {
              ...tab,
              status: event.status,
              ...(event.reason !== undefined ? { reason: event.reason } : { reason: undefined }),
              title: `${event.linuxUser ?? tab.request.linuxUser}@${tab.request.instanceName}`,
            },
      ),
    );
    if (event.sessionId || event.backend)
      setDetails((current) =>
        new Map(current).set(event.id, { sessionId: event.sessionId, backend: event.backend }),
      );
  }, []);

  useEffect(() => {
    const offState = on('session.state', (event) => {
      if (views.current.has(event.id)) applyState(event);
      else {
        const entry = early.current.get(event.id) ?? { states: [], output: [] };
        entry.states.push(event);
        early.current.set(event.id, entry);
      }
    });
    const offOutput = window.roleshell?.onOutput((id, data) => {
      const view = views.current.get(id);
      if (view) view.write(data);
      else {
        const entry = early.current.get(id) ?? { states: [], output: [] };
        entry.output.push(data);
        early.current.set(id, entry);
      }
    });
    const applySettings = (settings: { terminalFontSize: number; terminalScrollback: number }) => {
      terminalOptions.current = {
        fontSize: settings.terminalFontSize,
        scrollback: settings.terminalScrollback,
      };
      for (const view of views.current.values()) view.setOptions(terminalOptions.current);
    };
    call('getSettings').then(
      (view) => applySettings(view.settings),
      () => {},
    );
    const offSettings = on('settings.changed', (view) => applySettings(view.settings));
    // The session host starts now rather than on the first Connect click.
    call('session.prepare', {}).catch(() => {});
    const all = views.current;
    return () => {
      offState();
      offOutput?.();
      offSettings();
      for (const view of all.values()) view.dispose();
      all.clear();
    };
  }, [applyState]);

  const connect = useCallback(
    (request: ConnectRequest) => {
      void (async () => {
        let id: string;
        try {
          ({ id } = await call('session.start', { request, cols: 80, rows: 24 }));
        } catch (error) {
          shell.setStatus(errorMessage(error));
          return;
        }
        const view = new TerminalView({
          ...terminalOptions.current,
          onInput: (data) => void call('session.input', { id, data }).catch(() => {}),
          onResize: (cols, rows) => void call('session.resize', { id, cols, rows }).catch(() => {}),
          onAcknowledge: (bytes) => void call('session.ack', { id, bytes }).catch(() => {}),
        });
        views.current.set(id, view);
        setTabs((current) => [
          ...current,
          { id, title: `${request.linuxUser}@${request.instanceName}`, status: 'starting', request },
        ]);
        setActiveId(id);
        const pending = early.current.get(id);
        early.current.delete(id);
        for (const state of pending?.states ?? []) applyState(state);
        for (const chunk of pending?.output ?? []) view.write(chunk);
        // Connecting records a recent, so the instance is one click away next time.
        void call('browse.recordRecent', {
          target: {
            // The browse list's key for a target (app/targets/types.ts `targetKey`).
            key: `${request.accountId}/${request.permissionSet}/${request.region}/${request.instanceId}`,
            accountId: request.accountId,
            accountName: request.accountName,
            permissionSet: request.permissionSet,
            region: request.region,
            instanceId: request.instanceId,
            name: request.instanceName,
            linuxUser: request.linuxUser,
          },
        }).catch(() => {});
      })();
    },
    [applyState, shell],
  );

  const close = useCallback((id: string) => {
    void call('session.close', { id }).catch(() => {});
    views.current.get(id)?.dispose();
    views.current.delete(id);
    setTabs((current) => {
      const index = current.findIndex((tab) => tab.id === id);
      const rest = current.filter((tab) => tab.id !== id);
      setActiveId((active) =>
        active !== id ? active : (rest[Math.min(index, rest.length - 1)]?.id ?? null),
      );
      return rest;
    });
  }, []);

  const reconnect = useCallback((id: string) => {
    const view = views.current.get(id);
    if (!view) return;
    view.notice('Starting a new session…');
    void call('session.reconnect', { id, ...view.size }).catch(() => {});
  }, []);

  const value = useMemo(
    () => ({
      tabs,
      activeId,
      connect,
      activate: setActiveId,
      close,
      reconnect,
      details,
      viewFor: (id: string) => views.current.get(id),
    }),
    [tabs, activeId, connect, close, reconnect, details],
  );
  return <SessionsContext.Provider value={value}>{props.children}</SessionsContext.Provider>;
}

function useSessionsContext(): SessionsApi & Internals {
  const context = useContext(SessionsContext);
  if (!context) throw new Error('useSessions needs a <SessionsProvider> above it');
  return context;
}

export function useSessions(): SessionsApi {
  const { tabs, activeId, connect, activate, close } = useSessionsContext();
  return { tabs, activeId, connect, activate, close };
}

/** For the terminal area itself: the views and the Reconnect action. */
export function useSessionInternals(): Internals {
  return useSessionsContext();
}
