/**
 * Ctrl/Cmd+K: find an instance by any of the filter's fields and connect as
 * the chosen user, without the mouse. One option per (instance, permission set).
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import Autosuggest, { type AutosuggestProps } from '@cloudscape-design/components/autosuggest';
import Box from '@cloudscape-design/components/box';
import Modal from '@cloudscape-design/components/modal';
import { emptyQuery, filterInstances } from './filter';
import { useInventory } from './inventory';
import { defaultAccess, notConnectableReason, userLabel, type Access, type InstanceRow } from './model';

const LIMIT = 50;

export function QuickConnect({
  visible,
  onClose,
  onConnect,
}: {
  visible: boolean;
  onClose: () => void;
  onConnect: (row: InstanceRow, access: Access) => void;
}) {
  const { indexed, prefs } = useInventory();
  const [text, setText] = useState('');
  const input = useRef<AutosuggestProps.Ref>(null);
  // The modal focuses itself when it opens; the search field is where the keyboard should be.
  useEffect(() => {
    if (!visible) return;
    const frame = requestAnimationFrame(() => input.current?.focus());
    return () => cancelAnimationFrame(frame);
  }, [visible]);
  const { options, targets } = useMemo(() => {
    const matches = text.trim() ? filterInstances(indexed, emptyQuery, text).slice(0, LIMIT) : [];
    // Instances that can be connected come first; the others stay findable, disabled with the reason.
    const found = [
      ...matches.filter((row) => notConnectableReason(row) === null),
      ...matches.filter((row) => notConnectableReason(row) !== null),
    ];
    const targets = new Map<string, { row: InstanceRow; access: Access }>();
    const options = found.flatMap((row) => {
      const first = defaultAccess(row, prefs.recents);
      const ordered = [first, ...row.access.filter((a) => a !== first)];
      return ordered.map((access) => {
        const value = `${userLabel(access)}@${row.name} (${access.permissionSet}, ${row.accountName})`;
        targets.set(value, { row, access });
        const unavailable = notConnectableReason(row);
        return {
          value,
          ...(unavailable ? { disabled: true, disabledReason: unavailable } : {}),
          label: `${userLabel(access)}@${row.name}`,
          description: `${access.permissionSet} · ${row.accountName} (${row.accountId}) · ${row.region} · ${row.instanceId}`,
          tags: Object.entries(row.tags)
            .filter(([k]) => !k.startsWith('roleshell:') && k !== 'Name')
            .map(([k, v]) => `${k}=${v}`)
            .slice(0, 4),
        };
      });
    });
    return { options, targets };
  }, [text, indexed, prefs.recents]);

  const close = () => {
    setText('');
    onClose();
  };
  return (
    <Modal
      visible={visible}
      onDismiss={close}
      header="Quick connect"
      size="large"
      position="top"
      closeAriaLabel="Close quick connect"
    >
      {visible && (
        <Autosuggest
          ref={input}
          value={text}
          onChange={({ detail }) => setText(detail.value)}
          onSelect={({ detail }) => {
            const target = targets.get(detail.value);
            if (!target) return;
            close();
            onConnect(target.row, target.access);
          }}
          options={options}
          filteringType="manual"
          clearAriaLabel="Clear search"
          enteredTextLabel={(value) => `Search for "${value}"`}
          hideEnteredTextOption
          placeholder="Instance name, ID, tag value, account, region, Linux user, permission set"
          ariaLabel="Find an instance to connect to"
          empty={text.trim() ? `No instance matches '${text.trim()}'` : 'Type to search'}
          virtualScroll
          expandToViewport
        />
      )}
      <Box variant="small" color="text-body-secondary" margin={{ top: 's' }}>
        ↑ ↓ to choose, Enter to connect, Esc to close.
      </Box>
    </Modal>
  );
}
