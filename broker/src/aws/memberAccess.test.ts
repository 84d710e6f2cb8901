import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AssumeRoleCommand, type AssumeRoleCommandInput, type STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { CREDENTIAL_REFRESH_MARGIN_MS, createMemberAccess, tagsToRecord } from './memberAccess';

/** Stands in for STS only; the SSM/EC2 side is exercised through the sandbox. */
function fakeSts(lifetimeMs: number, now: () => number) {
  const calls: AssumeRoleCommandInput[] = [];
  const sts = {
    send: async (command: unknown) => {
      if (!(command instanceof AssumeRoleCommand)) throw new Error('unexpected command');
      calls.push(command.input);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const account = command.input.RoleArn!.split(':')[4];
      return {
        Credentials: {
          AccessKeyId: `ASIA${calls.length}`,
          SecretAccessKey: 's',
          SessionToken: 't',
          Expiration: new Date(now() + lifetimeMs),
        },
        AssumedRoleUser: {
          Arn: `arn:aws:sts::${account}:assumed-role/RoleShellTarget/${command.input.RoleSessionName}`,
          AssumedRoleId: 'x',
        },
      };
    },
  };
  return { sts: sts as unknown as STSClient, calls };
}

describe('createMemberAccess', () => {
  it('assumes the target role with the user as RoleSessionName and SourceIdentity', async () => {
    const clock = 0;
    const { sts, calls } = fakeSts(3600_000, () => clock);
    const access = createMemberAccess({ sts, targetRoleName: 'RoleShellTarget', now: () => clock });
    const member = await access('111122223333', 'aws', 'alice');
    expect(calls).toEqual([
      {
        RoleArn: 'arn:aws:iam::111122223333:role/RoleShellTarget',
        RoleSessionName: 'alice',
        SourceIdentity: 'alice',
        DurationSeconds: 3600,
      },
    ]);
    expect(member.accountId).toBe('111122223333');
    expect(member.sessionArn).toBe('arn:aws:sts::111122223333:assumed-role/RoleShellTarget/alice');
  });

  it('caches credentials per (account, user) until 5 minutes before expiry', async () => {
    let clock = 1_000_000;
    const { sts, calls } = fakeSts(3600_000, () => clock);
    const access = createMemberAccess({ sts, targetRoleName: 'RoleShellTarget', now: () => clock });
    await access('111122223333', 'aws', 'alice');
    await access('111122223333', 'aws', 'alice');
    expect(calls).toHaveLength(1);
    await access('111122223333', 'aws', 'bob');
    await access('444455556666', 'aws', 'alice');
    expect(calls).toHaveLength(3);
    clock += 3600_000 - CREDENTIAL_REFRESH_MARGIN_MS - 1;
    await access('111122223333', 'aws', 'alice');
    expect(calls).toHaveLength(3);
    clock += 2;
    await access('111122223333', 'aws', 'alice');
    expect(calls).toHaveLength(4);
  });

  it('shares one AssumeRole between concurrent requests of one user', async () => {
    const { sts, calls } = fakeSts(3600_000, Date.now);
    const access = createMemberAccess({ sts, targetRoleName: 'RoleShellTarget' });
    await Promise.all([access('111122223333', 'aws', 'alice'), access('111122223333', 'aws', 'alice')]);
    expect(calls).toHaveLength(1);
  });

  it('does not cache a failed AssumeRole', async () => {
    let fail = true;
    const calls: unknown[] = [];
    const sts = {
      send: async () => {
        calls.push(1);
        if (fail) throw Object.assign(new Error('denied'), { name: 'AccessDenied' });
        return {
          Credentials: {
            AccessKeyId: 'A',
            SecretAccessKey: 's',
            SessionToken: 't',
            Expiration: new Date(Date.now() + 3600_000),
          },
        };
      },
    } as unknown as STSClient;
    const access = createMemberAccess({ sts, targetRoleName: 'RoleShellTarget' });
    // A refused AssumeRole means the account is not onboarded: AccessDenied for the caller, the STS text kept for the audit.
    await expect(access('111122223333', 'aws', 'alice')).rejects.toMatchObject({
      name: 'BrokerError',
      code: 'AccessDenied',
      reason: expect.stringContaining('denied'),
    });
    fail = false;
    const member = await access('111122223333', 'aws', 'alice');
    expect(member.sessionArn).toBe('arn:aws:sts::111122223333:assumed-role/RoleShellTarget/alice');
    expect(calls).toHaveLength(2);
  });
});

