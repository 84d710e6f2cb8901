/**
 * The instance list: virtualized (only the visible rows exist in the DOM), so
 * 20,000 rows scroll and filter smoothly. Each row shows the Linux user the
 * session will run as, before anyone connects.
 */
import { useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { TargetRow } from '../../../app/api/calls/browse';

const ROW_HEIGHT = 34;

const statusLabel: Record<string, string> = {
  Online: 'Online',
  ConnectionLost: 'Offline',
  Inactive: 'Inactive',
  NotRegistered: 'Not in SSM',
};

export function TargetTable({
  rows,
  favourites,
  onToggleFavourite,
  onConnect,
  showContext,
}: {
  rows: TargetRow[];
  favourites: ReadonlySet<string>;
  onToggleFavourite: (row: TargetRow) => void;
  /** Starts a session on the row's instance as its permission set (online rows with a known Linux user). */
  onConnect: (row: TargetRow) => void;
  /** Show account and permission set columns (rows from more than one permission set). */
  showContext: boolean;
}) {
  const parent = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => rows[index]?.key ?? index,
  });

  return (
    <div
      className={`targets ${showContext ? 'with-context' : ''}`}
      role="table"
      aria-label="Instances"
      aria-rowcount={rows.length}
    >
      <div className="targets-row targets-head" role="row">
        <span role="columnheader" aria-label="Favourite" />
        <span role="columnheader">Name</span>
        <span role="columnheader">Instance</span>
        <span role="columnheader">Region</span>
        <span role="columnheader">Platform</span>
        <span role="columnheader">Status</span>
        <span role="columnheader">Linux user</span>
        {showContext && <span role="columnheader">Account</span>}
        {showContext && <span role="columnheader">Permission set</span>}
        <span role="columnheader" aria-label="Connect" />
      </div>
      <div className="targets-body" ref={parent} data-testid="target-rows">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index]!;
            const favourite = favourites.has(row.key);
            const online = row.pingStatus === 'Online';
            const cannotConnect = !online
              ? 'The instance is offline in Session Manager: its agent is not connected'
              : !row.linuxUser
                ? 'The Linux user for this permission set is unknown: the session document could not be read'
                : null;
            const connect = () => {
              if (!cannotConnect) onConnect(row);
            };
            return (
              <div
                key={item.key}
                className={`targets-row ${online ? '' : 'offline'}`}
                tabIndex={0}
                onDoubleClick={connect}
                onKeyDown={(event) => {
                  if (event.key === 'Enter' && event.target === event.currentTarget) connect();
                }}
                role="row"
                aria-rowindex={item.index + 1}
                data-testid="target-row"
                data-instance-id={row.instanceId}
                style={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  right: 0,
                  height: ROW_HEIGHT,
                  transform: `translateY(${item.start}px)`,
                }}
              >
                <span role="cell">
                  <button
                    type="button"
                    className="star"
                    aria-pressed={favourite}
                    aria-label={
                      favourite ? `Remove ${row.name} from favourites` : `Add ${row.name} to favourites`
                    }
                    onClick={() => onToggleFavourite(row)}
                  >
                    {favourite ? '★' : '☆'}
                  </button>
                </span>
                <span role="cell" className="target-name" title={row.name}>
                  {row.name}
                </span>
                <span role="cell" className="mono">
                  {row.instanceId}
                </span>
                <span role="cell">{row.region}</span>
                <span role="cell">{row.platform}</span>
                <span
                  role="cell"
                  className={online ? 'status-online' : 'status-offline'}
                  title={
                    online
                      ? 'The SSM agent is connected'
                      : 'The SSM agent is not connected: sessions will fail until the instance is back'
                  }
                >
                  {statusLabel[row.pingStatus] ?? row.pingStatus}
                </span>
                <span role="cell" className="linux-user" data-testid="row-linux-user">
                  {row.linuxUser ?? 'unknown'}
                </span>
                {showContext && (
                  <span role="cell" title={row.accountId}>
                    {row.accountName}
                  </span>
                )}
                {showContext && <span role="cell">{row.permissionSet}</span>}
                <span role="cell">
                  <button
                    type="button"
                    className="connect"
                    disabled={!!cannotConnect}
                    title={cannotConnect ?? `Open a shell on ${row.name} as ${row.linuxUser}`}
                    aria-label={`Connect as ${row.linuxUser ?? 'unknown user'}`}
                    onClick={connect}
                  >
                    Connect
                  </button>
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
