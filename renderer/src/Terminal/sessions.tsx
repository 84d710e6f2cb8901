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
import { SessionRoutes } from './sessionRoutes';
import { withDetails, withState, type TabDetails } from './tabState';
import { TerminalView, type TerminalViewOptions } from './TerminalView';
import type { ConnectRequest, SessionTab } from './types';

export interface SessionsApi {
  tabs: SessionTab[];
  activeId: string | null;
  connect(request: ConnectRequest): void;
  activate(id: string): void;
  close(id: string): void;
}

interface Internals extends SessionsApi {
  viewFor(id: string): TerminalView | undefined;
  reconnect(id: string): void;
  details: ReadonlyMap<string, TabDetails>;
}

/**
 * Two contexts: the layout's (which tabs exist) changes only when a tab opens or closes; the terminal
 * area's also with every status change. A session coming up then re-renders the tab strip, not the whole
 * layout, while its first output is on its way to the page.
 */
const SessionsContext = createContext<SessionsApi | null>(null);
const InternalsContext = createContext<Internals | null>(null);

const initialTerminalOptions = { fontSize: 13, scrollback: 5000 };
/** A spare terminal is opened this long after the app is up, or after a Connect took the last one. */
const SPARE_DELAY_MS = 1500;

type TerminalEvents = Pick<TerminalViewOptions, 'onInput' | 'onResize' | 'onAcknowledge'>;

/** A terminal opened in the parking element, and the events of whichever tab takes it. */
interface Spare {
  view: TerminalView;
  events: { current: TerminalEvents | undefined };
}

