/**
 * The tab strip and one terminal per tab. Always rendered by the layout and
 * only hidden (CSS) when another screen shows, so terminals and their
 * scrollback survive screen switches.
 */
import Button from '@cloudscape-design/components/button';
import Input from '@cloudscape-design/components/input';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useSessionInternals } from './sessions';
import type { SessionTab } from './types';
import './terminal.css';

export function TerminalTabs(props: { visible: boolean }): React.JSX.Element {
  const { tabs, activeId, activate, close } = useSessionInternals();
  return (
    <section
      className="terminal-area"
      aria-label="Sessions"
      data-testid="terminal-area"
      style={props.visible ? undefined : { display: 'none' }}
    >
      {tabs.length === 0 ? (
        <p className="muted">No sessions yet. Choose an instance and Connect.</p>
      ) : (
        <div className="terminal-tab-strip" role="tablist" aria-label="Open sessions">
          {tabs.map((tab) => (
            // Presentation only: a tablist may own nothing but its tabs (the keyboard's Close is in the pane).
            <div
              key={tab.id}
              role="presentation"
              className={`terminal-tab ${tab.id === activeId ? 'active' : ''}`}
            >
              <button
                type="button"
                role="tab"
                aria-selected={tab.id === activeId}
                aria-controls={`panel-${tab.id}`}
                data-status={tab.status}
                onClick={() => activate(tab.id)}
              >
                <span className={`terminal-dot status-${tab.status}`} aria-hidden="true" />
                {tab.title}
              </button>
              <span className="terminal-tab-close" aria-hidden="true" onClick={() => close(tab.id)}>
                ×
              </span>
            </div>
          ))}
        </div>
      )}
      {tabs.map((tab) => (
        <TerminalPane key={tab.id} tab={tab} shown={props.visible && tab.id === activeId} />
      ))}
    </section>
  );
}

const statusText = (tab: SessionTab): string => {
  const who = `${tab.title}`;
  switch (tab.status) {
    case 'starting':
      return `Connecting to ${tab.request.instanceName} as ${tab.request.linuxUser}…`;
    case 'connected':
      return `Connected: ${who}`;
    case 'disconnected':
      return `Connection lost${tab.reason ? `: ${tab.reason}` : ''}`;
    case 'reconnecting':
      return 'Reconnecting…';
    case 'closed':
      return `Closed${tab.reason ? `: ${tab.reason}` : ''}`;
  }
};

function TerminalPane({ tab, shown }: { tab: SessionTab; shown: boolean }) {
  const { viewFor, reconnect, details, close } = useSessionInternals();
  const host = useRef<HTMLDivElement>(null);
  const [search, setSearch] = useState('');
  const view = viewFor(tab.id);
  const detail = details.get(tab.id);

  useLayoutEffect(() => {
    if (host.current) view?.mount(host.current);
  }, [view]);
  useEffect(() => {
    if (!shown) return;
    view?.scheduleFit();
    view?.focus();
  }, [shown, view]);

  const { request } = tab;
  return (
    <div
      id={`panel-${tab.id}`}
      role="tabpanel"
      className="terminal-pane"
      aria-label={tab.title}
      data-testid="terminal-pane"
      data-session-id={tab.sessionId}
      style={shown ? undefined : { display: 'none' }}
    >
      <div className="terminal-header" data-testid="session-header">
        <dl className="terminal-facts">
          <div>
            <dt>Account</dt>
            <dd title={request.accountId}>
              {request.accountName} ({request.accountId})
            </dd>
          </div>
          <div>
            <dt>Permission set</dt>
            <dd>{request.permissionSet}</dd>
          </div>
          <div>
            <dt>Region</dt>
            <dd>{request.region}</dd>
          </div>
          <div>
            <dt>Instance</dt>
            <dd className="mono">
              {request.instanceName} · {request.instanceId}
            </dd>
          </div>
          <div>
            <dt>Linux user</dt>
            <dd data-testid="session-linux-user">{tab.title.split('@')[0]}</dd>
          </div>
        </dl>
        <div className="terminal-search">
          <Input
            type="search"
            ariaLabel="Search the terminal"
            placeholder="Search"
            value={search}
            onChange={({ detail }) => setSearch(detail.value)}
            onKeyDown={({ detail }) => {
              if (detail.key === 'Enter' && search)
                if (detail.shiftKey) view?.findPrevious(search);
                else view?.findNext(search);
            }}
          />
        </div>
        <Button ariaLabel={`Close ${tab.title}`} onClick={() => close(tab.id)}>
          Close
        </Button>
      </div>
      <div className="terminal-host" ref={host} data-testid="terminal" />
      <div className="terminal-status" role="status" data-testid="session-status" data-status={tab.status}>
        <span>{statusText(tab)}</span>
        {detail?.backend && (
          <span className="muted">
            {detail.backend === 'plugin' ? 'session-manager-plugin' : 'built-in client'}
            {detail.sessionId ? ` · ${detail.sessionId}` : ''}
          </span>
        )}
        {tab.status === 'closed' && (
          <Button variant="inline-link" onClick={() => reconnect(tab.id)}>
            Reconnect
          </Button>
        )}
      </div>
    </div>
  );
}
