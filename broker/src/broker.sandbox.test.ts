/**
 * The broker through the sandbox, end to end with no mocks: IdC device sign-in,
 * GetRoleCredentials per permission set, a SigV4-signed identity proof, a real
 * Lambda Invoke of the bundled handler (which replays the proof to the
 * sandbox's STS, assumes the member role and calls SSM and the tagging API), CloudTrail, and a
 * shell over the data channel.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrg, startSandbox, type OrgFile, type Sandbox } from '../../sandbox/src/index';
import { permissionSetRoleName } from '../../sandbox/src/identity/iamRoles';
import { DataChannelClient } from '../../app/session/dataChannel/client';
import { Transcript } from '../../sandbox/src/dataChannel/fixtures/harness';
import type { AuditRecord } from './audit';
import type { BrokerResponse, IdentityProof, ResumeSessionResult, StartSessionResult } from './contract';
import type { BrokerErrorCode } from './errors';
import {
  BrokerInvoker,
  proofFor,
  type BrokerPayload,
  roleCredentials,
  signIn,
  type RoleCredentials,
} from './fixtures/sandboxCaller';
import {
  AUDIENCE_HEADER,
  GET_CALLER_IDENTITY_BODY,
  proofRequestFor,
  REQUEST_HEADER,
  requestDigest,
} from './identityProof/sign';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PROD = '222222222222';
const STAGING = '333333333333';
const DEV = '444444444444';
const CENTRAL = '111111111111'; // hosts the broker; not a member account, so no target role
const REGION = 'eu-west-1';
const PROD_WEB_1 = 'i-0a1b2c3d4e5f60001'; // tagged for all four permission sets
const PROD_DB_1 = 'i-0a1b2c3d4e5f60003'; // AdministratorAccess only
const PROD_LEGACY_1 = 'i-0a1b2c3d4e5f60004'; // ConnectionLost
const STAGING_APP_1 = 'i-0b1b2c3d4e5f60006'; // another account, tagged Developer
const DEV_BUILD_1 = 'i-0c1b2c3d4e5f60009'; // no roleshell tag

const BUILT_IN_NAMES = ['constructor', 'toString', '__proto__'];

const LINUX_USERS: Record<string, string> = {
  AdministratorAccess: 'ops-admin',
  ReadOnly: 'auditor',
  Developer: 'developer',
  Support_Tier1: 'support',
};

let sandbox: Sandbox;
let invoker: BrokerInvoker;
const logLines: string[] = [];
const alice: Record<string, RoleCredentials> = {};
let bobReadOnly: RoleCredentials;
let aliceDevInDev: RoleCredentials;
let aliceNoShell: RoleCredentials;
let aliceNoRunAs: RoleCredentials;
let aliceAdminInCentral: RoleCredentials;
let ciRole: RoleCredentials;
let aliceToken: string;

/** IdC's role for a permission set in an account (the sandbox names it as IdC does). */
const permissionSetRole = (accountId: string, permissionSet: string) =>
  permissionSetRoleName(sandbox.org, accountId, permissionSet);
const developerRoleName = () => permissionSetRole(PROD, 'Developer');
const supportRoleName = () => permissionSetRole(PROD, 'Support_Tier1');

