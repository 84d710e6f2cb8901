import { describe, expect, it } from 'vitest';
import { memoryAuditSink, type AuditRecord, type AuditSink } from './audit';
import { BATCH_FAN_OUT, createBroker, sessionReason } from './broker';
import { loadBrokerConfig } from './config';
import {
  MAX_BATCH_ENTRIES,
  type BrokerResponse,
  type ListTargetsBatchResult,
  type ListTargetsResult,
  type StartSessionResult,
} from './contract';
import { fakeMemberAccount, sessionDocument, type FakeAccountState } from './fixtures/fakeMember';
import type { StsIdentity } from './identityProof/callerIdentity';
import { proofRequestFor, signIdentityProof } from './identityProof/sign';
import type { MemberAccount, RoleFacts } from './memberAccount';
import { BrokerError } from './errors';

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:999988887777:function:roleshell-broker';
const STS = 'http://127.0.0.1:4566';
const ctx = { requestId: 'req-1', functionArn: FUNCTION_ARN };
const IDC_PATH = '/aws-reserved/sso.amazonaws.com/eu-west-1/';

/** Access key -> what "STS" says about it. */
const identities: Record<string, StsIdentity> = {
  ASIAALICEDEVELOPER01: {
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice`,
    UserId: 'AROADEV:alice',
    Account: ACCOUNT,
  },
  ASIAALICESUPPORT0001: {
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Support_Tier1_fedcba9876543210/alice`,
    UserId: 'AROASUP:alice',
    Account: ACCOUNT,
  },
  ASIABOBDEVELOPER0001: {
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/bob`,
    UserId: 'AROADEV:bob',
    Account: ACCOUNT,
  },
  ASIAALICEOTHERDEV001: {
    Arn: `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice`,
    UserId: 'AROADEV:alice',
    Account: OTHER_ACCOUNT,
  },
  ASIAPLAINROLE0000001: {
    Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Deployer/ci`,
    UserId: 'AROADEP:ci',
    Account: ACCOUNT,
  },
};

type Payload = Parameters<typeof proofRequestFor>[0];

const proof = (accessKeyId: string, request: Payload, audience = FUNCTION_ARN) =>
  signIdentityProof({
    credentials: { accessKeyId, secretAccessKey: 's', sessionToken: 't' },
    region: 'eu-west-1',
    audience,
    endpoint: STS,
    request: proofRequestFor(request),
  });

/** The request with a proof signed for it. */
const signed = async <T extends Payload>(accessKeyId: string, request: T, audience = FUNCTION_ARN) => ({
  ...request,
  identity: await proof(accessKeyId, request, audience),
});