describe('tagsToRecord', () => {
  it('keeps tag keys named like Object built-ins as own keys', () => {
    const tags = tagsToRecord([
      { Key: '__proto__', Value: 'p' },
      { Key: 'constructor', Value: 'c' },
      { Key: 'Name', Value: undefined },
      { Value: 'no key' },
    ]);
    expect(Object.getPrototypeOf(tags)).toBe(Object.prototype);
    expect(Object.entries(tags)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['Name', ''],
    ]);
  });

  describe('the endpoint member clients call', () => {
    const variables = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SSM', 'AWS_ENDPOINT_URL_IAM'] as const;
    /** The SigV4 credential scope of each call made by the last hostsCalled. */
    let scopes: string[] = [];
    /** Where each member call was sent (a handler that records the request instead of sending it). */
    async function hostsCalled(env: Partial<Record<(typeof variables)[number], string>>) {
      scopes = [];
      const saved = variables.map((name) => [name, process.env[name]] as const);
      for (const name of variables) delete process.env[name];
      Object.assign(process.env, env);
      const hosts: string[] = [];
      const requestHandler = {
        handle: async (request: {
          protocol: string;
          hostname: string;
          port?: number;
          headers: Record<string, string>;
        }) => {
          hosts.push(`${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}`);
          scopes.push(/Credential=([^,]+),/.exec(request.headers.authorization ?? '')?.[1] ?? 'unsigned');
          throw Object.assign(new Error('recorded'), { name: 'Recorded', $fault: 'client' });
        },
      };
      try {
        const { sts } = fakeSts(3600_000, Date.now);
        const access = createMemberAccess({
          sts,
          targetRoleName: 'RoleShellTarget',
          requestHandler: requestHandler as never,
        });
        const member = await access('111122223333', 'aws', 'alice');
        // Two clients of each kind, so the second shows the endpoint read once is reused.
        for (const region of ['eu-west-1', 'us-east-1'])
          await member.getSessionDocument(region, 'RoleShell-Developer').catch(() => undefined);
        await member.getRole('AWSReservedSSO_Developer_0123456789abcdef').catch(() => undefined);
      } finally {
        for (const [name, value] of saved)
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
      }
      return [...new Set(hosts)];
    }

    it('is the regional AWS endpoint when none is configured', async () => {
      expect(await hostsCalled({})).toEqual([
        'https://ssm.eu-west-1.amazonaws.com',
        'https://ssm.us-east-1.amazonaws.com',
        'https://iam.amazonaws.com',
      ]);
    });

    it('is signed with the member credentials for its own region and service', async () => {
      await hostsCalled({});
      const day = new Date().toISOString().slice(0, 10).replaceAll('-', '');
      // The fake AssumeRole's first key; each client signs for its region (IAM: us-east-1).
      expect(scopes.map((scope) => scope.replace(/\/\d{8}\//, `/${day}/`))).toEqual([
        `ASIA1/${day}/eu-west-1/ssm/aws4_request`,
        `ASIA1/${day}/us-east-1/ssm/aws4_request`,
        `ASIA1/${day}/us-east-1/iam/aws4_request`,
      ]);
    });

    it('is the one the environment configures, per service or for all, as the SDK reads it', async () => {
      expect(
        await hostsCalled({
          AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
          AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:4567',
        }),
      ).toEqual(['http://127.0.0.1:4567', 'http://127.0.0.1:4566']);
    });
  });
});

describe('getRole', () => {
  /** Answers every IAM call with one fixed awsQuery error, as IAM does on the wire. */
  async function iamAnswering(status: number, code: string) {
    const server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(
        `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${code} from IAM</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it.each([
    [404, 'NoSuchEntity', 'NoSuchEntity'],
    // The deployed target role may read only roles under IdC's path: a look-alike elsewhere is denied.
    [403, 'AccessDenied', 'AccessDenied'],
  ])('maps IAM %i %s to %s', async (status, code, expected) => {
    const { server, endpoint } = await iamAnswering(status, code);
    try {
      const { sts } = fakeSts(3600_000, Date.now);
      const access = createMemberAccess({
        sts,
        targetRoleName: 'RoleShellTarget',
        clientConfig: { endpoint },
      });
      const member = await access('111122223333', 'aws', 'alice');
      expect(await member.getRole('AWSReservedSSO_AdministratorAccess_0123456789abcdef')).toBe(expected);
    } finally {
      server.close();
    }
  });

  it('throws any other IAM error (the caller gets Internal, not a verdict on the role)', async () => {
    const { server, endpoint } = await iamAnswering(400, 'InvalidInput');
    try {
      const { sts } = fakeSts(3600_000, Date.now);
      const access = createMemberAccess({
        sts,
        targetRoleName: 'RoleShellTarget',
        clientConfig: { endpoint },
      });
      const member = await access('111122223333', 'aws', 'alice');
      await expect(member.getRole('AWSReservedSSO_Developer_0123456789abcdef')).rejects.toMatchObject({
        name: 'InvalidInputException',
      });
    } finally {
      server.close();
    }
  });
});
