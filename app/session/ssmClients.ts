/**
 * Direct mode's SSM clients, one per region and permission set, kept while
 * that permission set's credentials stay the same: each connect, resume and
 * terminate then reuses the client's open keep-alive connection instead of
 * making a client (and a TCP + TLS handshake) per call. New credentials (the
 * portal refreshed them) get a new client; the old one is closed a little
 * later, so a call still in flight on it can finish.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { RoleCredentials } from '../portal/types';

/** How long a replaced client stays open for calls already in flight on it. */
export const REPLACED_CLIENT_GRACE_MS = 60_000;

export type SsmClientFactory = (
  region: string,
  credentials: RoleCredentials,
) => Pick<SSMClient, 'send' | 'destroy'>;

export class SsmClients {
  private readonly clients = new Map<
    string,
    { accessKeyId: string; client: Pick<SSMClient, 'send' | 'destroy'> }
  >();

  constructor(
    private readonly create: SsmClientFactory,
    private readonly graceMs = REPLACED_CLIENT_GRACE_MS,
  ) {}

  /** The client for this permission set in `region`, signing with `credentials`. */
  get(
    region: string,
    target: { accountId: string; permissionSet: string },
    credentials: RoleCredentials,
  ): Pick<SSMClient, 'send' | 'destroy'> {
    const key = `${region}/${target.accountId}/${target.permissionSet}`;
    const held = this.clients.get(key);
    if (held?.accessKeyId === credentials.accessKeyId) return held.client;
    if (held) this.retire(held.client);
    const client = this.create(region, credentials);
    this.clients.set(key, { accessKeyId: credentials.accessKeyId, client });
    return client;
  }

  /** Closes every client (sign-out, quit): none keeps an identity's credentials after it. */
  clear(): void {
    for (const { client } of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private retire(client: Pick<SSMClient, 'destroy'>): void {
    setTimeout(() => client.destroy(), this.graceMs).unref?.();
  }
}
