import {
  GetRoleCredentialsCommand,
  ListAccountRolesCommand,
  ListAccountsCommand,
  SSOClient,
  TooManyRequestsException,
  UnauthorizedException,
  paginateListAccounts,
} from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOrg } from '../org';
import { startSandbox, type Sandbox } from '../index';
import { clientConfig, signIn } from '../testing/sdk';

describe('sso portal', () => {
  let sandbox: Sandbox;
  let sso: SSOClient;
  let aliceToken: string;
  let bobToken: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ approve: 'alice' });
    sso = new SSOClient(clientConfig(sandbox));
    aliceToken = (await signIn(sandbox)).accessToken;
  });
  afterAll(async () => {
    sso.destroy();
    await sandbox.close();
  });

  it('lists the accounts a user is assigned, page by page with max_result honoured', async () => {
    const first = await sso.send(new ListAccountsCommand({ accessToken: aliceToken, maxResults: 3 }));
    expect(first.accountList).toHaveLength(3);
    expect(first.nextToken).toBeTruthy();
    const second = await sso.send(
      new ListAccountsCommand({ accessToken: aliceToken, maxResults: 3, nextToken: first.nextToken }),
    );
    expect(second.accountList).toHaveLength(1);
    expect(second.nextToken).toBeUndefined();
    expect([...first.accountList!, ...second.accountList!].map((a) => a.accountId)).toEqual([
      '111111111111',
      '222222222222',
      '333333333333',
      '444444444444',
    ]);
    expect(first.accountList![1]).toEqual({
      accountId: '222222222222',
      accountName: 'prod-workloads',
      emailAddress: 'aws-prod@example.com',
    });
  });

  it('lists permission sets per account, paginated', async () => {
    const page1 = await sso.send(
      new ListAccountRolesCommand({ accessToken: aliceToken, accountId: '222222222222', maxResults: 3 }),
    );
    const page2 = await sso.send(
      new ListAccountRolesCommand({
        accessToken: aliceToken,
        accountId: '222222222222',
        maxResults: 3,
        nextToken: page1.nextToken,
      }),
    );
    expect([...page1.roleList!, ...page2.roleList!].map((r) => r.roleName)).toEqual([
      'AdministratorAccess',
      'ReadOnly',
      'Developer',
      'Support_Tier1',
    ]);
    const none = await sso.send(
      new ListAccountRolesCommand({ accessToken: aliceToken, accountId: '999999999999' }),
    );
    expect(none.roleList).toEqual([]);
  });

  it('refuses a next token from another query', async () => {
    const page1 = await sso.send(new ListAccountsCommand({ accessToken: aliceToken, maxResults: 1 }));
    await expect(
      sso.send(
        new ListAccountRolesCommand({
          accessToken: aliceToken,
          accountId: '222222222222',
          nextToken: page1.nextToken,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });

  it('issues role credentials for AWSReservedSSO_<PermissionSet>_<suffix> with the user as session name', async () => {
    const { roleCredentials: c } = await sso.send(
      new GetRoleCredentialsCommand({
        accessToken: aliceToken,
        accountId: '222222222222',
        roleName: 'Support_Tier1',
      }),
    );
    expect(c!.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(c!.secretAccessKey).toHaveLength(40);
    expect(c!.sessionToken!.length).toBeGreaterThan(300);
    expect(c!.expiration! - Date.now()).toBeGreaterThan(3500_000);
    const sts = new STSClient(
      clientConfig(sandbox, 'eu-west-1', {
        accessKeyId: c!.accessKeyId!,
        secretAccessKey: c!.secretAccessKey!,
        sessionToken: c!.sessionToken!,
      }),
    );
    const id = await sts.send(new GetCallerIdentityCommand({}));
    const m =
      /^arn:aws:sts::222222222222:assumed-role\/AWSReservedSSO_Support_Tier1_([0-9a-f]{16})\/alice$/.exec(
        id.Arn!,
      );
    expect(m).not.toBeNull();
    expect(id.UserId).toMatch(/^AROA[A-Z2-7]{17}:alice$/);
    // The suffix is stable per account and permission set.
    const again = await sso.send(
      new GetRoleCredentialsCommand({
        accessToken: aliceToken,
        accountId: '222222222222',
        roleName: 'Support_Tier1',
      }),
    );
    const sts2 = new STSClient(
      clientConfig(sandbox, 'eu-west-1', {
        accessKeyId: again.roleCredentials!.accessKeyId!,
        secretAccessKey: again.roleCredentials!.secretAccessKey!,
        sessionToken: again.roleCredentials!.sessionToken!,
      }),
    );
    expect((await sts2.send(new GetCallerIdentityCommand({}))).Arn).toBe(id.Arn);
  });

  it('refuses permission sets the user is not assigned', async () => {
    await expect(
      sso.send(
        new GetRoleCredentialsCommand({
          accessToken: aliceToken,
          accountId: '333333333333',
          roleName: 'Support_Tier1',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ForbiddenException', $metadata: { httpStatusCode: 403 } });
  });

  it('answers UnauthorizedException (401) for unknown tokens', async () => {
    const err = await sso
      .send(new ListAccountsCommand({ accessToken: 'not-a-token' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedException);
    expect((err as UnauthorizedException).$metadata.httpStatusCode).toBe(401);
  });

  it('keeps users apart', async () => {
    const bobSandbox = await startSandbox({ approve: 'bob' });
    try {
      bobToken = (await signIn(bobSandbox)).accessToken;
      const bobSso = new SSOClient(clientConfig(bobSandbox));
      const accounts = await bobSso.send(new ListAccountsCommand({ accessToken: bobToken }));
      expect(accounts.accountList!.map((a) => a.accountId)).toEqual([
        '222222222222',
        '333333333333',
        '444444444444',
      ]);
      const roles = await bobSso.send(
        new ListAccountRolesCommand({ accessToken: bobToken, accountId: '222222222222' }),
      );
      expect(roles.roleList!.map((r) => r.roleName)).toEqual(['ReadOnly']);
      // A token from one sandbox means nothing to another.
      await expect(sso.send(new ListAccountsCommand({ accessToken: bobToken }))).rejects.toBeInstanceOf(
        UnauthorizedException,
      );
      bobSso.destroy();
    } finally {
      await bobSandbox.close();
    }
  });
});

describe('sso portal limits', () => {
  it('expires access tokens', async () => {
    const sandbox = await startSandbox({ approve: 'alice', accessTokenLifetimeSeconds: 2 });
    try {
      const { accessToken } = await signIn(sandbox);
      const sso = new SSOClient(clientConfig(sandbox));
      await sso.send(new ListAccountsCommand({ accessToken }));
      await new Promise((r) => setTimeout(r, 2100));
      await expect(sso.send(new ListAccountsCommand({ accessToken }))).rejects.toBeInstanceOf(
        UnauthorizedException,
      );
      sso.destroy();
    } finally {
      await sandbox.close();
    }
  });

  it('throttles a token over the configured rate (TooManyRequestsException, 429)', async () => {
    const sandbox = await startSandbox({
      approve: 'alice',
      portalRateLimit: { requests: 3, perSeconds: 60 },
    });
    try {
      const { accessToken } = await signIn(sandbox);
      const sso = new SSOClient(clientConfig(sandbox));
      for (let i = 0; i < 3; i++) await sso.send(new ListAccountsCommand({ accessToken }));
      const err = await sso.send(new ListAccountsCommand({ accessToken })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TooManyRequestsException);
      expect((err as TooManyRequestsException).$metadata.httpStatusCode).toBe(429);
      // Another user's token has its own budget.
      const other = await signIn(sandbox);
      await sso.send(new ListAccountsCommand({ accessToken: other.accessToken }));
      sso.destroy();
    } finally {
      await sandbox.close();
    }
  });

  it('pages through hundreds of accounts with the SDK paginator', async () => {
    const sandbox = await startSandbox({
      approve: 'alice',
      org: generateOrg({ accounts: 250, permissionSets: 2, instances: 10 }),
    });
    try {
      const { accessToken } = await signIn(sandbox);
      const sso = new SSOClient(clientConfig(sandbox));
      const ids: string[] = [];
      let pages = 0;
      for await (const page of paginateListAccounts({ client: sso, pageSize: 100 }, { accessToken })) {
        pages++;
        ids.push(...page.accountList!.map((a) => a.accountId!));
      }
      expect(pages).toBe(3);
      expect(new Set(ids).size).toBe(250);
      sso.destroy();
    } finally {
      await sandbox.close();
    }
  });
});