export function SessionsProvider(props: { children: React.ReactNode }): React.JSX.Element {
  const shell = useShell();
  const [tabs, setTabs] = useState<SessionTab[]>([]);
  const [activeId, setActiveId] = useState<string | null>(null);
  const [details, setDetails] = useState<ReadonlyMap<string, TabDetails>>(() => new Map());
  /** By the tab's own key (made here at the click, before the core has named the session). */
  const views = useRef(new Map<string, TerminalView>());
  /** The core's session ids ↔ the tabs' keys, and what arrived before `session.start` answered. */
  const routes = useRef(new SessionRoutes<SessionStateEvent>());
  const nextKey = useRef(0);
  /** A terminal opened ahead of the next Connect, so that click need not build and open one. */
  const spare = useRef<Spare | undefined>(undefined);
  const parking = useRef<HTMLDivElement | null>(null);
  const terminalOptions = useRef(initialTerminalOptions);
  /** The size of a shown terminal's box, as last seen (a spare prepared, a tab closed). */
  const paneBox = useRef<{ width: number; height: number } | undefined>(undefined);

  const applyState = useCallback((key: string, event: SessionStateEvent) => {
    setTabs((current) => withState(current, key, event));
    setDetails((current) => withDetails(current, key, event));
  }, []);

  const prepareSpare = useCallback(() => {
    if (spare.current || !parking.current) return;
    // Parked at the size a pane gives its terminal now (that of an open tab, else the last one seen), so
    // it needs no resize when shown and its session starts at that size.
    const box = [...views.current.values()].map((view) => view.shownBoxSize).find(Boolean) ?? paneBox.current;
    paneBox.current = box;
    if (box) {
      parking.current.style.width = `${box.width}px`;
      parking.current.style.height = `${box.height}px`;
    }
    const events: Spare['events'] = { current: undefined };
    const view = new TerminalView({
      ...terminalOptions.current,
      onInput: (data) => events.current?.onInput(data),
      onResize: (cols, rows) => events.current?.onResize(cols, rows),
      onAcknowledge: (bytes) => events.current?.onAcknowledge(bytes),
    });
    view.prepare(parking.current, { fit: box !== undefined });
    spare.current = { view, events };
  }, []);

  useEffect(() => {
    const offState = on('session.state', (event) => {
      const key = routes.current.state(event.id, event);
      if (key !== undefined) applyState(key, event);
    });
    const offOutput = window.roleshell?.onOutput((id, data) => {
      const key = routes.current.output(id, data);
      if (key !== undefined) views.current.get(key)?.write(data);
    });
    const applySettings = (settings: { terminalFontSize: number; terminalScrollback: number }) => {
      terminalOptions.current = {
        fontSize: settings.terminalFontSize,
        scrollback: settings.terminalScrollback,
      };
      for (const view of views.current.values()) view.setOptions(terminalOptions.current);
      spare.current?.view.setOptions(terminalOptions.current);
    };
    // In idle time once the app is up, not on the first click.
    const spareTimer = setTimeout(() => prepareSpare(), SPARE_DELAY_MS);
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
      clearTimeout(spareTimer);
      spare.current?.view.dispose();
      spare.current = undefined;
    };
  }, [applyState, prepareSpare]);

  const forget = useCallback((key: string) => {
    // The next spare is parked at this size even when no tab is open by then.
    paneBox.current = views.current.get(key)?.shownBoxSize ?? paneBox.current;
    views.current.get(key)?.dispose();
    views.current.delete(key);
    routes.current.closed(key);
    setTabs((current) => {
      const index = current.findIndex((tab) => tab.id === key);
      const rest = current.filter((tab) => tab.id !== key);
      setActiveId((active) =>
        active !== key ? active : (rest[Math.min(index, rest.length - 1)]?.id ?? null),
      );
      return rest;
    });
  }, []);

  const connect = useCallback(
    (request: ConnectRequest) => {
      const key = `tab-${++nextKey.current}`;
      // The spare terminal, already open, if there is one; the next is prepared once this session is up.
      const taken = spare.current;
      spare.current = undefined;
      // The size the terminal will show at: the spare's, fitted where it was parked; else that of the tabs
      // already open (they share the area); else 80×24. A different size once shown is sent as a resize.
      const size = taken?.view.parkedSize ??
        [...views.current.values()].find((view) => view.fitted)?.size ?? { cols: 80, rows: 24 };
      // Asked for first, so the core starts the session while the tab and its terminal are built and
      // mounted here (a WebSocket or IPC send leaves at once, not when this task ends: measured in Chromium,
      // a send followed by 200 ms of work in the same task arrives in 0.4–2 ms).
      const starting = call('session.start', { request, ...size });
      /** Calls need the core's id: until it has answered, input is dropped (the session takes none before it connects). */
      const withId = (send: (id: string) => void) => {
        const id = routes.current.idOf(key);
        if (id !== undefined) send(id);
      };
      /** A fit before the core answered: sent once it has, if the session was started at another size. */
      let fittedEarly: { cols: number; rows: number } | undefined;
      const events: TerminalEvents = {
        onInput: (data) => withId((id) => void call('session.input', { id, data }).catch(() => {})),
        onResize: (cols, rows) => {
          if (routes.current.idOf(key) === undefined) fittedEarly = { cols, rows };
          withId((id) => void call('session.resize', { id, cols, rows }).catch(() => {}));
        },
        onAcknowledge: (bytes) => withId((id) => void call('session.ack', { id, bytes }).catch(() => {})),
      };
      if (taken) taken.events.current = events;
      const view = taken?.view ?? new TerminalView({ ...terminalOptions.current, ...events });
      setTimeout(() => prepareSpare(), SPARE_DELAY_MS);
      views.current.set(key, view);
      routes.current.opened(key);
      // In this task, so the tab is rendered with whatever else the click changes (the switch to the
      // Sessions screen): one render, one layout, one frame. Rendered in a task of its own, it waited for
      // the frame painted in between and then kept the page busy while the session's first output arrived.
      setTabs((current) => [
        ...current,
        { id: key, title: `${request.linuxUser}@${request.instanceName}`, status: 'starting', request },
      ]);
      setActiveId(key);
      starting.then(
        ({ id }) => {
          const pending = routes.current.answered(key, id);
          if (!pending) {
            // The tab was closed before the core answered: end what it started.
            void call('session.close', { id }).catch(() => {});
            return;
          }
          setTabs((current) => current.map((tab) => (tab.id === key ? { ...tab, sessionId: id } : tab)));
          for (const state of pending.states) applyState(key, state);
          for (const chunk of pending.output) view.write(chunk);
          if (fittedEarly && (fittedEarly.cols !== size.cols || fittedEarly.rows !== size.rows))
            void call('session.resize', { id, ...fittedEarly }).catch(() => {});
        },
        (error: unknown) => {
          forget(key);
          shell.setStatus(errorMessage(error));
        },
      );
    },
    [applyState, forget, prepareSpare, shell],
  );

  const close = useCallback(
    (key: string) => {
      const id = routes.current.idOf(key);
      // Not answered yet: the start's answer sees the tab gone and closes the session then.
      if (id !== undefined) void call('session.close', { id }).catch(() => {});
      forget(key);
    },
    [forget],
  );

  const reconnect = useCallback((key: string) => {
    const view = views.current.get(key);
    const id = routes.current.idOf(key);
    if (!view || id === undefined) return;
    view.notice('Starting a new session…');
    void call('session.reconnect', { id, ...view.size }).catch(() => {});
  }, []);

  // Which tabs exist, in order: the layout's tabs keep their identity while only a status or title changes.
  const tabKeys = tabs.map((tab) => tab.id).join('\n');
  const tabsRef = useRef(tabs);
  tabsRef.current = tabs;
  // eslint-disable-next-line react-hooks/exhaustive-deps -- on purpose: only a new or closed tab makes a new list
  const openedTabs = useMemo(() => tabsRef.current, [tabKeys]);
  const api = useMemo(
    () => ({ tabs: openedTabs, activeId, connect, activate: setActiveId, close }),
    [openedTabs, activeId, connect, close],
  );
  const internals = useMemo(
    () => ({
      tabs,
      activeId,
      connect,
      activate: setActiveId,
      close,
      reconnect,
      details,
      viewFor: (key: string) => views.current.get(key),
    }),
    [tabs, activeId, connect, close, reconnect, details],
  );
  return (
    <SessionsContext.Provider value={api}>
      <InternalsContext.Provider value={internals}>
        {props.children}
        <div className="terminal-parking" ref={parking} />
      </InternalsContext.Provider>
    </SessionsContext.Provider>
  );
}

/** For the layout: which tabs are open (their status and title as of when each opened), connect and close. */
export function useSessions(): SessionsApi {
  const context = useContext(SessionsContext);
  if (!context) throw new Error('useSessions needs a <SessionsProvider> above it');
  return context;
}

/** For the terminal area itself: every tab's current status, the views and the Reconnect action. */
export function useSessionInternals(): Internals {
  const context = useContext(InternalsContext);
  if (!context) throw new Error('useSessionInternals needs a <SessionsProvider> above it');
  return context;
}