/** Audit records the broker wrote to stdout (the sandbox forwards the function's output to `log`). */
function auditRecords(): AuditRecord[] {
  return logLines
    .map((line) => /^\[lambda roleshell-broker\] (\{"audit":"roleshell-broker".*)$/.exec(line)?.[1])
    .filter((json): json is string => json !== undefined)
    .map((json) => JSON.parse(json) as AuditRecord);
}

function startSessionEvents() {
  return sandbox
    .cloudTrail()
    .filter((e) => e.eventSource === 'ssm.amazonaws.com' && e.eventName === 'StartSession');
}

/** Makes the mapped Linux users exist on this machine (the sandbox agent runs shells as them). */
function ensureLinuxUsers(): void {
  if (process.getuid?.() !== 0) return;
  for (const user of Object.values(LINUX_USERS)) {
    try {
      execFileSync('id', ['-u', user], { stdio: 'ignore' });
    } catch {
      try {
        execFileSync('useradd', ['-m', '-s', '/bin/bash', user], { stdio: 'ignore' });
      } catch {
        execFileSync('id', ['-u', user], { stdio: 'ignore' }); // another test file created it meanwhile
      }
    }
  }
}

beforeAll(async () => {
  ensureLinuxUsers();
  const { org } = loadOrg();
  // One extra role that is not a permission set, reachable through a fixture function.
  sandbox = await startSandbox({
    root,
    log: (line) => logLines.push(line),
    org: {
      ...org,
      // Two permission sets that reach prod-web-1 but map to no Linux user: one has no
      // document, the other's document has Run As turned off.
      permissionSets: [
        ...org.permissionSets,
        { name: 'NoShell', assignments: [{ user: 'alice', accounts: [PROD] }] },
        { name: 'NoRunAs', assignments: [{ user: 'alice', accounts: [PROD] }] },
        // Valid permission set names that a plain object answers with built-ins.
        ...BUILT_IN_NAMES.map((name) => ({ name, assignments: [{ user: 'alice', accounts: [PROD] }] })),
      ],
      sessionDocuments: [
        ...org.sessionDocuments,
        {
          name: 'RoleShell-NoRunAs',
          accounts: [PROD],
          content: {
            schemaVersion: '1.0',
            sessionType: 'Standard_Stream',
            inputs: { runAsEnabled: false, runAsDefaultUser: 'ops-admin' },
          },
        },
      ],
      instances: org.instances.map((instance) =>
        instance.id === PROD_WEB_1
          ? {
              ...instance,
              tags: {
                ...instance.tags,
                'roleshell:permission-sets': `${instance.tags['roleshell:permission-sets']},NoShell,NoRunAs`,
              },
            }
          : instance,
      ),
      roles: [
        ...org.roles,
        {
          name: 'CiDeployer',
          accounts: [PROD],
          trust: { services: ['lambda.amazonaws.com'] },
          policy: { actions: ['lambda:InvokeFunction'] },
        },
      ],
      functions: [
        ...org.functions,
        {
          name: 'ci-credentials',
          account: PROD,
          region: REGION,
          module: 'broker/src/fixtures/executionCredentialsFunction.ts',
          handler: 'handler',
          role: 'CiDeployer',
          invokers: ['org'],
        },
      ],
    } as OrgFile,
  });
  invoker = new BrokerInvoker(sandbox);
  aliceToken = await signIn(sandbox, 'alice');
  for (const permissionSet of Object.keys(LINUX_USERS))
    alice[permissionSet] = await roleCredentials(sandbox, aliceToken, PROD, permissionSet);
  aliceDevInDev = await roleCredentials(sandbox, aliceToken, DEV, 'Developer');
  aliceNoShell = await roleCredentials(sandbox, aliceToken, PROD, 'NoShell');
  aliceNoRunAs = await roleCredentials(sandbox, aliceToken, PROD, 'NoRunAs');
  aliceAdminInCentral = await roleCredentials(sandbox, aliceToken, CENTRAL, 'AdministratorAccess');
  bobReadOnly = await roleCredentials(sandbox, await signIn(sandbox, 'bob'), PROD, 'ReadOnly');

  const lambda = new LambdaClient({
    region: REGION,
    endpoint: sandbox.endpoint,
    credentials: alice.Developer!,
  });
  const leaked = await lambda.send(
    new InvokeCommand({ FunctionName: `arn:aws:lambda:${REGION}:${PROD}:function:ci-credentials` }),
  );
  lambda.destroy();
  ciRole = JSON.parse(new TextDecoder().decode(leaked.Payload)) as RoleCredentials;
}, 120_000);

afterAll(async () => {
  invoker?.destroy();
  await sandbox?.close();
});

const startRequest = (instanceId = PROD_WEB_1, extra: object = {}) => ({
  action: 'startSession',
  region: REGION,
  instanceId,
  ...extra,
});

/** The request with a fresh proof signed for it. */
async function withProof(credentials: RoleCredentials, request: BrokerPayload) {
  return { ...request, identity: await proofFor(sandbox, credentials, request) };
}

async function start(credentials: RoleCredentials, instanceId = PROD_WEB_1): Promise<StartSessionResult> {
  const response = await invoker.call(credentials, startRequest(instanceId));
  if (!response.ok) throw new Error(`startSession refused: ${response.error.code} ${response.error.message}`);
  return response as StartSessionResult;
}

async function terminate(credentials: RoleCredentials, sessionId: string): Promise<BrokerResponse> {
  return invoker.call(credentials, { action: 'terminateSession', region: REGION, sessionId });
}

describe('per-permission-set Linux users', () => {
  it('gives each permission set of the default org its own Linux user on the same instance', async () => {
    const seen: Record<string, string> = {};
    for (const [permissionSet, linuxUser] of Object.entries(LINUX_USERS)) {
      const result = await start(alice[permissionSet]!);
      seen[permissionSet] = result.linuxUser;
      expect(result.documentName).toBe(`RoleShell-${permissionSet}`);
      expect(result.target).toEqual({ instanceId: PROD_WEB_1, region: REGION, accountId: PROD });
      expect(result.session.SessionId).toMatch(/^alice-[0-9a-f]+$/);
      expect(result.session.StreamUrl).toContain(`/v1/data-channel/${result.session.SessionId}`);
      // The sandbox's SSM decided the run-as user from the document alone (the target role has no SSMSessionRunAs).
      const session = sandbox.sessions.get(result.session.SessionId)!;
      expect(session.runAsUser).toBe(linuxUser);
      expect(session.reason).toBe(`RoleShell for alice via ${permissionSet}`);
      expect(session.owner).toBe(`arn:aws:sts::${PROD}:assumed-role/RoleShellTarget/alice`);
      expect(await terminate(alice[permissionSet]!, result.session.SessionId)).toEqual({
        ok: true,
        sessionId: result.session.SessionId,
      });
    }
    expect(seen).toEqual(LINUX_USERS);
  });

  it('attributes StartSession to the user in CloudTrail through SourceIdentity', async () => {
    const { session } = await start(alice.Support_Tier1!);
    const event = startSessionEvents().find((e) => e.responseElements?.sessionId === session.SessionId);
    expect(event).toBeDefined();
    expect(event!.userIdentity.sessionContext?.sourceIdentity).toBe('alice');
    expect(event!.userIdentity.arn).toBe(`arn:aws:sts::${PROD}:assumed-role/RoleShellTarget/alice`);
    expect(event!.requestParameters).toMatchObject({
      target: PROD_WEB_1,
      documentName: 'RoleShell-Support_Tier1',
    });
    const assumeRole = sandbox
      .cloudTrail()
      .find(
        (e) =>
          e.eventName === 'AssumeRole' &&
          (e.requestParameters as { roleSessionName?: string } | null)?.roleSessionName === 'alice',
      );
    expect(assumeRole?.requestParameters).toMatchObject({
      sourceIdentity: 'alice',
      roleArn: `arn:aws:iam::${PROD}:role/RoleShellTarget`,
    });
    // The CloudTrail log served over HTTP says the same.
    const served = (await (await fetch(new URL('/_sandbox/cloudtrail', sandbox.endpoint))).json()) as unknown;
    expect(JSON.stringify(served)).toContain(session.SessionId);
    await terminate(alice.Support_Tier1!, session.SessionId);
  });

  it('audits the intent before the session and the session after', async () => {
    const { session } = await start(alice.ReadOnly!);
    const records = auditRecords().filter(
      (r) => r.action === 'startSession' && r.permissionSet === 'ReadOnly',
    );
    const allowed = records.findLast((r) => r.outcome === 'allowed');
    const started = records.find((r) => r.sessionId === session.SessionId);
    expect(allowed?.requestId).toBe(started?.requestId);
    expect(started).toMatchObject({
      outcome: 'started',
      user: 'alice',
      account: PROD,
      permissionSet: 'ReadOnly',
      region: REGION,
      instanceId: PROD_WEB_1,
      documentName: 'RoleShell-ReadOnly',
      linuxUser: 'auditor',
    });
    expect(started?.userId).toMatch(/^AROA[A-Z0-9]+:alice$/);
    await terminate(alice.ReadOnly!, session.SessionId);
    expect(
      auditRecords().find((r) => r.outcome === 'terminated' && r.sessionId === session.SessionId),
    ).toMatchObject({ user: 'alice' });
  });

  it.skipIf(process.getuid?.() !== 0)(
    'runs the shell as the mapped user: whoami over the data channel',
    async () => {
      for (const permissionSet of ['AdministratorAccess', 'Developer']) {
        const { session, linuxUser } = await start(alice[permissionSet]!);
        const client = await DataChannelClient.open(session.StreamUrl, session.TokenValue);
        try {
          // The terminal echoes the command too; only the shell's answer has a name after the marker.
          const WHO = /RS_WHO=([a-z_][a-z0-9_.-]*)/;
          let output = '';
          const answered = new Promise<void>((resolve) => {
            client.on('output', (chunk) => {
              output += chunk.toString('utf8');
              if (WHO.test(output)) resolve();
            });
          });
          client.sendInput('echo RS_WHO=$(whoami)\r');
          await answered;
          expect(WHO.exec(output)?.[1]).toBe(linuxUser);
        } finally {
          client.close();
          await terminate(alice[permissionSet]!, session.SessionId);
        }
      }
    },
  );

  it('lists what each permission set may reach, with its Linux user', async () => {
    const response = await invoker.call(alice.Developer!, {
      action: 'listTargets',
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(response).toMatchObject({
      ok: true,
      permissionSet: 'Developer',
      linuxUser: 'developer',
      documentName: 'RoleShell-Developer',
    });
    if (!response.ok || !('targets' in response)) throw new Error('no listing');
    expect(response.targets.map((t) => t.instanceId).sort()).toEqual(
      [PROD_WEB_1, 'i-0a1b2c3d4e5f60005'].sort(),
    );
    const admin = await invoker.call(alice.AdministratorAccess!, {
      action: 'listTargets',
      region: 'eu-west-1',
    });
    if (!admin.ok || !('targets' in admin)) throw new Error('no listing');
    expect(admin.targets.map((t) => [t.instanceId, t.pingStatus, t.linuxUser])).toEqual(
      expect.arrayContaining([
        [PROD_DB_1, 'Online', 'ops-admin'],
        [PROD_LEGACY_1, 'ConnectionLost', 'ops-admin'],
      ]),
    );
  });
});

/** Sends a request and checks: the code, no session started (sandbox store and CloudTrail), and the denial audited. */
async function expectRefused(
  credentials: RoleCredentials,
  payload: unknown,
  code: BrokerErrorCode,
): Promise<AuditRecord> {
  const sessionsBefore = sandbox.sessions.list().length;
  const startEventsBefore = startSessionEvents().length;
  const auditBefore = auditRecords().length;
  const response = await invoker.invoke(credentials, payload);
  expect(response).toEqual({ ok: false, error: { code, message: expect.any(String) } });
  expect(sandbox.sessions.list()).toHaveLength(sessionsBefore);
  expect(startSessionEvents()).toHaveLength(startEventsBefore);
  const newRecords = auditRecords().slice(auditBefore);
  expect(newRecords).toEqual([expect.objectContaining({ outcome: 'denied', code })]);
  // Messages never quote the broker's own roles or AWS errors.
  expect(JSON.stringify(response)).not.toMatch(
    /RoleShellTarget|RoleShellBrokerExecution|Exception|SignatureDoesNotMatch/,
  );
  return newRecords[0]!;
}

describe('refusals', () => {
  const signedRequest = async (
    credentials: RoleCredentials,
    proof: IdentityProof | Promise<IdentityProof>,
  ) => ({
    ...startRequest(),
    identity: await proof,
  });

  it('refuses a proof signed with the wrong secret for a real access key', async () => {
    const forged = { ...alice.Developer!, secretAccessKey: 'not-the-secret' };
    const record = await expectRefused(
      alice.Developer!,
      await signedRequest(alice.Developer!, proofFor(sandbox, forged, startRequest())),
      'IdentityRejected',
    );
    expect(record.reason).toMatch(/STS rejected the proof/);
  });

  it('refuses a tampered proof: audience swapped after signing, signature altered', async () => {
    const other = await proofFor(sandbox, alice.Developer!, startRequest(), {
      audience: `${sandbox.brokerFunctionArn}-other`,
    });
    other.headers[AUDIENCE_HEADER] = sandbox.brokerFunctionArn;
    await expectRefused(alice.Developer!, await signedRequest(alice.Developer!, other), 'IdentityRejected');
    const altered = await proofFor(sandbox, alice.Developer!, startRequest());
    altered.headers.authorization = altered.headers.authorization!.replace(
      /Signature=([0-9a-f])/,
      (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`,
    );
    await expectRefused(alice.Developer!, await signedRequest(alice.Developer!, altered), 'IdentityRejected');
  });

  it('refuses a proof without the audience header, with it unsigned, or for another function', async () => {
    const missing = await proofFor(sandbox, alice.Developer!, startRequest());
    delete missing.headers[AUDIENCE_HEADER];
    expect(
      (
        await expectRefused(
          alice.Developer!,
          await signedRequest(alice.Developer!, missing),
          'IdentityRejected',
        )
      ).reason,
    ).toMatch(/no x-roleshell-audience/);

    const request = new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: Number(new URL(sandbox.endpoint).port),
      path: '/',
      headers: {
        host: new URL(sandbox.endpoint).host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        [AUDIENCE_HEADER]: sandbox.brokerFunctionArn,
      },
      body: GET_CALLER_IDENTITY_BODY,
    });
    const signer = new SignatureV4({
      credentials: alice.Developer!,
      region: REGION,
      service: 'sts',
      sha256: Hash.bind(null, 'sha256'),
    });
    const unsigned = await signer.sign(request, { unsignableHeaders: new Set([AUDIENCE_HEADER]) });
    const unsignedProof: IdentityProof = {
      method: 'POST',
      url: `${sandbox.endpoint}/`,
      headers: unsigned.headers as Record<string, string>,
      body: GET_CALLER_IDENTITY_BODY,
    };
    expect(
      (
        await expectRefused(
          alice.Developer!,
          await signedRequest(alice.Developer!, unsignedProof),
          'IdentityRejected',
        )
      ).reason,
    ).toMatch(/not in SignedHeaders/);

    const elsewhere = proofFor(sandbox, alice.Developer!, startRequest(), {
      audience: `arn:aws:lambda:${REGION}:111111111111:function:someone-elses-function`,
    });
    expect(
      (
        await expectRefused(
          alice.Developer!,
          await signedRequest(alice.Developer!, elsewhere),
          'IdentityRejected',
        )
      ).reason,
    ).toMatch(/is not this broker/);
  });

  it('never contacts a non-STS host that would vouch for a forged identity', async () => {
    let contacted = 0;
    const forger = http.createServer((_req, res) => {
      contacted++;
      res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::${PROD}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice</Arn><UserId>AROAFORGED:alice</UserId><Account>${PROD}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`,
        );
    });
    await new Promise<void>((resolve) => forger.listen(0, '127.0.0.1', resolve));
    try {
      const forgerUrl = `http://127.0.0.1:${(forger.address() as AddressInfo).port}`;
      const proof = await proofFor(sandbox, bobReadOnly, startRequest(PROD_DB_1), { endpoint: forgerUrl });
      const record = await expectRefused(
        bobReadOnly,
        { ...startRequest(PROD_DB_1), identity: proof },
        'IdentityRejected',
      );
      expect(record.reason).toMatch(/not an allowed STS endpoint/);
      // Same with an https look-alike of STS's name and with the real STS host plus a path.
      await expectRefused(
        bobReadOnly,
        {
          ...startRequest(PROD_DB_1),
          identity: { ...proof, url: 'https://sts.eu-west-1.amazonaws.com.127.0.0.1.nip.io/' },
        },
        'IdentityRejected',
      );
      expect(contacted).toBe(0);
    } finally {
      forger.closeAllConnections();
      await new Promise((resolve) => forger.close(resolve));
    }
  });

  it('refuses stale and future-dated proofs', async () => {
    const stale = proofFor(sandbox, alice.Developer!, startRequest(), {
      signingDate: new Date(Date.now() - 6 * 60_000),
    });
    expect(
      (
        await expectRefused(
          alice.Developer!,
          await signedRequest(alice.Developer!, stale),
          'IdentityRejected',
        )
      ).reason,
    ).toMatch(/older than 5 minutes/);
    const future = proofFor(sandbox, alice.Developer!, startRequest(), {
      signingDate: new Date(Date.now() + 10 * 60_000),
    });
    expect(
      (
        await expectRefused(
          alice.Developer!,
          await signedRequest(alice.Developer!, future),
          'IdentityRejected',
        )
      ).reason,
    ).toMatch(/in the future/);
  });

  it('refuses an oversized proof and a wrong body', async () => {
    const big = await proofFor(sandbox, alice.Developer!, startRequest());
    big.headers['x-padding'] = 'p'.repeat(9000);
    expect(
      (await expectRefused(alice.Developer!, await signedRequest(alice.Developer!, big), 'IdentityRejected'))
        .reason,
    ).toMatch(/over 8192 bytes/);
    const body = await proofFor(sandbox, alice.Developer!, startRequest());
    body.body = 'Action=GetCallerIdentity&Version=2011-06-15&Extra=1';
    expect(
      (await expectRefused(alice.Developer!, await signedRequest(alice.Developer!, body), 'IdentityRejected'))
        .reason,
    ).toMatch(/body/);
  });

  it('refuses a role that is not an IdC permission set', async () => {
    const record = await expectRefused(
      ciRole,
      await signedRequest(ciRole, proofFor(sandbox, ciRole, startRequest())),
      'IdentityRejected',
    );
    expect(record.reason).toMatch(/assumed-role\/CiDeployer\/.* is not an AWSReservedSSO_ assumed role/);
  });

  it('refuses an instance in another account', async () => {
    // Named without an account, it is looked up in the caller's own account only.
    const notFound = await expectRefused(
      alice.Developer!,
      await withProof(alice.Developer!, startRequest(STAGING_APP_1)),
      'TargetNotFound',
    );
    expect(notFound).toMatchObject({ user: 'alice', permissionSet: 'Developer', instanceId: STAGING_APP_1 });
    // Named with its account, the broker refuses to leave the caller's account.
    await expectRefused(
      alice.Developer!,
      await withProof(alice.Developer!, startRequest(STAGING_APP_1, { accountId: STAGING })),
      'AccessDenied',
    );
  });

  it('refuses an account that has no member role for the broker as AccessDenied, not Internal', async () => {
    const record = await expectRefused(
      aliceAdminInCentral,
      await withProof(aliceAdminInCentral, startRequest(PROD_WEB_1)),
      'AccessDenied',
    );
    expect(record.reason).toMatch(/AssumeRole .* refused/);
    const listed = await invoker.call(aliceAdminInCentral, { action: 'listTargets', region: REGION });
    expect(listed).toEqual({
      ok: false,
      error: { code: 'AccessDenied', message: expect.stringContaining(`not set up in account ${CENTRAL}`) },
    });
  });

  it('refuses an untagged instance and one tagged for another permission set', async () => {
    await expectRefused(
      aliceDevInDev,
      await withProof(aliceDevInDev, startRequest(DEV_BUILD_1)),
      'AccessDenied',
    );
    const record = await expectRefused(
      alice.Developer!,
      await withProof(alice.Developer!, startRequest(PROD_DB_1)),
      'AccessDenied',
    );
    expect(record.reason).toMatch(/does not list Developer/);
  });

  it('refuses a permission set with no Linux user mapped, with no fallback user', async () => {
    const noDocument = await expectRefused(
      aliceNoShell,
      await withProof(aliceNoShell, startRequest(PROD_WEB_1)),
      'AccessDenied',
    );
    expect(noDocument.reason).toMatch(/document RoleShell-NoShell not found/);
    const runAsOff = await expectRefused(
      aliceNoRunAs,
      await withProof(aliceNoRunAs, startRequest(PROD_WEB_1)),
      'AccessDenied',
    );
    expect(runAsOff.reason).toMatch(/runAsEnabled off/);
    expect(await invoker.call(aliceNoShell, { action: 'listTargets', region: REGION })).toMatchObject({
      ok: false,
      error: { code: 'AccessDenied' },
    });
  });

  it('refuses an instance that is not connected: StartSession says so, and nothing starts', async () => {
    // Connectivity is StartSession's own check: the broker allows, SSM refuses, the trail shows both.
    const sessionsBefore = sandbox.sessions.list().length;
    const startEventsBefore = startSessionEvents().length;
    const auditBefore = auditRecords().length;
    const response = await invoker.invoke(
      alice.AdministratorAccess!,
      await withProof(alice.AdministratorAccess!, startRequest(PROD_LEGACY_1)),
    );
    expect(response).toEqual({
      ok: false,
      error: { code: 'TargetNotConnected', message: expect.stringMatching(/SSM agent is online/) },
    });
    expect(sandbox.sessions.list()).toHaveLength(sessionsBefore);
    expect(startSessionEvents().slice(startEventsBefore)).toEqual([
      expect.objectContaining({ errorCode: 'TargetNotConnected' }),
    ]);
    expect(auditRecords().slice(auditBefore)).toEqual([
      expect.objectContaining({ outcome: 'allowed', instanceId: PROD_LEGACY_1 }),
      expect.objectContaining({ outcome: 'denied', code: 'TargetNotConnected' }),
    ]);
  });

  it('refuses a malformed instance id, a region it does not serve and an unknown action', async () => {
    await expectRefused(
      alice.Developer!,
      await withProof(alice.Developer!, startRequest('i-0a1b2c3d4e5f6000G')),
      'InvalidRequest',
    );
    await expectRefused(
      alice.Developer!,
      await withProof(alice.Developer!, startRequest(PROD_WEB_1, { region: 'ap-south-1' })),
      'InvalidRequest',
    );
    await expectRefused(
      alice.Developer!,
      await withProof(alice.Developer!, { action: 'sendCommand', region: REGION, instanceId: PROD_WEB_1 }),
      'InvalidRequest',
    );
  });

  it("refuses to terminate someone else's session", async () => {
    const { session } = await start(alice.Developer!);
    try {
      const response = await invoker.call(bobReadOnly, {
        action: 'terminateSession',
        region: REGION,
        sessionId: session.SessionId,
      });
      expect(response).toEqual({ ok: false, error: { code: 'AccessDenied', message: expect.any(String) } });
      expect(sandbox.sessions.get(session.SessionId)?.status).not.toBe('Terminated');
      expect(
        sandbox
          .cloudTrail()
          .some(
            (e) =>
              e.eventName === 'TerminateSession' &&
              JSON.stringify(e.requestParameters).includes(session.SessionId),
          ),
      ).toBe(false);
      expect(auditRecords().findLast((r) => r.action === 'terminateSession')).toMatchObject({
        outcome: 'denied',
        code: 'AccessDenied',
        user: 'bob',
      });
    } finally {
      await terminate(alice.Developer!, session.SessionId);
    }
  });
});

describe('request-bound, single-use proofs', () => {
  it("refuses Alice's proof used by Bob for another request, before STS sees it", async () => {
    const alicesProof = await proofFor(sandbox, alice.AdministratorAccess!, startRequest(PROD_WEB_1));
    const stsCallsBefore = sandbox.cloudTrail().filter((e) => e.eventName === 'GetCallerIdentity').length;
    const record = await expectRefused(
      bobReadOnly,
      { ...startRequest(PROD_DB_1), identity: alicesProof },
      'IdentityRejected',
    );
    expect(record.reason).toMatch(/x-roleshell-request .* does not match the request received/);
    expect(sandbox.cloudTrail().filter((e) => e.eventName === 'GetCallerIdentity')).toHaveLength(
      stsCallsBefore,
    );
    // Nor for listing in another region, nor for ending a session.
    const listing = await proofFor(sandbox, alice.Developer!, { action: 'listTargets', region: REGION });
    await expectRefused(
      bobReadOnly,
      { action: 'listTargets', region: 'us-east-1', identity: listing },
      'IdentityRejected',
    );
    await expectRefused(
      bobReadOnly,
      { action: 'terminateSession', region: REGION, sessionId: 'alice-0123456789abcdef0', identity: listing },
      'IdentityRejected',
    );
  });

  it('refuses a request header rewritten to match another request: STS finds the signature broken', async () => {
    const proof = await proofFor(sandbox, alice.Developer!, startRequest(PROD_WEB_1));
    const other = startRequest('i-0a1b2c3d4e5f60005');
    proof.headers[REQUEST_HEADER] = requestDigest(proofRequestFor(other));
    const record = await expectRefused(alice.Developer!, { ...other, identity: proof }, 'IdentityRejected');
    expect(record.reason).toMatch(/STS rejected the proof: SignatureDoesNotMatch/);
  });

  it('refuses a proof without the request header or with it unsigned', async () => {
    const missing = await proofFor(sandbox, alice.Developer!, startRequest());
    delete missing.headers[REQUEST_HEADER];
    expect(
      (await expectRefused(alice.Developer!, { ...startRequest(), identity: missing }, 'IdentityRejected'))
        .reason,
    ).toMatch(/no x-roleshell-request/);

    const endpoint = new URL(sandbox.endpoint);
    const request = new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: endpoint.hostname,
      port: Number(endpoint.port),
      path: '/',
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        [AUDIENCE_HEADER]: sandbox.brokerFunctionArn,
        [REQUEST_HEADER]: requestDigest(proofRequestFor(startRequest())),
      },
      body: GET_CALLER_IDENTITY_BODY,
    });
    const signer = new SignatureV4({
      credentials: alice.Developer!,
      region: REGION,
      service: 'sts',
      sha256: Hash.bind(null, 'sha256'),
    });
    const unsigned = await signer.sign(request, { unsignableHeaders: new Set([REQUEST_HEADER]) });
    const proof: IdentityProof = {
      method: 'POST',
      url: `${sandbox.endpoint}/`,
      headers: unsigned.headers as Record<string, string>,
      body: GET_CALLER_IDENTITY_BODY,
    };
    expect(
      (await expectRefused(alice.Developer!, { ...startRequest(), identity: proof }, 'IdentityRejected'))
        .reason,
    ).toMatch(/x-roleshell-request is not in SignedHeaders/);
  });

  it('accepts a startSession proof once: the same invoke again (by anyone) starts nothing', async () => {
    const payload = await withProof(alice.Developer!, startRequest());
    const first = await invoker.invoke(alice.Developer!, payload);
    if (!first.ok) throw new Error(`first start refused: ${first.error.code}`);
    const { session } = first as StartSessionResult;
    try {
      const replay = await expectRefused(alice.Developer!, payload, 'IdentityRejected');
      expect(replay).toMatchObject({ user: 'alice', permissionSet: 'Developer', instanceId: PROD_WEB_1 });
      expect(replay.reason).toMatch(/proof replayed/);
      const byBob = await expectRefused(bobReadOnly, payload, 'IdentityRejected');
      expect(byBob.reason).toMatch(/proof replayed/);
    } finally {
      await terminate(alice.Developer!, session.SessionId);
    }
  });

  it('lets a listTargets proof repeat its own request', async () => {
    const payload = await withProof(alice.Developer!, { action: 'listTargets', region: REGION });
    expect((await invoker.invoke(alice.Developer!, payload)).ok).toBe(true);
    expect((await invoker.invoke(alice.Developer!, payload)).ok).toBe(true);
  });
});

