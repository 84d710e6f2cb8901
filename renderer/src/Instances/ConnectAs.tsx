/**
 * The row's Connect-as split button: the main action connects with the default
 * mapping (most recently used, else the first), the menu lists every
 * permission set that reaches the instance with its Linux user.
 *
 * Each row first shows a stand-in: the same elements, classes and accessible
 * names as Cloudscape's split button (taken from Cloudscape's own markup, see
 * splitButtonLook), but none of its hooks, so a page of rows mounts in a
 * fraction of the time. The real ButtonDropdown replaces it, in place, as soon
 * as the pointer enters it or it gets focus (Tab), so the menu, its keyboard
 * behaviour and the disabled-reason tooltip are Cloudscape's own. A click that
 * reaches the stand-in itself (no hover or focus first, as a screen reader's
 * activation) does what the real control would: connect, or open the menu.
 */
import { memo, useId, useLayoutEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import ButtonDropdown, { type ButtonDropdownProps } from '@cloudscape-design/components/button-dropdown';
import { defaultAccess, notConnectableReason, userLabel, type Access, type InstanceRow } from './model';
import type { SavedTarget } from '../../../app/api/calls/browse';
import { splitButtonLook } from './splitButtonLook';

interface ConnectAsProps {
  row: InstanceRow;
  recents: readonly SavedTarget[];
  onConnect: (row: InstanceRow, access: Access) => void;
}

/** What the user did to the stand-in: the real control, once mounted, carries it on. */
type Intent = 'hover' | 'focus-main' | 'focus-trigger' | 'open';

export const moreWaysLabel = (row: InstanceRow) => `More ways to connect to ${row.name}`;

/**
 * Memoised: a keystroke in the filter re-renders the table, but a row that stays on the page keeps its
 * control. The real control belongs to the instance it was woken for: when its row position shows another
 * instance, the stand-in comes back (updated in place), so an open menu never outlives its instance.
 */
export const ConnectAs = memo(function ConnectAs(props: ConnectAsProps) {
  const [woken, setWoken] = useState<{ key: string; intent: Intent } | null>(null);
  const key = props.row.key;
  // Another instance at this position: forget the intent (set during render, so no frame shows it stale).
  if (woken && woken.key !== key) setWoken(null);
  // flushSync: the real control must be in place before the next input event (the mousedown after the
  // hover, the key after the focus) is dispatched, or that event would land on a removed element.
  const wake = (intent: Intent) => flushSync(() => setWoken((current) => current ?? { key, intent }));
  return woken && woken.key === key ? (
    <RealConnectAs {...props} intent={woken.intent} />
  ) : (
    <ConnectAsStandIn {...props} onIntent={wake} />
  );
});

function RealConnectAs({ row, recents, onConnect, intent }: ConnectAsProps & { intent: Intent }) {
  const main = defaultAccess(row, recents);
  const unavailable = notConnectableReason(row);
  const ref = useRef<ButtonDropdownProps.Ref>(null);
  const rootRef = useRef<HTMLSpanElement>(null);
  // Once, on mount: focus goes where it was on the stand-in, and a click on its trigger opens the menu.
  useLayoutEffect(() => {
    const trigger = rootRef.current?.querySelector<HTMLButtonElement>('button[aria-haspopup]');
    if (intent === 'focus-main') ref.current?.focus();
    else if (intent === 'focus-trigger') trigger?.focus();
    else if (intent === 'open') {
      trigger?.focus();
      trigger?.click();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <span ref={rootRef} className="connect-as-control" data-connect-as="live">
      <ButtonDropdown
        ref={ref}
        variant="normal"
        expandToViewport
        ariaLabel={moreWaysLabel(row)}
        mainAction={{
          text: `Connect as ${userLabel(main)}`,
          onClick: () => onConnect(row, main),
          disabled: unavailable !== null,
          disabledReason: unavailable ?? undefined,
        }}
        items={row.access.map((a) => ({
          id: a.permissionSet,
          text: `${userLabel(a)} — ${a.permissionSet}`,
          disabled: unavailable !== null,
          disabledReason: unavailable ?? undefined,
        }))}
        onItemClick={({ detail }) => {
          const access = row.access.find((a) => a.permissionSet === detail.id);
          if (access) onConnect(row, access);
        }}
      />
    </span>
  );
}

/** Cloudscape's split button as markup only: the same elements, classes, roles and names. */
function ConnectAsStandIn({
  row,
  recents,
  onConnect,
  onIntent,
}: ConnectAsProps & { onIntent: (intent: Intent) => void }) {
  const look = splitButtonLook();
  const main = defaultAccess(row, recents);
  const unavailable = notConnectableReason(row);
  const reasonId = useId();
  const label = moreWaysLabel(row);
  const onTrigger = (event: React.SyntheticEvent) =>
    !!(event.target as HTMLElement).closest('[aria-haspopup]');
  return (
    <span className="connect-as-control" data-connect-as="stand-in">
      <div
        className={look.root}
        onPointerEnter={() => onIntent('hover')}
        onFocus={(event) => onIntent(onTrigger(event) ? 'focus-trigger' : 'focus-main')}
        // Reached only without a hover or focus first (touch, a screen reader's activation).
        onClick={(event) => {
          if (onTrigger(event)) onIntent('open');
          else if (!unavailable) onConnect(row, main);
        }}
      >
        <div className={look.dropdownRoot}>
          <div className={look.dropdownTrigger}>
            <div role="group" aria-label={label} className={look.group}>
              <div className={look.mainItem}>
                <button
                  type="button"
                  className={unavailable ? look.mainButtonDisabled : look.mainButton}
                  aria-disabled={unavailable ? 'true' : undefined}
                  aria-describedby={unavailable ? reasonId : undefined}
                  {...look.motion}
                >
                  <span className={look.mainText}>Connect as {userLabel(main)}</span>
                  {unavailable && (
                    <span id={reasonId} hidden>
                      {unavailable}
                    </span>
                  )}
                </button>
              </div>
              <div className={look.triggerItem}>
                <button
                  type="button"
                  className={look.triggerButton}
                  aria-label={label}
                  aria-expanded="false"
                  aria-haspopup="true"
                  title={label}
                  {...look.motion}
                >
                  <span className={look.triggerIcon}>
                    <svg
                      viewBox={look.svg.viewBox}
                      xmlns="http://www.w3.org/2000/svg"
                      focusable="false"
                      aria-hidden="true"
                      data-awsui-icon-animated="true"
                    >
                      <path d={look.svg.path} className={look.svg.pathClass} />
                    </svg>
                  </span>
                </button>
              </div>
            </div>
          </div>
          <div className={look.content} tabIndex={-1} />
        </div>
      </div>
    </span>
  );
}