function setup(
  options: {
    audit?: AuditSink;
    config?: object;
    /** memberAccess.opened: accounts already opened are handed out without "AssumeRole". */
    opened?: boolean;
    /** What "STS" says instead, by access key (a refusal or another identity). */
    sts?: Map<string, StsIdentity | Error>;
  } = {},
) {
  const accounts: Record<string, FakeAccountState> = {};
  const account = (id: string): FakeAccountState =>
    (accounts[id] ??= {
      documents: {
        'RoleShell-Developer': sessionDocument('developer'),
        'RoleShell-Support_Tier1': sessionDocument('support'),
      },
      instances: [
        {
          instanceId: 'i-0123456789abcdef0',
          pingStatus: 'Online',
          platform: 'Ubuntu',
          tags: { Name: 'web-1', 'roleshell:permission-sets': 'Developer,Support_Tier1' },
        },
        {
          instanceId: 'i-00000000000000001',
          pingStatus: 'Online',
          platform: 'Ubuntu',
          tags: { Name: 'untagged' },
        },
        { instanceId: 'i-00000000000000004', pingStatus: 'Online', platform: 'Ubuntu', tags: {} },
        {
          instanceId: 'i-00000000000000002',
          pingStatus: 'Online',
          platform: 'Ubuntu',
          tags: { Name: 'admin-only', 'roleshell:permission-sets': 'AdministratorAccess' },
        },
        {
          instanceId: 'i-00000000000000003',
          pingStatus: 'ConnectionLost',
          platform: 'Ubuntu',
          tags: { Name: 'asleep', 'roleshell:permission-sets': '*' },
        },
      ],
      sessions: [],
      calls: [],
      roles: new Map([
        ['AWSReservedSSO_Developer_0123456789abcdef', { path: IDC_PATH, roleId: 'AROADEV' }],
        [
          'AWSReservedSSO_Support_Tier1_fedcba9876543210',
          { path: '/aws-reserved/sso.amazonaws.com/', roleId: 'AROASUP' },
        ],
      ]),
    });
  const opened: string[] = [];
  /** STS replays and the reads of accounts handed out by memberAccess.opened, in the order they happened. */
  const events: string[] = [];
  const members = new Map<string, MemberAccount>();
  const replayed: string[] = [];
  const replays = { inFlight: 0, maxInFlight: 0 };
  const audit = options.audit ?? memoryAuditSink();
  const broker = createBroker({
    config: loadBrokerConfig({
      ROLESHELL_BROKER_CONFIG: JSON.stringify({
        targetRoleName: 'RoleShellTarget',
        regions: ['eu-west-1', 'us-east-1'],
        extraStsEndpoints: [STS],
        ...options.config,
      }),
    }),
    replayIdentityProof: async (checked) => {
      replayed.push(checked.accessKeyId);
      replays.maxInFlight = Math.max(replays.maxInFlight, ++replays.inFlight);
      events.push(`sts ${checked.accessKeyId}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      replays.inFlight--;
      events.push(`sts answered ${checked.accessKeyId}`);
      const instead = options.sts?.get(checked.accessKeyId);
      if (instead instanceof Error) throw instead;
      if (instead) return instead;
      const identity = identities[checked.accessKeyId];
      if (!identity) throw new Error('unknown key');
      return identity;
    },
    memberAccess: Object.assign(
      async (accountId: string, _partition: string, roleSessionName: string): Promise<MemberAccount> => {
        opened.push(`${accountId}/${roleSessionName}`);
        const member = fakeMemberAccount(accountId, roleSessionName, account(accountId));
        if (options.opened) members.set(`${accountId}/${roleSessionName}`, member);
        return member;
      },
      options.opened
        ? {
            opened: (accountId: string, _partition: string, roleSessionName: string) => {
              const member = members.get(`${accountId}/${roleSessionName}`);
              if (!member) return undefined;
              const read = (what: string) => events.push(`${what} ${accountId}/${roleSessionName}`);
              return {
                ...member,
                instanceTags: (region: string, instanceId: string) => {
                  read('instanceTags');
                  return member.instanceTags(region, instanceId);
                },
                describeManagedInstance: (region: string, instanceId: string) => {
                  read('describeManagedInstance');
                  return member.describeManagedInstance(region, instanceId);
                },
              };
            },
          }
        : {},
    ),
    audit,
  });
  return {
    broker,
    account,
    opened,
    events,
    members,
    replayed,
    replays,
    audit: audit as AuditSink & { records?: AuditRecord[] },
  };
}

const errorCode = (response: BrokerResponse) => (response.ok ? 'ok' : response.error.code);

describe('startSession', () => {
  it('starts a session as the mapped Linux user, audited before and after', async () => {
    const { broker, account, opened, audit } = setup();
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    );
    expect(response.ok).toBe(true);
    const result = response as StartSessionResult;
    expect(result.linuxUser).toBe('developer');
    expect(result.documentName).toBe('RoleShell-Developer');
    expect(result.target).toEqual({
      instanceId: 'i-0123456789abcdef0',
      region: 'eu-west-1',
      accountId: ACCOUNT,
    });
    expect(result.session.SessionId).toMatch(/^alice-/);
    // Its own account: once to read the caller's role, once to act (memberAccess caches the credentials).
    expect(opened).toEqual([`${ACCOUNT}/alice`, `${ACCOUNT}/alice`]);
    expect(account(ACCOUNT).calls).toContain(
      `startSession i-0123456789abcdef0 RoleShell-Developer ${sessionReason('alice', 'Developer')}`,
    );
    expect(audit.records?.map((r) => r.outcome)).toEqual(['allowed', 'started']);
    expect(audit.records?.[1]).toMatchObject({
      requestId: 'req-1',
      action: 'startSession',
      user: 'alice',
      userId: 'AROADEV:alice',
      account: ACCOUNT,
      permissionSet: 'Developer',
      region: 'eu-west-1',
      instanceId: 'i-0123456789abcdef0',
      documentName: 'RoleShell-Developer',
      linuxUser: 'developer',
      sessionId: result.session.SessionId,
    });
  });

  it('gives another permission set of the same user its own Linux user', async () => {
    const { broker } = setup();
    const response = (await broker.handle(
      await signed('ASIAALICESUPPORT0001', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    )) as StartSessionResult;
    expect(response.linuxUser).toBe('support');
    expect(response.documentName).toBe('RoleShell-Support_Tier1');
  });

  it.each([
    ['an untagged instance', 'i-00000000000000001', 'AccessDenied'],
    ['an instance with no tags at all', 'i-00000000000000004', 'AccessDenied'],
    ['an instance tagged for another permission set', 'i-00000000000000002', 'AccessDenied'],
    ['an instance that does not exist', 'i-0fffffffffffffff0', 'TargetNotFound'],
  ])('refuses %s and starts nothing', async (_label, instanceId, code) => {
    const { broker, account, audit } = setup();
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId,
      }),
      ctx,
    );
    expect(errorCode(response)).toBe(code);
    expect(account(ACCOUNT).sessions).toHaveLength(0);
    expect(audit.records).toEqual([
      expect.objectContaining({ outcome: 'denied', code, user: 'alice', instanceId }),
    ]);
  });

  it('refuses an instance that is not online as StartSession does, and starts nothing', async () => {
    const { broker, account, audit } = setup();
    const instanceId = 'i-00000000000000003';
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', { action: 'startSession', region: 'eu-west-1', instanceId }),
      ctx,
    );
    expect(response).toEqual({
      ok: false,
      error: { code: 'TargetNotConnected', message: expect.stringMatching(/SSM agent is online/) },
    });
    expect(account(ACCOUNT).sessions).toHaveLength(0);
    // Authorization passed; SSM, which knows whether the agent is connected, refused the start.
    expect(audit.records?.map((r) => [r.outcome, r.code])).toEqual([
      ['allowed', undefined],
      ['denied', 'TargetNotConnected'],
    ]);
  });

  it('asks SSM about an instance only when the tagging API does not know it', async () => {
    const { broker, account } = setup();
    const instances = [
      'i-0123456789abcdef0',
      'i-00000000000000001',
      'i-00000000000000004',
      'i-0fffffffffffffff0',
    ];
    for (const instanceId of instances) {
      account(ACCOUNT).calls.length = 0;
      await broker.handle(
        await signed('ASIAALICEDEVELOPER01', { action: 'startSession', region: 'eu-west-1', instanceId }),
        ctx,
      );
      // Tagged (with the RoleShell tag or another): its tags are enough. Unknown to the tagging
      // API: SSM tells an untagged instance from a missing one.
      expect(account(ACCOUNT).calls.includes(`describeManagedInstance ${instanceId}`), instanceId).toBe(
        instanceId === 'i-00000000000000004' || instanceId === 'i-0fffffffffffffff0',
      );
    }
  });

  it('refuses an unmapped permission set with AccessDenied and no fallback', async () => {
    const { broker, account } = setup();
    account(ACCOUNT).documents = {};
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('AccessDenied');
    expect(account(ACCOUNT).sessions).toHaveLength(0);
  });

  it('refuses another account unless crossAccount is configured', async () => {
    const request = async () =>
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
        accountId: OTHER_ACCOUNT,
      });
    const closed = setup();
    expect(errorCode(await closed.broker.handle(await request(), ctx))).toBe('AccessDenied');
    // Only its own account was opened, to read the caller's role.
    expect(closed.opened).toEqual([`${ACCOUNT}/alice`]);
    const open = setup({ config: { crossAccount: true } });
    const response = (await open.broker.handle(await request(), ctx)) as StartSessionResult;
    expect(response.target.accountId).toBe(OTHER_ACCOUNT);
  });

  it('does not start the session when the intent cannot be audited', async () => {
    const { broker, account } = setup({
      audit: {
        write: async () => {
          throw new Error('log pipe closed');
        },
      },
    });
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('Internal');
    expect(response.ok ? '' : response.error.message).toContain('req-1');
    expect(account(ACCOUNT).calls.filter((c) => c.startsWith('startSession'))).toEqual([]);
  });

  it('terminates a started session whose outcome cannot be audited', async () => {
    let writes = 0;
    const { broker, account } = setup({
      audit: {
        write: async () => {
          if (++writes === 2) throw new Error('log pipe closed');
        },
      },
    });
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('Internal');
    expect(account(ACCOUNT).sessions.map((s) => s.status)).toEqual(['Terminated']);
  });

  it('maps a throttled StartSession to Throttled without leaking the AWS error', async () => {
    const { broker, account, audit } = setup();
    account(ACCOUNT).failStartSession = Object.assign(
      new Error('Rate exceeded for arn:aws:iam::111122223333:role/RoleShellTarget'),
      {
        name: 'ThrottlingException',
      },
    );
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('Throttled');
    expect(JSON.stringify(response)).not.toContain('RoleShellTarget');
    expect(audit.records?.map((r) => r.outcome)).toEqual(['allowed', 'failed']);
  });

  it('hides internal errors behind the request id', async () => {
    const { broker, account } = setup();
    account(ACCOUNT).failStartSession = Object.assign(
      new Error('User: arn:aws:sts::111122223333:assumed-role/RoleShellTarget/alice is not authorized'),
      {
        name: 'AccessDeniedException',
      },
    );
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    );
    expect(response).toEqual({
      ok: false,
      error: { code: 'Internal', message: expect.stringContaining('req-1') },
    });
    expect(JSON.stringify(response)).not.toContain('RoleShellTarget');
  });
});

describe('startSession reads ahead while STS checks the proof', () => {
  const request = { action: 'startSession', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
  const KEY = 'ASIAALICEDEVELOPER01';

  it('reads the target for the caller a key was last, and acts only after STS named that caller', async () => {
    const s = setup({ opened: true });
    expect((await s.broker.handle(await signed(KEY, request), ctx)).ok).toBe(true);
    s.events.length = 0;
    const response = await s.broker.handle(await signed(KEY, request), ctx);
    expect(response.ok).toBe(true);
    // The reads went out before STS answered; the session started after.
    expect(s.events.indexOf('instanceTags 111122223333/alice')).toBeLessThan(
      s.events.indexOf(`sts answered ${KEY}`),
    );
    expect(s.account(ACCOUNT).calls.filter((c) => c.startsWith('startSession'))).toHaveLength(2);
    expect(s.audit.records?.map((r) => r.outcome)).toEqual(['allowed', 'started', 'allowed', 'started']);
  });

  it('reads nothing ahead for a key it has not verified, nor as an account not opened yet', async () => {
    const s = setup({ opened: true });
    expect((await s.broker.handle(await signed(KEY, request), ctx)).ok).toBe(true);
    expect(s.events.filter((e) => !e.startsWith('sts'))).toEqual([]);
  });

  it('answers a refused proof of a known key exactly as without the hint; what it read stays unsaid', async () => {
    const refusal = new BrokerError(
      'IdentityRejected',
      'STS did not accept the identity proof.',
      'STS said no',
    );
    const sts = new Map<string, StsIdentity | Error>();
    const s = setup({ opened: true, sts });
    expect((await s.broker.handle(await signed(KEY, request), ctx)).ok).toBe(true);
    // The reads made ahead would fail, and loudly: none of it may reach the unverified caller.
    const member = s.members.get(`${ACCOUNT}/alice`)!;
    member.instanceTags = () => Promise.reject(new Error('tagging is down: instance i-0123… in 1111…'));
    member.getSessionDocument = () => Promise.reject(new Error('document service is down'));
    sts.set(KEY, refusal);
    const records = s.audit.records!.length;
    const response = await s.broker.handle(await signed(KEY, request), ctx);
    expect(s.events).toContain('instanceTags 111122223333/alice');

    const fresh = setup({ sts: new Map([[KEY, refusal]]) });
    const unhinted = await fresh.broker.handle(await signed(KEY, request), ctx);
    expect(response).toEqual(unhinted);
    expect(response).toEqual({
      ok: false,
      error: { code: 'IdentityRejected', message: 'STS did not accept the identity proof.' },
    });
    const withoutTime = (list: AuditRecord[]) => list.map(({ time: _time, ...rest }) => rest);
    expect(withoutTime(s.audit.records!.slice(records))).toEqual(withoutTime(fresh.audit.records!));
    expect(s.account(ACCOUNT).calls.filter((c) => c.startsWith('startSession'))).toHaveLength(1);
  });

  it('reports what the reads ahead found only once STS vouched for the caller', async () => {
    const s = setup({ opened: true });
    expect((await s.broker.handle(await signed(KEY, request), ctx)).ok).toBe(true);
    s.members.get(`${ACCOUNT}/alice`)!.instanceTags = () => Promise.reject(new Error('tagging is down'));
    const response = await s.broker.handle(await signed(KEY, request), ctx);
    expect(errorCode(response)).toBe('Internal');
    expect(s.account(ACCOUNT).calls.filter((c) => c.startsWith('startSession'))).toHaveLength(1);
  });

  it('reads again, as the caller STS named, when the key now names someone else', async () => {
    const sts = new Map<string, StsIdentity | Error>();
    const s = setup({ opened: true, sts });
    expect((await s.broker.handle(await signed(KEY, request), ctx)).ok).toBe(true);
    // Not something AWS does (a key names one role session), but nothing may be taken on trust.
    sts.set(KEY, identities.ASIABOBDEVELOPER0001!);
    const response = (await s.broker.handle(await signed(KEY, request), ctx)) as StartSessionResult;
    expect(response.ok).toBe(true);
    expect(response.session.SessionId).toMatch(/^bob-/);
    expect(s.opened.at(-1)).toBe(`${ACCOUNT}/bob`);
  });
});

describe('request validation', () => {
  it.each([
    ['a non-object', 'hello', 'InvalidRequest'],
    ['null', null, 'InvalidRequest'],
    ['an array', [], 'InvalidRequest'],
    ['an unknown action', { action: 'runCommand' }, 'InvalidRequest'],
    ['a missing identity', { action: 'listTargets' }, 'InvalidRequest'],
  ])('refuses %s without asking STS', async (_label, event, code) => {
    const { broker, replayed, audit } = setup();
    expect(errorCode(await broker.handle(event, ctx))).toBe(code);
    expect(replayed).toEqual([]);
    expect(audit.records).toEqual([expect.objectContaining({ outcome: 'denied', code })]);
  });

  it('caps a long unknown action in the audit trail', async () => {
    const { broker, audit } = setup();
    await broker.handle({ action: 'x'.repeat(10_000) }, ctx);
    expect(audit.records?.[0]?.action).toBe('x'.repeat(64));
  });

  it.each([
    'i-123',
    'i-0123456789ABCDEF0',
    'x-0123456789abcdef0',
    'i-0123456789abcdef0123',
    '../i-0123456789abcdef0',
  ])('refuses the malformed instance id %s', async (instanceId) => {
    const { broker, replayed } = setup();
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId,
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('InvalidRequest');
    expect(response.ok ? '' : response.error.message).toMatch(/instanceId/);
    expect(replayed).toEqual([]);
  });

  it('refuses a region the broker does not serve', async () => {
    const { broker } = setup();
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'startSession',
        region: 'ap-south-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('InvalidRequest');
    expect(response.ok ? '' : response.error.message).toContain('eu-west-1, us-east-1');
  });

  it('refuses an oversized proof before reading it', async () => {
    const { broker, replayed } = setup();
    const identity = await proof('ASIAALICEDEVELOPER01', { action: 'listTargets' });
    identity.headers['x-padding'] = 'a'.repeat(8 * 1024);
    const response = await broker.handle({ action: 'listTargets', identity }, ctx);
    expect(errorCode(response)).toBe('IdentityRejected');
    expect(replayed).toEqual([]);
  });

  it('refuses a caller that is not a permission-set role', async () => {
    const { broker, opened, audit } = setup();
    expect(
      errorCode(await broker.handle(await signed('ASIAPLAINROLE0000001', { action: 'listTargets' }), ctx)),
    ).toBe('IdentityRejected');
    expect(opened).toEqual([]);
    expect(audit.records?.[0]).toMatchObject({ outcome: 'denied', code: 'IdentityRejected' });
  });

  it('refuses a proof for another audience without replaying it', async () => {
    const { broker, replayed } = setup();
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', { action: 'listTargets' }, `${FUNCTION_ARN}2`),
      ctx,
    );
    expect(errorCode(response)).toBe('IdentityRejected');
    expect(replayed).toEqual([]);
  });
});

describe('listTargets', () => {
  it('lists the instances the permission set may reach, with the mapped user', async () => {
    const { broker, audit } = setup();
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', { action: 'listTargets', region: 'eu-west-1' }),
      ctx,
    );
    expect(response).toMatchObject({
      ok: true,
      permissionSet: 'Developer',
      linuxUser: 'developer',
      documentName: 'RoleShell-Developer',
    });
    if (!response.ok || !('targets' in response)) throw new Error('not a listing');
    expect(response.targets.map((t) => [t.instanceId, t.name, t.pingStatus, t.linuxUser])).toEqual([
      ['i-0123456789abcdef0', 'web-1', 'Online', 'developer'],
      ['i-00000000000000003', 'asleep', 'ConnectionLost', 'developer'],
    ]);
    expect(audit.records).toEqual([
      expect.objectContaining({ outcome: 'listed', targetCount: 2, user: 'alice' }),
    ]);
  });

  it('covers every served region by default, reading documents only where the permission set sees instances', async () => {
    const { broker, account } = setup();
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', { action: 'listTargets' }),
      ctx,
    );
    expect(response).toMatchObject({ ok: true, linuxUser: 'developer' });
    // The fake account's instances are all in eu-west-1: us-east-1 has nothing to map.
    expect(account(ACCOUNT).calls).toEqual([
      'getRole AWSReservedSSO_Developer_0123456789abcdef',
      'listTaggedInstances eu-west-1',
      'listTaggedInstances us-east-1',
      'getSessionDocument RoleShell-Developer',
    ]);
  });

  it('shows no instances of a region without the document, as before the listing came first', async () => {
    const { broker, account } = setup({ config: { regions: ['eu-west-1'] } });
    account(ACCOUNT).documents = { 'RoleShell-Support_Tier1': sessionDocument('support') };
    // The Developer instances are listed but unmapped: refused, not shown without a Linux user.
    expect(
      errorCode(await broker.handle(await signed('ASIAALICEDEVELOPER01', { action: 'listTargets' }), ctx)),
    ).toBe('AccessDenied');
  });

  it('still names the Linux user, or refuses an unmapped permission set, when nothing is visible anywhere', async () => {
    const { broker, account } = setup();
    account(ACCOUNT).instances = account(ACCOUNT).instances.filter(
      (i) => i.tags['roleshell:permission-sets'] === 'AdministratorAccess',
    );
    const response = await broker.handle(
      await signed('ASIAALICEDEVELOPER01', { action: 'listTargets' }),
      ctx,
    );
    expect(response).toMatchObject({ ok: true, linuxUser: 'developer', targets: [] });
    // The first region maps, so the second is not read.
    expect(account(ACCOUNT).calls.filter((c) => c.startsWith('getSessionDocument'))).toEqual([
      'getSessionDocument RoleShell-Developer',
    ]);

    account(ACCOUNT).documents = {};
    account(ACCOUNT).calls.length = 0;
    const unmapped = await broker.handle(
      await signed('ASIAALICESUPPORT0001', { action: 'listTargets' }),
      ctx,
    );
    expect(unmapped).toMatchObject({ ok: false, error: { code: 'AccessDenied' } });
    // Every region was asked before the permission set was called unmapped.
    expect(account(ACCOUNT).calls.filter((c) => c.startsWith('getSessionDocument'))).toEqual([
      'getSessionDocument RoleShell-Support_Tier1',
      'getSessionDocument RoleShell-Support_Tier1',
    ]);
  });

  it('refuses an unmapped permission set', async () => {
    const { broker, account } = setup();
    account(ACCOUNT).documents = {};
    expect(
      errorCode(await broker.handle(await signed('ASIAALICEDEVELOPER01', { action: 'listTargets' }), ctx)),
    ).toBe('AccessDenied');
  });
});

describe('listTargetsBatch', () => {
  /** An entry whose proof is bound to this entry of a batch over `regions` (or to `boundTo`, to test the binding). */
  const entry = async (
    accessKeyId: string,
    accountId = ACCOUNT,
    options: { audience?: string; regions?: string[]; boundTo?: string } = {},
  ) => ({
    accountId,
    identity: await proof(
      accessKeyId,
      {
        action: 'listTargetsBatch',
        regions: options.regions ?? ['eu-west-1'],
        accountId: options.boundTo ?? accountId,
      },
      options.audience,
    ),
  });
  const batch = async (
    b: ReturnType<typeof setup>['broker'],
    entries: unknown[],
    regions = ['eu-west-1'],
  ): Promise<ListTargetsBatchResult> => {
    const response = await b.handle({ action: 'listTargetsBatch', regions, entries }, ctx);
    if (!response.ok || !('entries' in response))
      throw new Error(`not a batch answer: ${JSON.stringify(response)}`);
    return response;
  };
  const listing = (answer: ListTargetsResult | { ok: false }) => {
    if (!answer.ok) throw new Error('entry was refused');
    return answer;
  };

  it('verifies each proof on its own and answers each entry as its own permission set and user', async () => {
    const { broker, replayed, audit } = setup();
    const response = await batch(broker, [
      await entry('ASIAALICEDEVELOPER01'),
      await entry('ASIAALICESUPPORT0001'),
      await entry('ASIABOBDEVELOPER0001'),
    ]);
    expect(replayed.sort()).toEqual(['ASIAALICEDEVELOPER01', 'ASIAALICESUPPORT0001', 'ASIABOBDEVELOPER0001']);
    expect(response.entries.map((e) => [listing(e).permissionSet, listing(e).linuxUser])).toEqual([
      ['Developer', 'developer'],
      ['Support_Tier1', 'support'],
      ['Developer', 'developer'],
    ]);
    expect(listing(response.entries[1]!).targets.map((t) => t.instanceId)).toEqual([
      'i-0123456789abcdef0',
      'i-00000000000000003',
    ]);
    // One audit record per entry, naming its own caller.
    expect(
      audit.records!.map((r) => [r.batchEntry, r.outcome, r.user, r.permissionSet, r.targetCount]),
    ).toEqual(
      expect.arrayContaining([
        [0, 'listed', 'alice', 'Developer', 2],
        [1, 'listed', 'alice', 'Support_Tier1', 2],
        [2, 'listed', 'bob', 'Developer', 2],
      ]),
    );
    expect(audit.records).toHaveLength(3);
  });

  it('refuses a bad proof, a proof for another account and an unmapped permission set only in their own entries', async () => {
    const { broker, account, audit } = setup();
    account(ACCOUNT).documents = { 'RoleShell-Developer': sessionDocument('developer') };
    const response = await batch(broker, [
      await entry('ASIAALICEDEVELOPER01'),
      await entry('ASIAALICEDEVELOPER01', ACCOUNT, {
        audience: 'arn:aws:lambda:eu-west-1:999988887777:function:other',
      }),
      await entry('ASIAALICEOTHERDEV001', ACCOUNT),
      await entry('ASIAALICESUPPORT0001'),
      {
        accountId: ACCOUNT,
        identity: { ...(await entry('ASIABOBDEVELOPER0001')).identity, body: 'Action=AssumeRole' },
      },
      await entry('ASIABOBDEVELOPER0001'),
      // A proof made for another entry (bound to another account) cannot be moved to this one.
      await entry('ASIABOBDEVELOPER0001', ACCOUNT, { boundTo: OTHER_ACCOUNT }),
      // Nor to another batch's regions.
      await entry('ASIABOBDEVELOPER0001', ACCOUNT, { regions: ['us-east-1'] }),
    ]);
    expect(response.entries.map((e) => (e.ok ? 'ok' : e.error.code))).toEqual([
      'ok',
      'IdentityRejected',
      'IdentityRejected',
      'AccessDenied',
      'IdentityRejected',
      'ok',
      'IdentityRejected',
      'IdentityRejected',
    ]);
    expect(response.entries[2]).toMatchObject({ error: { message: expect.stringContaining(OTHER_ACCOUNT) } });
    expect(listing(response.entries[5]!).targets).toHaveLength(2);
    const outcomes = audit.records!.map((r) => [r.batchEntry, r.outcome]).sort();
    expect(outcomes).toEqual([
      [0, 'listed'],
      [1, 'denied'],
      [2, 'denied'],
      [3, 'denied'],
      [4, 'denied'],
      [5, 'listed'],
      [6, 'denied'],
      [7, 'denied'],
    ]);
  });

  it('lists each account once per region for all its permission sets, across mixed accounts', async () => {
    const { broker, account, opened } = setup();
    const both = ['eu-west-1', 'us-east-1'];
    const response = await batch(
      broker,
      [
        await entry('ASIAALICEDEVELOPER01', ACCOUNT, { regions: both }),
        await entry('ASIAALICEOTHERDEV001', OTHER_ACCOUNT, { regions: both }),
        await entry('ASIAALICESUPPORT0001', ACCOUNT, { regions: both }),
      ],
      both,
    );
    expect(response.entries.map((e) => [listing(e).permissionSet, listing(e).targets[0]?.accountId])).toEqual(
      [
        ['Developer', ACCOUNT],
        ['Developer', OTHER_ACCOUNT],
        ['Support_Tier1', ACCOUNT],
      ],
    );
    const listings = (id: string) => account(id).calls.filter((c) => c.startsWith('listTaggedInstances'));
    const once = ['listTaggedInstances eu-west-1', 'listTaggedInstances us-east-1'];
    expect(listings(ACCOUNT)).toEqual(once);
    expect(listings(OTHER_ACCOUNT)).toEqual(once);
    // A document is read per permission set only where it sees instances (here eu-west-1 only).
    const documents = (id: string) => account(id).calls.filter((c) => c.startsWith('getSessionDocument'));
    expect(documents(ACCOUNT).sort()).toEqual([
      'getSessionDocument RoleShell-Developer',
      'getSessionDocument RoleShell-Support_Tier1',
    ]);
    expect(documents(OTHER_ACCOUNT)).toEqual(['getSessionDocument RoleShell-Developer']);
    expect(new Set(opened)).toEqual(new Set([`${ACCOUNT}/alice`, `${OTHER_ACCOUNT}/alice`]));
  });

  it('caps the batch size, refuses an oversized proof in its own entry, and bounds its fan-out', async () => {
    const { broker, replays } = setup();
    const good = await entry('ASIAALICEDEVELOPER01');
    const over = await broker.handle(
      { action: 'listTargetsBatch', entries: Array.from({ length: MAX_BATCH_ENTRIES + 1 }, () => good) },
      ctx,
    );
    expect(over).toMatchObject({ ok: false, error: { code: 'InvalidRequest' } });
    expect(errorCode(await broker.handle({ action: 'listTargetsBatch', entries: [] }, ctx))).toBe(
      'InvalidRequest',
    );

    const huge = { ...good, identity: { ...good.identity, body: 'x'.repeat(9000) } };
    const full = await batch(broker, [huge, ...Array.from({ length: MAX_BATCH_ENTRIES - 1 }, () => good)]);
    expect(full.entries).toHaveLength(MAX_BATCH_ENTRIES);
    expect(full.entries[0]).toMatchObject({ ok: false, error: { code: 'IdentityRejected' } });
    expect(full.entries.slice(1).every((e) => e.ok)).toBe(true);
    expect(replays.maxInFlight).toBeGreaterThan(1);
    expect(replays.maxInFlight).toBeLessThanOrEqual(BATCH_FAN_OUT);
  });
});

describe('terminateSession', () => {
  async function started(setupResult: ReturnType<typeof setup>, key = 'ASIAALICEDEVELOPER01') {
    const response = (await setupResult.broker.handle(
      await signed(key, {
        action: 'startSession',
        region: 'eu-west-1',
        instanceId: 'i-0123456789abcdef0',
      }),
      ctx,
    )) as StartSessionResult;
    return response.session.SessionId;
  }

  it('ends the caller own session, from any of their permission sets', async () => {
    const s = setup();
    const sessionId = await started(s);
    const response = await s.broker.handle(
      await signed('ASIAALICESUPPORT0001', {
        action: 'terminateSession',
        region: 'eu-west-1',
        sessionId,
      }),
      ctx,
    );
    expect(response).toEqual({ ok: true, sessionId });
    expect(s.account(ACCOUNT).sessions[0]!.status).toBe('Terminated');
    expect(s.audit.records?.at(-1)).toMatchObject({
      outcome: 'terminated',
      sessionId,
      user: 'alice',
      instanceId: 'i-0123456789abcdef0',
    });
  });

  it("refuses someone else's session", async () => {
    const s = setup();
    const sessionId = await started(s, 'ASIABOBDEVELOPER0001');
    const response = await s.broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'terminateSession',
        region: 'eu-west-1',
        sessionId,
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('AccessDenied');
    expect(s.account(ACCOUNT).sessions[0]!.status).toBe('Connected');
  });

  it('refuses a session with the right prefix that the broker did not start', async () => {
    const s = setup();
    s.account(ACCOUNT).sessions.push({
      sessionId: 'alice-0aaaaaaaaaaaaaaaa',
      owner: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice`,
      status: 'Connected',
      target: 'i-0123456789abcdef0',
      region: 'eu-west-1',
    });
    const response = await s.broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'terminateSession',
        region: 'eu-west-1',
        sessionId: 'alice-0aaaaaaaaaaaaaaaa',
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('AccessDenied');
    expect(s.account(ACCOUNT).sessions[0]!.status).toBe('Connected');
  });

  it('reports an unknown session as not found', async () => {
    const s = setup();
    const response = await s.broker.handle(
      await signed('ASIAALICEDEVELOPER01', {
        action: 'terminateSession',
        region: 'eu-west-1',
        sessionId: 'alice-0bbbbbbbbbbbbbbbb',
      }),
      ctx,
    );
    expect(errorCode(response)).toBe('TargetNotFound');
  });
});