describe('resumeSession', () => {
  const resumeRequest = (sessionId: string) => ({ action: 'resumeSession', region: REGION, sessionId });
  const resumeEvents = (sessionId: string) =>
    sandbox
      .cloudTrail()
      .filter(
        (e) => e.eventName === 'ResumeSession' && JSON.stringify(e.requestParameters).includes(sessionId),
      );

  it("gives the session's own user a new token that the data channel accepts on a redial", async () => {
    const { session } = await start(alice.Developer!);
    const client = await DataChannelClient.open(session.StreamUrl, session.TokenValue);
    try {
      const transcript = new Transcript();
      client.on('output', transcript.append);
      client.sendInput('echo "before $((20+1))"\r');
      await transcript.waitFor(/before 21\r\n/);

      // Resumed from another of alice's permission sets: the session is the user's, not the role's.
      const response = await invoker.call(alice.ReadOnly!, resumeRequest(session.SessionId));
      if (!response.ok) throw new Error(`resume refused: ${response.error.code} ${response.error.message}`);
      const resumed = (response as ResumeSessionResult).session;
      expect(resumed.SessionId).toBe(session.SessionId);
      expect(resumed.StreamUrl).toBe(session.StreamUrl);
      expect(resumed.TokenValue).not.toBe(session.TokenValue);
      expect(sandbox.sessions.get(session.SessionId)?.tokens).toContain(resumed.TokenValue);
      // ResumeSession ran as the member target role for alice, not as the caller's permission set.
      expect(resumeEvents(session.SessionId).map((e) => e.userIdentity.arn)).toEqual([
        `arn:aws:sts::${PROD}:assumed-role/RoleShellTarget/alice`,
      ]);
      expect(auditRecords().findLast((r) => r.action === 'resumeSession')).toMatchObject({
        outcome: 'resumed',
        user: 'alice',
        permissionSet: 'ReadOnly',
        sessionId: session.SessionId,
        instanceId: PROD_WEB_1,
      });

      await client.resume(resumed.TokenValue);
      client.sendInput('echo "after $((40+2))"\r');
      await transcript.waitFor(/after 42\r\n/);
    } finally {
      client.close();
      await terminate(alice.Developer!, session.SessionId);
    }
  });

  it("refuses another user's session and audits it; no token is made", async () => {
    const { session } = await start(alice.Developer!);
    try {
      const tokens = sandbox.sessions.get(session.SessionId)!.tokens.length;
      const record = await expectRefused(
        bobReadOnly,
        await withProof(bobReadOnly, resumeRequest(session.SessionId)),
        'AccessDenied',
      );
      expect(record).toMatchObject({ action: 'resumeSession', user: 'bob', sessionId: session.SessionId });
      expect(sandbox.sessions.get(session.SessionId)!.tokens).toHaveLength(tokens);
      expect(resumeEvents(session.SessionId)).toEqual([]);
    } finally {
      await terminate(alice.Developer!, session.SessionId);
    }
  });

  it('refuses a replayed resume proof: one token per proof', async () => {
    const { session } = await start(alice.Developer!);
    try {
      const payload = await withProof(alice.Developer!, resumeRequest(session.SessionId));
      expect((await invoker.invoke(alice.Developer!, payload)).ok).toBe(true);
      const replay = await expectRefused(alice.Developer!, payload, 'IdentityRejected');
      expect(replay.reason).toMatch(/proof replayed/);
      expect(resumeEvents(session.SessionId)).toHaveLength(1);
      // A proof for terminating the session does not resume it either.
      const terminateProof = await proofFor(sandbox, alice.Developer!, {
        action: 'terminateSession',
        region: REGION,
        sessionId: session.SessionId,
      });
      await expectRefused(
        alice.Developer!,
        { ...resumeRequest(session.SessionId), identity: terminateProof },
        'IdentityRejected',
      );
    } finally {
      await terminate(alice.Developer!, session.SessionId);
    }
  });

  it('reports an ended session as not found', async () => {
    const { session } = await start(alice.Developer!);
    await terminate(alice.Developer!, session.SessionId);
    await expectRefused(
      alice.Developer!,
      await withProof(alice.Developer!, resumeRequest(session.SessionId)),
      'TargetNotFound',
    );
  });
});

