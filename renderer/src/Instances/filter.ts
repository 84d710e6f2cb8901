/**
 * The instance table's property filter: Cloudscape's query (tokens joined by
 * and/or) plus the text being typed, matched against a per-row index built once
 * when rows arrive, so a keystroke over 20,000 rows is one pass of `includes`.
 */
import type { PropertyFilterProps } from '@cloudscape-design/components/property-filter';
import { statusLabel, type InstanceRow } from './model';

export const filterProperties = [
  { key: 'name', label: 'Name' },
  { key: 'instanceId', label: 'Instance ID' },
  { key: 'tag', label: 'Tag value' },
  { key: 'account', label: 'Account' },
  { key: 'region', label: 'Region' },
  { key: 'platform', label: 'Platform' },
  { key: 'status', label: 'Status' },
  { key: 'linuxUser', label: 'Linux user' },
  { key: 'permissionSet', label: 'Permission set' },
] as const;
export type FilterKey = (typeof filterProperties)[number]['key'];

export interface IndexedInstance {
  row: InstanceRow;
  /** Lower-cased values per property (several for tags, users and permission sets). */
  values: Record<FilterKey, string[]>;
  /** Every value joined: what free text searches. */
  text: string;
}

export function valuesOf(row: InstanceRow): Record<FilterKey, string[]> {
  return {
    name: [row.name],
    instanceId: [row.instanceId],
    tag: Object.values(row.tags),
    account: [row.accountName, row.accountId],
    region: [row.region],
    platform: [row.platform],
    status: [statusLabel[row.pingStatus] ?? row.pingStatus],
    linuxUser: row.access.map((a) => a.linuxUser ?? 'unknown'),
    permissionSet: row.access.map((a) => a.permissionSet),
  };
}

export function indexInstance(row: InstanceRow): IndexedInstance {
  const original = valuesOf(row);
  const values = {} as Record<FilterKey, string[]>;
  for (const { key } of filterProperties) values[key] = original[key].map((v) => v.toLowerCase());
  return { row, values, text: Object.values(values).flat().join('\n') };
}

function matchToken(item: IndexedInstance, token: PropertyFilterProps.Token): boolean {
  const wanted = String(token.value ?? '').toLowerCase();
  const values = token.propertyKey ? (item.values[token.propertyKey as FilterKey] ?? []) : [item.text];
  switch (token.operator) {
    case '=':
      return values.some((v) => v === wanted);
    case '!=':
      return !values.some((v) => v === wanted);
    case '!:':
      return !values.some((v) => v.includes(wanted));
    case ':':
    default:
      return values.some((v) => v.includes(wanted));
  }
}

/** Every whitespace-separated word of free text must appear somewhere in the row. */
function matchText(item: IndexedInstance, words: readonly string[]): boolean {
  for (const word of words) if (!item.text.includes(word)) return false;
  return true;
}

export const emptyQuery: PropertyFilterProps.Query = { tokens: [], operation: 'and' };

/** The indexed rows matching the query and the text being typed, in input order. */
export function filterIndexed(
  items: readonly IndexedInstance[],
  query: PropertyFilterProps.Query,
  typing = '',
): readonly IndexedInstance[] {
  const tokens = query.tokens;
  const words = typing.toLowerCase().split(/\s+/).filter(Boolean);
  if (tokens.length === 0 && words.length === 0) return items;
  const and = query.operation !== 'or';
  const out: IndexedInstance[] = [];
  for (const item of items) {
    if (tokens.length > 0) {
      const ok = and ? tokens.every((t) => matchToken(item, t)) : tokens.some((t) => matchToken(item, t));
      if (!ok) continue;
    }
    if (words.length > 0 && !matchText(item, words)) continue;
    out.push(item);
  }
  // Every row still matches (a keystroke often narrows nothing): the same array, so whatever was derived
  // from it (sorting, the page of rows, the table) is reused as it is instead of being built again.
  return out.length === items.length ? items : out;
}

/** The rows matching the query and the text being typed, in input order. */
export function filterInstances(
  items: readonly IndexedInstance[],
  query: PropertyFilterProps.Query,
  typing = '',
): InstanceRow[] {
  return filterIndexed(items, query, typing).map((i) => i.row);
}

/**
 * `filterIndexed` that remembers its last answer: when the same rows and query are searched again with
 * text that extends the previous text (the next keystroke), every word of the old text is a substring of
 * a word of the new one, so the new matches are a subset of the old and only those are scanned again.
 */
export function narrowingFilter() {
  let last: {
    items: readonly IndexedInstance[];
    query: PropertyFilterProps.Query;
    typing: string;
    result: readonly IndexedInstance[];
  } | null = null;
  return (items: readonly IndexedInstance[], query: PropertyFilterProps.Query, typing: string) => {
    const text = typing.toLowerCase();
    const from =
      last && last.items === items && last.query === query && text.startsWith(last.typing)
        ? last.result
        : items;
    const result = filterIndexed(from, from === items ? query : emptyQuery, text);
    last = { items, query, typing: text, result };
    return result;
  };
}

/** Value suggestions for the filter's dropdown (distinct, capped per property so 20,000 rows stay cheap). */
export function filterOptions(
  rows: Iterable<InstanceRow>,
  perProperty = 200,
): PropertyFilterProps.FilteringOption[] {
  const seen = new Map<FilterKey, Set<string>>();
  for (const { key } of filterProperties) seen.set(key, new Set());
  for (const row of rows) {
    const values = valuesOf(row);
    for (const { key } of filterProperties) {
      if (key === 'instanceId' || key === 'name') continue;
      const set = seen.get(key)!;
      if (set.size >= perProperty) continue;
      for (const v of values[key]) if (set.size < perProperty) set.add(v);
    }
  }
  const options: PropertyFilterProps.FilteringOption[] = [];
  for (const [propertyKey, set] of seen) for (const value of set) options.push({ propertyKey, value });
  return options;
}
