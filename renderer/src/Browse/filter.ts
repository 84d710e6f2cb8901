/**
 * Type-to-filter over every loaded instance row. Each row's searchable text is
 * built once; a keystroke is then one `includes` per row per word, which keeps
 * 20,000 rows well inside a frame.
 */
import type { TargetRow } from '../../../app/api/calls/browse';

export interface IndexedRow {
  row: TargetRow;
  text: string;
}

export function indexRows(rows: readonly TargetRow[]): IndexedRow[] {
  return rows.map((row) => ({
    row,
    text: [
      row.name,
      row.instanceId,
      row.region,
      row.platform,
      row.pingStatus,
      row.linuxUser ?? '',
      row.accountName,
      row.accountId,
      row.permissionSet,
    ]
      .join(' ')
      .toLowerCase(),
  }));
}

/** Rows matching every whitespace-separated word of `query` (case-insensitive), in input order. */
export function filterRows(indexed: readonly IndexedRow[], query: string): TargetRow[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return indexed.map((i) => i.row);
  const out: TargetRow[] = [];
  for (const { row, text } of indexed) if (words.every((w) => text.includes(w))) out.push(row);
  return out;
}
