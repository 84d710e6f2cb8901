/**
 * The row's Connect-as split button: the main action connects with the default
 * mapping (most recently used, else the first), the menu lists every
 * permission set that reaches the instance with its Linux user.
 */
import { memo } from 'react';
import ButtonDropdown from '@cloudscape-design/components/button-dropdown';
import { defaultAccess, notConnectableReason, userLabel, type Access, type InstanceRow } from './model';
import type { SavedTarget } from '../../../app/api/calls/browse';

/** Memoised: a keystroke in the filter re-renders the table, but a row that stays on the page keeps its button. */
export const ConnectAs = memo(function ConnectAs({
  row,
  recents,
  onConnect,
}: {
  row: InstanceRow;
  recents: readonly SavedTarget[];
  onConnect: (row: InstanceRow, access: Access) => void;
}) {
  const main = defaultAccess(row, recents);
  const unavailable = notConnectableReason(row);
  return (
    <ButtonDropdown
      variant="normal"
      expandToViewport
      ariaLabel={`More ways to connect to ${row.name}`}
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
  );
});
