/** Browse calls: accounts → permission sets → instances with the mapped Linux user. No credentials cross here. */
import * as z from 'zod';
import { defineCall, defineEvent } from '../define';
import type { Account } from '../../portal/types';
import type { TargetList } from '../../targets/types';

export type { Account } from '../../portal/types';
export type { TargetList, TargetRow } from '../../targets/types';

const accountId = z.string().regex(/^\d{12}$/, { message: 'An AWS account ID has 12 digits' });
const permissionSet = z
  .string()
  .regex(/^[\w+=,.@-]{1,32}$/, { message: 'A permission set name has 1-32 letters, digits or +=,.@-_' });

/** A saved instance: enough to show it (and connect) before anything is loaded. */
export interface SavedTarget {
  key: string;
  accountId: string;
  accountName: string;
  permissionSet: string;
  region: string;
  instanceId: string;
  name: string;
  linuxUser: string | null;
  /** Epoch ms: when it was starred, or last connected to. */
  at: number;
}

export interface BrowsePreferences {
  favourites: SavedTarget[];
  /** Most recent first, at most 20. */
  recents: SavedTarget[];
}

export interface AllTargets {
  /** One list per (account, permission set) that could be listed, each with its Linux user and mode. */
  lists: TargetList[];
  /** Permission sets whose instances could not be listed, with why. */
  failures: { accountId: string; permissionSet: string; message: string }[];
}

const savedTarget = z.object({
  key: z.string().max(200),
  accountId,
  accountName: z.string().max(100),
  permissionSet,
  region: z.string().max(32),
  instanceId: z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/, { message: 'Not an instance ID' }),
  name: z.string().max(256),
  linuxUser: z.string().max(64).nullable(),
});

export const browseCalls = {
  'browse.listAccounts': defineCall<Account[]>()(z.object({ refresh: z.boolean().optional() }).strict()),
  'browse.listPermissionSets': defineCall<string[]>()(
    z.object({ accountId, refresh: z.boolean().optional() }).strict(),
  ),
  'browse.listTargets': defineCall<TargetList>()(
    z.object({ accountId, permissionSet, refresh: z.boolean().optional() }).strict(),
  ),
  /** Every instance of every permission set in every account (progress arrives as `browse.progress`). */
  'browse.loadAllTargets': defineCall<AllTargets>()(z.object({ refresh: z.boolean().optional() }).strict()),
  'browse.getPreferences': defineCall<BrowsePreferences>()(z.undefined()),
  'browse.setFavourite': defineCall<BrowsePreferences>()(
    z.object({ target: savedTarget, favourite: z.boolean() }).strict(),
  ),
  'browse.recordRecent': defineCall<BrowsePreferences>()(z.object({ target: savedTarget }).strict()),
};

export interface BrowseProgress {
  phase: 'accounts' | 'permissionSets' | 'targets';
  loaded: number;
  total: number;
}

export const browseEvents = {
  'browse.progress': defineEvent<BrowseProgress>(),
  /** During `browse.loadAllTargets`: one (account, permission set) listed, so its rows can appear at once. */
  'browse.targets': defineEvent<TargetList>(),
};
