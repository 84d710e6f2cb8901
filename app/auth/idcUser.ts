/**
 * Which IdC user is signed in. IdC's access tokens are opaque and the portal
 * API has no "who am I", but every permission-set session IdC creates is named
 * after the user (`assumed-role/AWSReservedSSO_<set>_<id>/<user name>`), so
 * STS GetCallerIdentity on one permission set's credentials tells.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Portal } from '../portal/portal';

/** Accounts tried, in order, for one with a permission set (most users' first account has one). */
const MAX_ACCOUNTS_TRIED = 10;

export async function resolveIdcUser(
  portal: Pick<Portal, 'listAccounts' | 'listPermissionSets' | 'roleCredentials'>,
  config: { region: string; endpoint: string | undefined },
): Promise<string | undefined> {
  const accounts = await portal.listAccounts();
  for (const account of accounts.slice(0, MAX_ACCOUNTS_TRIED)) {
    const [first] = await portal.listPermissionSets(account.accountId);
    if (!first) continue;
    const credentials = await portal.roleCredentials(first.accountId, first.permissionSet);
    const sts = new STSClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
      maxAttempts: 2,
    });
    try {
      const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
      return sessionNameOf(Arn);
    } finally {
      sts.destroy();
    }
  }
  return undefined;
}

/** `arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123/alice@example.com` → the user. */
export function sessionNameOf(arn: string | undefined): string | undefined {
  const match = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(arn ?? '');
  return match?.[1];
}
