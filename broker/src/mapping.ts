/**
 * Permission set -> session document -> Linux user. The Linux user is read
 * from the document's runAsDefaultUser (one source of truth) and cached.
 * A permission set without a usable document is unmapped: AccessDenied, never
 * a fallback user.
 */
import { documentNameFor, type BrokerConfig } from './config';
import { BrokerError } from './errors';
import type { MemberAccount, SessionDocument } from './memberAccount';
import { TtlCache } from './ttlCache';

export interface Mapping {
  permissionSet: string;
  documentName: string;
  linuxUser: string;
}

/** Linux user names as useradd accepts them (and SSM's run-as accepts); root is never allowed. */
const LINUX_USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** The run-as user a Session document names, or why it names none. */
export function linuxUserFromDocument(
  document: SessionDocument,
): { linuxUser: string } | { problem: string } {
  if (document.documentType !== 'Session')
    return { problem: `document ${document.name} is a ${document.documentType} document` };
  let content: unknown;
  try {
    content = JSON.parse(document.content);
  } catch {
    return { problem: `document ${document.name} content is not JSON` };
  }
  const inputs = (content as { inputs?: Record<string, unknown> } | null)?.inputs;
  if (!inputs || typeof inputs !== 'object') return { problem: `document ${document.name} has no inputs` };
  if (inputs.runAsEnabled !== true && inputs.runAsEnabled !== 'true')
    return { problem: `document ${document.name} has runAsEnabled off` };
  const user = inputs.runAsDefaultUser;
  if (typeof user !== 'string' || user === '')
    return { problem: `document ${document.name} has no runAsDefaultUser` };
  if (!LINUX_USER.test(user) || user === 'root')
    return { problem: `document ${document.name} runAsDefaultUser ${user} is not allowed` };
  return { linuxUser: user };
}

export class PermissionSetMapping {
  private readonly cache: TtlCache<string>;

  constructor(
    private readonly config: BrokerConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TtlCache<string>(1000, now);
  }

  /** Resolves the mapping in the member account's region; throws AccessDenied when unmapped. */
  async resolve(member: MemberAccount, region: string, permissionSet: string): Promise<Mapping> {
    const documentName = documentNameFor(this.config, permissionSet);
    const key = `${member.accountId}|${region}|${documentName}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return { permissionSet, documentName, linuxUser: cached };

    const document = await member.getSessionDocument(region, documentName);
    const found = document
      ? linuxUserFromDocument(document)
      : { problem: `document ${documentName} not found in ${member.accountId}/${region}` };
    if ('problem' in found) {
      throw new BrokerError(
        'AccessDenied',
        `Permission set ${permissionSet} has no Linux user mapped in this account and region; ask your administrator to deploy its session document.`,
        found.problem,
      );
    }
    this.cache.set(key, found.linuxUser, this.now() + this.config.mappingCacheSeconds * 1000);
    return { permissionSet, documentName, linuxUser: found.linuxUser };
  }
}