describe('request-bound, single-use proofs', () => {
  const startAt = (instanceId: string) => ({
    action: 'startSession',
    region: 'eu-west-1',
    instanceId,
  });

  it('refuses a proof signed for another request without replaying it, and audits it', async () => {
    const { broker, replayed, audit, account } = setup();
    const { identity } = await signed('ASIAALICEDEVELOPER01', startAt('i-0123456789abcdef0'));
    const response = await broker.handle({ ...startAt('i-00000000000000003'), identity }, ctx);
    expect(errorCode(response)).toBe('IdentityRejected');
    expect(replayed).toEqual([]);
    expect(account(ACCOUNT).sessions).toHaveLength(0);
    expect(audit.records).toEqual([
      expect.objectContaining({
        outcome: 'denied',
        code: 'IdentityRejected',
        reason: expect.stringMatching(/x-roleshell-request .* does not match/),
      }),
    ]);
  });

  it('refuses a listTargets proof used for startSession and a terminate proof for another session', async () => {
    const { broker } = setup();
    const { identity } = await signed('ASIAALICEDEVELOPER01', { action: 'listTargets' });
    expect(errorCode(await broker.handle({ ...startAt('i-0123456789abcdef0'), identity }, ctx))).toBe(
      'IdentityRejected',
    );
    const terminate = await signed('ASIAALICEDEVELOPER01', {
      action: 'terminateSession',
      region: 'eu-west-1',
      sessionId: 'alice-00000000000000001',
    });
    expect(errorCode(await broker.handle({ ...terminate, sessionId: 'alice-00000000000000002' }, ctx))).toBe(
      'IdentityRejected',
    );
  });

  it('accepts a startSession proof once; the replay is refused and audited with the caller', async () => {
    const { broker, account, audit } = setup();
    const request = await signed('ASIAALICEDEVELOPER01', startAt('i-0123456789abcdef0'));
    expect((await broker.handle(request, ctx)).ok).toBe(true);
    const again = await broker.handle(request, ctx);
    expect(again).toEqual({
      ok: false,
      error: { code: 'IdentityRejected', message: expect.stringMatching(/already used/) },
    });
    expect(account(ACCOUNT).sessions).toHaveLength(1);
    expect(audit.records?.at(-1)).toMatchObject({
      outcome: 'denied',
      code: 'IdentityRejected',
      user: 'alice',
      reason: 'proof replayed: its signature was already used',
    });
  });

  it('keeps the proof used when the start it was for failed', async () => {
    const { broker } = setup();
    const request = await signed('ASIAALICEDEVELOPER01', startAt('i-00000000000000003'));
    expect(errorCode(await broker.handle(request, ctx))).toBe('TargetNotConnected');
    expect(errorCode(await broker.handle(request, ctx))).toBe('IdentityRejected');
  });

  it('lets a listTargets proof repeat its own request (listing starts nothing)', async () => {
    const { broker } = setup();
    const request = await signed('ASIAALICEDEVELOPER01', { action: 'listTargets', region: 'eu-west-1' });
    expect((await broker.handle(request, ctx)).ok).toBe(true);
    expect((await broker.handle(request, ctx)).ok).toBe(true);
  });

  it('binds listTargets regions: a proof for one region does not list another', async () => {
    const { broker } = setup();
    const { identity } = await signed('ASIAALICEDEVELOPER01', {
      action: 'listTargets',
      regions: ['eu-west-1'],
    });
    expect(
      errorCode(await broker.handle({ action: 'listTargets', regions: ['us-east-1'], identity }, ctx)),
    ).toBe('IdentityRejected');
  });
});