describe('permission sets named like Object built-ins', () => {
  it.each(BUILT_IN_NAMES)(
    'treats %s as an unmapped permission set: AccessDenied, not Internal',
    async (name) => {
      const credentials = await roleCredentials(sandbox, aliceToken, PROD, name);
      const record = await expectRefused(
        credentials,
        await withProof(credentials, startRequest()),
        'AccessDenied',
      );
      expect(record).toMatchObject({ permissionSet: name, user: 'alice' });
      expect(record.reason).toBe(`document RoleShell-${name} not found in ${PROD}/${REGION}`);
      expect(await invoker.call(credentials, { action: 'listTargets', region: REGION })).toMatchObject({
        ok: false,
        error: {
          code: 'AccessDenied',
          message: expect.stringContaining(`Permission set ${name} has no Linux user`),
        },
      });
    },
  );
});

// Last in the file: it recreates one of alice's permission-set roles.
describe('role origin: only roles IAM Identity Center made', () => {
  const IMPOSTOR = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';

  async function assume(credentials: RoleCredentials, roleName: string): Promise<RoleCredentials> {
    const sts = new STSClient({ region: REGION, endpoint: sandbox.endpoint, credentials });
    try {
      const { Credentials: c } = await sts.send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${PROD}:role/${roleName}`, RoleSessionName: 'alice' }),
      );
      return {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      };
    } finally {
      sts.destroy();
    }
  }
  const getRoleEvents = (roleName: string) =>
    sandbox
      .cloudTrail()
      .filter(
        (e) =>
          e.eventName === 'GetRole' &&
          (e.requestParameters as { roleName?: string } | null)?.roleName === roleName,
      );

  it('reads the real role once, in its own account, as the member target role', async () => {
    const roleName = developerRoleName();
    expect((await invoker.call(alice.Developer!, { action: 'listTargets', region: REGION })).ok).toBe(true);
    expect((await invoker.call(alice.Developer!, { action: 'listTargets', region: REGION })).ok).toBe(true);
    const events = getRoleEvents(roleName);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      eventSource: 'iam.amazonaws.com',
      recipientAccountId: PROD,
      userIdentity: { arn: `arn:aws:sts::${PROD}:assumed-role/RoleShellTarget/alice` },
    });
    expect(events[0]!.errorCode).toBeUndefined();
  });

  it('refuses an ordinary role named like a permission-set role, assumed with RoleSessionName=alice', async () => {
    const impostor = await assume(bobReadOnly, IMPOSTOR);
    const record = await expectRefused(
      impostor,
      await withProof(impostor, startRequest(PROD_DB_1)),
      'IdentityRejected',
    );
    // The name alone would have made it alice with AdministratorAccess.
    expect(record).toMatchObject({ user: 'alice', permissionSet: 'AdministratorAccess', account: PROD });
    expect(record.reason).toMatch(/has path \/, not IAM Identity Center's/);
    const listed = await invoker.call(impostor, { action: 'listTargets', region: REGION });
    expect(listed).toMatchObject({ ok: false, error: { code: 'IdentityRejected' } });
    // The refusal is cached like an acceptance: IAM was asked once.
    expect(getRoleEvents(IMPOSTOR)).toHaveLength(1);
  });

  it('refuses a permission-set role deleted and created again as an ordinary role, though the real one was cached', async () => {
    const roleName = supportRoleName();
    const real = sandbox.iam.getRole(PROD, roleName)!;
    expect((await invoker.call(alice.Support_Tier1!, { action: 'listTargets', region: REGION })).ok).toBe(
      true,
    );
    const recreated = sandbox.iam.recreateRole(PROD, roleName, {
      trust: { principals: [PROD] },
      policy: { actions: ['lambda:InvokeFunction'] },
    });
    expect(recreated.roleId).not.toBe(real.roleId);
    const impostor = await assume(bobReadOnly, roleName);
    const record = await expectRefused(
      impostor,
      await withProof(impostor, startRequest(PROD_WEB_1)),
      'IdentityRejected',
    );
    expect(record).toMatchObject({ user: 'alice', permissionSet: 'Support_Tier1' });
    expect(record.reason).toMatch(/has path \/,/);
    // Alice's session of the deleted role is refused as well: IAM now names another role.
    const stale = await expectRefused(
      alice.Support_Tier1!,
      await withProof(alice.Support_Tier1!, startRequest(PROD_WEB_1)),
      'IdentityRejected',
    );
    expect(stale.userId).toBe(`${real.roleId}:alice`);
  });

  it('refuses a session of a deleted role that IdC provisioned again (same path, new RoleId)', async () => {
    // A role no test used before, so nothing is cached for it (a cached answer lives roleCacheSeconds).
    const credentials = await roleCredentials(sandbox, aliceToken, DEV, 'AdministratorAccess');
    const roleName = permissionSetRole(DEV, 'AdministratorAccess');
    const before = sandbox.iam.getRole(DEV, roleName)!;
    sandbox.iam.recreateRole(DEV, roleName, { path: before.path });
    const record = await expectRefused(
      credentials,
      await withProof(credentials, startRequest('i-0c1b2c3d4e5f60008', { region: 'us-east-1' })),
      'IdentityRejected',
    );
    expect(record.reason).toMatch(/deleted and recreated/);
  });
});
