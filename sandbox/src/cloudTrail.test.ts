import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrail, redact, roleSessionIdentity, type CloudTrailEvent } from './cloudTrail';
import { CredentialStore } from './identity/principals';
import { startSandbox, type Sandbox } from './index';
import { defaultOrgWith } from './testing/orgs';
import { PROD, testRoles } from './testing/roles';
import { assumeRole, clientConfig, permissionSetCredentials, signIn } from './testing/sdk';

describe('CloudTrail-style log', () => {
  let sandbox: Sandbox;
  let dir: string;
  let file: string;
  const secrets: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roleshell-trail-'));
    file = join(dir, 'trail.jsonl');
    sandbox = await startSandbox({
      approve: 'alice',
      org: defaultOrgWith({ roles: testRoles }),
      cloudTrailFile: file,
    });
    const signedIn = await signIn(sandbox);
    secrets.push(signedIn.accessToken, signedIn.refreshToken!, signedIn.clientSecret);
    const ps = await permissionSetCredentials(sandbox, signedIn.accessToken, PROD, 'Developer');
    secrets.push(ps.secretAccessKey, ps.sessionToken!);
    const chained = await assumeRole(sandbox, ps, {
      RoleArn: `arn:aws:iam::${PROD}:role/ChainTarget`,
      RoleSessionName: 'alice',
      SourceIdentity: 'alice',
    });
    secrets.push(chained.secretAccessKey, chained.sessionToken!);
    const out = await new SSMClient(clientConfig(sandbox, 'eu-west-1', chained)).send(
      new StartSessionCommand({
        Target: 'i-0a1b2c3d4e5f60001',
        DocumentName: 'RoleShell-Developer',
        Reason: 'audit me',
      }),
    );
    secrets.push(out.TokenValue!);
    // And one refused call.
    await new SSOClient(clientConfig(sandbox))
      .send(
        new GetRoleCredentialsCommand({
          accessToken: signedIn.accessToken,
          accountId: PROD,
          roleName: 'Nope',
        }),
      )
      .catch(() => undefined);
  });
  afterAll(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records every call with its source, name, identity and outcome', () => {
    const names = sandbox.cloudTrail().map((e) => `${e.eventSource}:${e.eventName}`);
    expect(names).toEqual([
      'sso-oauth.amazonaws.com:RegisterClient',
      'sso-oauth.amazonaws.com:StartDeviceAuthorization',
      'sso-oauth.amazonaws.com:CreateToken',
      'sso.amazonaws.com:GetRoleCredentials',
      'sts.amazonaws.com:AssumeRole',
      'ssm.amazonaws.com:StartSession',
      'sso.amazonaws.com:GetRoleCredentials',
    ]);
    const [assume, start, refused] = sandbox.cloudTrail().slice(4);
    expect(assume!.requestParameters).toMatchObject({ roleSessionName: 'alice', sourceIdentity: 'alice' });
    expect(assume!.userIdentity).toMatchObject({
      type: 'AssumedRole',
      accountId: PROD,
      arn: expect.stringMatching(/assumed-role\/AWSReservedSSO_Developer_[0-9a-f]{16}\/alice$/),
    });
    expect(start).toMatchObject({
      awsRegion: 'eu-west-1',
      eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      requestParameters: {
        target: 'i-0a1b2c3d4e5f60001',
        documentName: 'RoleShell-Developer',
        reason: 'audit me',
      },
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${PROD}:assumed-role/ChainTarget/alice`,
        principalId: expect.stringMatching(/^AROA[A-Z2-7]{17}:alice$/),
        sessionContext: {
          sourceIdentity: 'alice',
          sessionIssuer: {
            type: 'Role',
            arn: `arn:aws:iam::${PROD}:role/ChainTarget`,
            userName: 'ChainTarget',
          },
        },
      },
    });
    expect(start!.responseElements).toMatchObject({ sessionId: expect.stringMatching(/^alice-/) });
    expect(refused).toMatchObject({
      errorCode: 'ForbiddenException',
      errorMessage: 'No access',
      responseElements: null,
    });
    expect(new Set(sandbox.cloudTrail().map((e) => e.eventID)).size).toBe(7);
  });

  it('never contains a secret, token or key', () => {
    const text = JSON.stringify(sandbox.cloudTrail()) + readFileSync(file, 'utf8');
    expect(secrets.length).toBe(8);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain('HIDDEN_DUE_TO_SECURITY_REASONS');
  });

  it('is served at GET /_sandbox/cloudtrail, filterable by eventName, and written as JSON lines', async () => {
    const all = (await (await fetch(`${sandbox.endpoint}/_sandbox/cloudtrail`)).json()) as CloudTrailEvent[];
    expect(all.length).toBeGreaterThanOrEqual(7);
    const starts = (await (
      await fetch(`${sandbox.endpoint}/_sandbox/cloudtrail?eventName=StartSession`)
    ).json()) as CloudTrailEvent[];
    expect(starts.map((e) => e.eventName)).toEqual(['StartSession']);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CloudTrailEvent);
    expect(lines.map((e) => e.eventID)).toEqual(
      sandbox
        .cloudTrail()
        .slice(0, lines.length)
        .map((e) => e.eventID),
    );
  });
});

describe('CloudTrail in memory', () => {
  const event = (eventName: string, eventSource = 'sts.amazonaws.com') => ({
    eventSource,
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'test',
    userIdentity: { type: 'Unknown' as const },
    requestParameters: null,
    responseElements: null,
    requestID: eventName,
    readOnly: true,
  });

  it('keeps only the latest events once full, oldest first, and still counts every call', () => {
    const trail = new CloudTrail(undefined, 3);
    for (let i = 1; i <= 3; i++) trail.record(event(`Call${i}`));
    expect(trail.list().map((e) => e.eventName)).toEqual(['Call1', 'Call2', 'Call3']);
    for (let i = 4; i <= 8; i++)
      trail.record(event(`Call${i}`, i % 2 ? 'iam.amazonaws.com' : 'sts.amazonaws.com'));
    expect(trail.list().map((e) => e.eventName)).toEqual(['Call6', 'Call7', 'Call8']);
    expect(trail.list({ eventSource: 'iam.amazonaws.com' }).map((e) => e.eventName)).toEqual(['Call7']);
    // Counts cover the dropped events too: 8 calls in all.
    expect(Object.fromEntries(trail.callCounts())).toEqual({
      'sts:Call1': 1,
      'sts:Call2': 1,
      'sts:Call3': 1,
      'sts:Call4': 1,
      'iam:Call5': 1,
      'sts:Call6': 1,
      'iam:Call7': 1,
      'sts:Call8': 1,
    });
  });

  it('does not grow past its capacity over many calls', () => {
    const trail = new CloudTrail(undefined, 100);
    for (let i = 0; i < 1000; i++) trail.record(event('GetCallerIdentity'));
    expect(trail.list()).toHaveLength(100);
    expect(trail.callCounts().get('sts:GetCallerIdentity')).toBe(1000);
  });

  it("names a key's role session with one identity, made once and frozen", () => {
    const store = new CredentialStore();
    const issued = store.issue(
      { accountId: PROD, roleName: 'Caller', rolePath: '/', sessionName: 'alice', sourceIdentity: 'alice' },
      3600,
    );
    const identity = roleSessionIdentity(issued);
    expect(roleSessionIdentity(issued)).toBe(identity);
    expect(identity).toMatchObject({
      type: 'AssumedRole',
      arn: `arn:aws:sts::${PROD}:assumed-role/Caller/alice`,
      sessionContext: { sourceIdentity: 'alice', sessionIssuer: { userName: 'Caller' } },
    });
    expect(Object.isFrozen(identity) && Object.isFrozen(identity.sessionContext!.sessionIssuer)).toBe(true);
    const other = store.issue(
      { accountId: PROD, roleName: 'Caller', rolePath: '/', sessionName: 'bob' },
      3600,
    );
    expect(roleSessionIdentity(other).arn).toBe(`arn:aws:sts::${PROD}:assumed-role/Caller/bob`);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new CloudTrail(undefined, 0)).toThrow(/positive integer/);
    expect(() => new CloudTrail(undefined, 1.5)).toThrow(/positive integer/);
  });
});

describe('redact', () => {
  it('hides secret-bearing keys at any depth and keeps the rest', () => {
    expect(
      redact({
        a: 1,
        credentials: { accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't' },
        list: [{ tokenValue: 'x' }],
      }),
    ).toEqual({
      a: 1,
      credentials: {
        accessKeyId: 'ASIA',
        secretAccessKey: 'HIDDEN_DUE_TO_SECURITY_REASONS',
        sessionToken: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      },
      list: [{ tokenValue: 'HIDDEN_DUE_TO_SECURITY_REASONS' }],
    });
  });
});

describe('redact with keys named like Object built-ins', () => {
  it("keeps a __proto__ key as a key, never as the copy's prototype", () => {
    const copy = redact(JSON.parse('{"__proto__":{"x":"y"},"constructor":"c"}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ x: 'y' });
  });
});
