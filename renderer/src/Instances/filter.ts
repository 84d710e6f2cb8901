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

/**
 * Every row's text, in the rows' order, as slices of one string: a scan then reads memory in order. The rows'
 * own texts are made as lists arrive (account by account) and the rows are then sorted by name, so scanning
 * them jumps all over the heap; measured over 20,000 rows, that took 2–5× as long. Laid out once per rows
 * array, on its first search.
 */
const laidOut = new WeakMap<readonly IndexedInstance[], readonly string[]>();
export function textsOf(items: readonly IndexedInstance[]): readonly string[] {
  let texts = laidOut.get(items);
  if (!texts) {
    // Each row's slice ends where its text does, so no word can match across two rows.
    const all = items.map((i) => i.text).join('');
    const out = new Array<string>(items.length);
    let at = 0;
    for (let i = 0; i < items.length; i++) {
      const end = at + items[i]!.text.length;
      out[i] = all.slice(at, end);
      at = end;
    }
    laidOut.set(items, (texts = out));
  }
  return texts;
}

/** Every word appears somewhere in the text. */
function containsEvery(text: string, words: readonly string[]): boolean {
  for (const word of words) if (!text.includes(word)) return false;
  return true;
}

/**
 * Positions in `items` of the rows matching the query and every whitespace-separated word of `typing`
 * (somewhere in the row), looking only at `within` (ascending positions) when given.
 */
function matchPositions(
  items: readonly IndexedInstance[],
  query: PropertyFilterProps.Query,
  typing: string,
  within: readonly number[] | null,
): readonly number[] | null {
  const tokens = query.tokens;
  const words = typing.toLowerCase().split(/\s+/).filter(Boolean);
  if (tokens.length === 0 && words.length === 0) return within;
  const and = query.operation !== 'or';
  const texts = words.length > 0 ? textsOf(items) : [];
  const out: number[] = [];
  const count = within ? within.length : items.length;
  for (let k = 0; k < count; k++) {
    const i = within ? within[k]! : k;
    if (words.length > 0 && !containsEvery(texts[i]!, words)) continue;
    if (tokens.length > 0) {
      const item = items[i]!;
      if (!(and ? tokens.every((t) => matchToken(item, t)) : tokens.some((t) => matchToken(item, t))))
        continue;
    }
    out.push(i);
  }
  return out;
}

/** The rows at `positions`; every row (a keystroke often narrows nothing) is the same array. */
function rowsAt(
  items: readonly IndexedInstance[],
  positions: readonly number[] | null,
): readonly IndexedInstance[] {
  // The same array, so whatever was derived from it (sorting, the page of rows, the table) is reused as it is.
  if (positions === null || positions.length === items.length) return items;
  return positions.map((i) => items[i]!);
}

export const emptyQuery: PropertyFilterProps.Query = { tokens: [], operation: 'and' };

/** The indexed rows matching the query and the text being typed, in input order. */
export function filterIndexed(
  items: readonly IndexedInstance[],
  query: PropertyFilterProps.Query,
  typing = '',
): readonly IndexedInstance[] {
  return rowsAt(items, matchPositions(items, query, typing, null));
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
    positions: readonly number[] | null;
    result: readonly IndexedInstance[];
  } | null = null;
  return (items: readonly IndexedInstance[], query: PropertyFilterProps.Query, typing: string) => {
    const text = typing.toLowerCase();
    const from =
      last && last.items === items && last.query === query && text.startsWith(last.typing) ? last : null;
    const positions = from
      ? matchPositions(items, emptyQuery, text, from.positions)
      : matchPositions(items, query, text, null);
    // Every row of the last answer still matches: that same array, as for every row of `items`.
    const result =
      from && (positions?.length ?? items.length) === from.result.length
        ? from.result
        : rowsAt(items, positions);
    last = { items, query, typing: text, positions, result };
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
