/** The split panel: everything known about one instance, and how it can be reached. */
import Box from '@cloudscape-design/components/box';
import ColumnLayout from '@cloudscape-design/components/column-layout';
import KeyValuePairs from '@cloudscape-design/components/key-value-pairs';
import SpaceBetween from '@cloudscape-design/components/space-between';
import Table from '@cloudscape-design/components/table';
import Button from '@cloudscape-design/components/button';
import type { SavedTarget } from '../../../app/api/calls/browse';
import { pingIndicator } from './columns';
import { instanceKey, userLabel, type Access, type InstanceRow } from './model';

export function InstanceDetails({
  row,
  recents,
  onConnect,
}: {
  row: InstanceRow;
  recents: readonly SavedTarget[];
  onConnect: (row: InstanceRow, access: Access) => void;
}) {
  const tags = Object.entries(row.tags).sort(([a], [b]) => a.localeCompare(b));
  const sessions = recents.filter((r) => instanceKey(r) === row.key);
  return (
    <SpaceBetween size="l">
      <KeyValuePairs
        columns={4}
        items={[
          { label: 'Instance ID', value: row.instanceId },
          { label: 'Account', value: `${row.accountName} (${row.accountId})` },
          { label: 'Region', value: row.region },
          { label: 'Platform', value: row.platform },
          { label: 'Agent ping status', value: pingIndicator(row.pingStatus) },
        ]}
      />
      <ColumnLayout columns={2}>
        <Table
          variant="embedded"
          header={<Box variant="h3">Who can connect</Box>}
          items={row.access}
          trackBy="permissionSet"
          columnDefinitions={[
            { id: 'ps', header: 'Permission set', cell: (a) => a.permissionSet, isRowHeader: true },
            { id: 'user', header: 'Linux user', cell: (a) => userLabel(a) },
            {
              id: 'go',
              header: 'Connect',
              cell: (a) => (
                <Button
                  variant="inline-link"
                  onClick={() => onConnect(row, a)}
                  ariaLabel={`Connect as ${userLabel(a)} with ${a.permissionSet}`}
                >
                  Connect
                </Button>
              ),
            },
          ]}
        />
        <Table
          variant="embedded"
          header={<Box variant="h3">Tags</Box>}
          items={tags}
          trackBy={(t) => t[0]}
          empty="No tags"
          columnDefinitions={[
            { id: 'key', header: 'Key', cell: (t) => t[0], isRowHeader: true },
            { id: 'value', header: 'Value', cell: (t) => t[1] },
          ]}
        />
      </ColumnLayout>
      <div>
        <Box variant="h3">Recent sessions from this app</Box>
        {sessions.length === 0 ? (
          <Box color="text-body-secondary">None yet.</Box>
        ) : (
          <ul className="plain-list">
            {sessions.map((s) => (
              <li key={s.key}>
                {s.linuxUser ?? 'unknown user'} with {s.permissionSet}, {new Date(s.at).toLocaleString()}
              </li>
            ))}
          </ul>
        )}
      </div>
    </SpaceBetween>
  );
}