describe('resumeSession', () => {
  async function started(s: ReturnType<typeof setup>, key = 'ASIAALICEDEVELOPER01') {
    const response = (await s.broker.handle(
      await signed(key, { action: 'startSession', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' }),
      ctx,
    )) as StartSessionResult;
    return response.session.SessionId;
  }
  const resume = (key: string, sessionId: string) =>
    signed(key, { action: 'resumeSession', region: 'eu-west-1', sessionId });

  it('gives the session own user a new token, from any of their permission sets, audited first', async () => {
    const s = setup();
    const sessionId = await started(s);
    const response = await s.broker.handle(await resume('ASIAALICESUPPORT0001', sessionId), ctx);
    expect(response).toEqual({
      ok: true,
      session: {
        SessionId: sessionId,
        StreamUrl: `wss://ssmmessages/${sessionId}`,
        TokenValue: expect.any(String),
      },
    });
    expect(s.account(ACCOUNT).calls.at(-1)).toBe(`resumeSession ${sessionId}`);
    expect(s.audit.records?.at(-1)).toMatchObject({
      action: 'resumeSession',
      outcome: 'resumed',
      sessionId,
      user: 'alice',
      instanceId: 'i-0123456789abcdef0',
    });
  });

  it("refuses someone else's session, by prefix and by owner, and audits it", async () => {
    const s = setup();
    const bobs = await started(s, 'ASIABOBDEVELOPER0001');
    expect(errorCode(await s.broker.handle(await resume('ASIAALICEDEVELOPER01', bobs), ctx))).toBe(
      'AccessDenied',
    );
    s.account(ACCOUNT).sessions.push({
      sessionId: 'alice-0aaaaaaaaaaaaaaaa',
      owner: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice`,
      status: 'Connected',
      target: 'i-0123456789abcdef0',
      region: 'eu-west-1',
    });
    const response = await s.broker.handle(
      await resume('ASIAALICEDEVELOPER01', 'alice-0aaaaaaaaaaaaaaaa'),
      ctx,
    );
    expect(errorCode(response)).toBe('AccessDenied');
    expect(s.account(ACCOUNT).calls.filter((c) => c.startsWith('resumeSession'))).toEqual([]);
    expect(s.audit.records?.at(-1)).toMatchObject({
      action: 'resumeSession',
      outcome: 'denied',
      code: 'AccessDenied',
      reason: expect.stringMatching(/session owner/),
    });
  });

  it('reports an ended session as not found', async () => {
    const s = setup();
    const sessionId = await started(s);
    s.account(ACCOUNT).sessions[0]!.status = 'Terminated';
    expect(errorCode(await s.broker.handle(await resume('ASIAALICEDEVELOPER01', sessionId), ctx))).toBe(
      'TargetNotFound',
    );
  });

  it('accepts a resume proof once', async () => {
    const s = setup();
    const sessionId = await started(s);
    const request = await resume('ASIAALICEDEVELOPER01', sessionId);
    expect((await s.broker.handle(request, ctx)).ok).toBe(true);
    expect(errorCode(await s.broker.handle(request, ctx))).toBe('IdentityRejected');
    expect(s.account(ACCOUNT).calls.filter((c) => c.startsWith('resumeSession'))).toHaveLength(1);
  });
});

describe('role origin', () => {
  const list = (key = 'ASIAALICEDEVELOPER01') => signed(key, { action: 'listTargets', region: 'eu-west-1' });
  const DEV_ROLE = 'AWSReservedSSO_Developer_0123456789abcdef';

  it.each([
    ['an ordinary path', { path: '/', roleId: 'AROADEV' }, /has path \/, not IAM Identity Center/],
    ['a look-alike path', { path: '/aws-reserved/sso.amazonaws.com.evil/', roleId: 'AROADEV' }, /has path/],
    ['another reserved path', { path: '/aws-reserved/other.amazonaws.com/', roleId: 'AROADEV' }, /has path/],
    [
      'another RoleId (deleted and recreated)',
      { path: IDC_PATH, roleId: 'AROANEW' },
      /deleted and recreated/,
    ],
  ])(
    'refuses a role with %s, audited, before anything else in the account',
    async (_label, facts, reason) => {
      const { broker, account, audit } = setup();
      account(ACCOUNT).roles!.set(DEV_ROLE, facts);
      const response = await broker.handle(await list(), ctx);
      expect(errorCode(response)).toBe('IdentityRejected');
      expect(account(ACCOUNT).calls).toEqual([`getRole ${DEV_ROLE}`]);
      expect(audit.records).toEqual([
        expect.objectContaining({
          outcome: 'denied',
          code: 'IdentityRejected',
          user: 'alice',
          reason: expect.stringMatching(reason),
        }),
      ]);
    },
  );

  it('refuses a role IAM does not know', async () => {
    const { broker, account } = setup();
    account(ACCOUNT).roles!.delete(DEV_ROLE);
    expect(errorCode(await broker.handle(await list(), ctx))).toBe('IdentityRejected');
  });

  it('accepts both forms of the IdC path, reads each role once, and asks again for another RoleId', async () => {
    const { broker, account } = setup();
    expect((await broker.handle(await list(), ctx)).ok).toBe(true);
    expect((await broker.handle(await list(), ctx)).ok).toBe(true);
    expect((await broker.handle(await list('ASIAALICESUPPORT0001'), ctx)).ok).toBe(true);
    const getRoles = () => account(ACCOUNT).calls.filter((c) => c.startsWith('getRole'));
    expect(getRoles()).toEqual([
      `getRole ${DEV_ROLE}`,
      'getRole AWSReservedSSO_Support_Tier1_fedcba9876543210',
    ]);
    // The cached answer was for AROADEV; a caller of a recreated role is looked up afresh (and refused).
    account(ACCOUNT).roles!.set(DEV_ROLE, { path: '/', roleId: 'AROAIMPOSTOR' });
    identities.ASIAIMPOSTOR00000001 = { ...identities.ASIAALICEDEVELOPER01!, UserId: 'AROAIMPOSTOR:alice' };
    expect(errorCode(await broker.handle(await list('ASIAIMPOSTOR00000001'), ctx))).toBe('IdentityRejected');
    expect(getRoles()).toHaveLength(3);
    // And alice's session of the deleted role is now refused too: IAM's answer names the new role.
    expect(errorCode(await broker.handle(await list(), ctx))).toBe('IdentityRejected');
  });

  it('refuses a role IAM denies the target role to read (outside the IdC path), audited and remembered', async () => {
    const { broker, account, audit } = setup();
    account(ACCOUNT).roles!.set(DEV_ROLE, 'AccessDenied');
    expect(errorCode(await broker.handle(await list(), ctx))).toBe('IdentityRejected');
    expect(errorCode(await broker.handle(await list(), ctx))).toBe('IdentityRejected');
    expect(account(ACCOUNT).calls).toEqual([`getRole ${DEV_ROLE}`]);
    expect(audit.records).toEqual([
      expect.objectContaining({
        outcome: 'denied',
        code: 'IdentityRejected',
        user: 'alice',
        reason: expect.stringMatching(/not under IAM Identity Center's .*denied the target role iam:GetRole/),
      }),
      expect.objectContaining({ outcome: 'denied', code: 'IdentityRejected' }),
    ]);
  });

  it('fails closed when GetRole fails otherwise', async () => {
    const { broker, account } = setup();
    account(ACCOUNT).roles = {
      get: () => {
        throw Object.assign(new Error('IAM is unavailable'), { name: 'ServiceFailure' });
      },
    } as unknown as Map<string, RoleFacts>;
    const response = await broker.handle(await list(), ctx);
    expect(errorCode(response)).toBe('Internal');
    expect(account(ACCOUNT).calls.filter((c) => c.startsWith('listTaggedInstances'))).toEqual([]);
  });
});
