/**
 * CDK assertion tests on the synthesized templates (one synthesis for the
 * file, with the real broker bundle), plus the cdk-nag report.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleShellApp } from '../src/app';
import { synthesize } from '../src/synth';
import { brokerExecutionRoleArn, defaultConfigPath, loadInfraConfig, parseInfraConfig } from '../src/config';
import { directModeServiceControlPolicy, guardRailFiles } from '../src/policies';
import { MAX_TEMPLATE_BODY_BYTES, OrganizationStack } from '../src/stacks/organizationStack';
import { PROVISIONING_DOCUMENT } from '../src/provisioning';
import { brokerRuntimeConfig } from '../src/stacks/brokerStack';
import { generateOrg, loadOrg, type Org } from '../../sandbox/src/org/index';

const config = loadInfraConfig(defaultConfigPath);
const rawDefaultConfig = () =>
  parse(readFileSync(defaultConfigPath, 'utf8')) as { organization: Record<string, unknown> } & Record<
    string,
    unknown
  >;
let dir: string;
let built: RoleShellApp;
let broker: Template;
let member: Template;
let organization: Template;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'roleshell-infra-'));
  // @ts-expect-error: plain ESM build script without type declarations
  const { buildBroker } = (await import('../../scripts/build-broker.mjs')) as {
    buildBroker(options: { outDir: string; minify?: boolean }): Promise<{ outfile: string }>;
  };
  await buildBroker({ outDir: path.join(dir, 'broker'), minify: false });
  // What `npm run synth` does, into a folder of the test's own.
  const synthesized = synthesize(defaultConfigPath, path.join(dir, 'cdk.out'), path.join(dir, 'broker'));
  expect(synthesized.errors).toEqual([]);
  built = synthesized.built;
  broker = Template.fromStack(built.broker);
  member = Template.fromStack(built.member);
  organization = Template.fromStack(built.organization);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Json = unknown;
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: Json;
  NotResource?: Json;
  Principal?: Json;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Renders CloudFormation intrinsics as placeholders, so ARNs can be read as strings. */
function flatten(value: Json): Json {
  if (Array.isArray(value)) return value.map(flatten);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, Json>;
    if ('Fn::Join' in obj) {
      const [sep, parts] = obj['Fn::Join'] as [string, Json[]];
      return parts
        .map((p) => {
          if (typeof p === 'string') return p;
          const ref = (p as { Ref?: string }).Ref;
          return ref !== undefined ? `<${ref}>` : `<${JSON.stringify(p)}>`;
        })
        .join(sep);
    }
    if ('Ref' in obj && Object.keys(obj).length === 1) return `<${String(obj.Ref)}>`;
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, flatten(v)]));
  }
  return value;
}
const list = (v: Json): string[] =>
  v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string];

/** Every policy statement in a template: role trust and inline policies, managed policies, SCPs. */
function statementsOf(template: Template): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(
    template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, Json> }>,
  )) {
    const props = flatten(resource.Properties) as Record<string, Json>;
    const docs: Json[] = [];
    if (resource.Type === 'AWS::IAM::Role') {
      docs.push(props.AssumeRolePolicyDocument);
      for (const p of (props.Policies as { PolicyDocument: Json }[] | undefined) ?? [])
        docs.push(p.PolicyDocument);
    }
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy')
      docs.push(props.PolicyDocument);
    if (resource.Type === 'AWS::Organizations::Policy') docs.push(props.Content);
    for (const doc of docs) {
      for (const statement of (doc as { Statement: Statement[] }).Statement)
        out.push({ where: id, statement });
    }
  }
  return out;
}

/** Whether an IAM action pattern covers an action (IAM wildcards, case-insensitive). */
function actionCovers(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.?+^$()[\]{}|\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return regex.test(action);
}

const sessionInputs = z.strictObject({
  runAsEnabled: z.literal(true),
  runAsDefaultUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/),
  idleSessionTimeout: z
    .string()
    .regex(/^\d+$/)
    .refine((v) => Number(v) >= 1 && Number(v) <= 60),
  maxSessionDuration: z
    .string()
    .regex(/^\d+$/)
    .refine((v) => Number(v) >= 1 && Number(v) <= 1440),
  shellProfile: z.strictObject({ linux: z.string(), windows: z.string() }),
  s3BucketName: z.string().optional(),
  s3KeyPrefix: z.string().optional(),
  s3EncryptionEnabled: z.boolean(),
  cloudWatchLogGroupName: z.string().optional(),
  cloudWatchEncryptionEnabled: z.boolean(),
  cloudWatchStreamingEnabled: z.boolean().optional(),
  kmsKeyId: z.string().optional(),
});
const sessionDocumentSchema = z.strictObject({
  schemaVersion: z.literal('1.0'),
  description: z.string().max(1024),
  sessionType: z.literal('Standard_Stream'),
  inputs: sessionInputs,
});

describe('member template', () => {
  it('has one valid Standard_Stream session document per permission set, running as its Linux user', () => {
    const documents = member.findResources('AWS::SSM::Document', { Properties: { DocumentType: 'Session' } });
    expect(Object.keys(documents)).toHaveLength(Object.keys(config.permissionSets).length);
    for (const [permissionSet, { linuxUser }] of Object.entries(config.permissionSets)) {
      const found = Object.values(documents).find((d) => d.Properties.Name === `RoleShell-${permissionSet}`);
      if (found === undefined) throw new Error(`no session document for ${permissionSet}`);
      expect(found.Properties.UpdateMethod).toBe('NewVersion');
      expect(found.Properties.DocumentFormat).toBe('JSON');
      const content = sessionDocumentSchema.parse(found.Properties.Content);
      expect(content.inputs.runAsDefaultUser).toBe(linuxUser);
      expect(content.inputs.idleSessionTimeout).toBe('20');
      expect(content.inputs.maxSessionDuration).toBe('60');
    }
  });

  it('applies per-permission-set overrides: document name, durations, logging, KMS key', async () => {
    const custom = parseInfraConfig({
      organization: { id: 'o-a1b2c3d4e5', targetOUs: ['ou-a1b2-11111111'] },
      regions: ['eu-west-1'],
      broker: { account: '111111111111', region: 'eu-west-1' },
      sessionDefaults: { logging: { cloudWatch: { logGroupName: '/roleshell/sessions' } } },
      permissionSets: {
        Ops: {
          linuxUser: 'ops',
          documentName: 'Ops-Shell',
          idleSessionTimeoutMinutes: 5,
          maxSessionDurationMinutes: 120,
          logging: { s3: { bucketName: 'audit-bucket', keyPrefix: 'ssm/' } },
          kmsKeyId: 'alias/roleshell',
        },
      },
    });
    const { sessionDocumentFor } = await import('../src/sessionDocument');
    const document = sessionDocumentFor(custom, 'Ops');
    expect(document.name).toBe('Ops-Shell');
    expect(sessionDocumentSchema.parse(document.content).inputs).toMatchObject({
      runAsDefaultUser: 'ops',
      idleSessionTimeout: '5',
      maxSessionDuration: '120',
      cloudWatchLogGroupName: '/roleshell/sessions',
      cloudWatchStreamingEnabled: true,
      s3BucketName: 'audit-bucket',
      s3KeyPrefix: 'ssm/',
      kmsKeyId: 'alias/roleshell',
    });
  });

  it('trusts only the broker execution role, and only with a SourceIdentity', () => {
    const roles = member.findResources('AWS::IAM::Role');
    expect(Object.keys(roles)).toHaveLength(1);
    const role = Object.values(roles)[0]!;
    expect(role.Properties.RoleName).toBe('RoleShellTarget');
    const trust = flatten(role.Properties.AssumeRolePolicyDocument) as { Statement: Statement[] };
    expect(trust.Statement).toHaveLength(1);
    const [statement] = trust.Statement;
    expect(statement!.Effect).toBe('Allow');
    expect(statement!.Principal).toEqual({ AWS: brokerExecutionRoleArn(config, '<AWS::Partition>') });
    expect(list(statement!.Action).sort()).toEqual([
      'sts:AssumeRole',
      'sts:SetSourceIdentity',
      'sts:TagSession',
    ]);
    expect(statement!.Condition?.Null).toEqual({ 'sts:SourceIdentity': 'false' });
  });

  it('carries no SSMSessionRunAs tag (it would override the document’s run-as user)', () => {
    const role = Object.values(member.findResources('AWS::IAM::Role'))[0]!;
    const tags = (role.Properties.Tags ?? []) as { Key: string }[];
    expect(tags.filter((t) => t.Key === 'SSMSessionRunAs')).toEqual([]);
    expect(JSON.stringify(role.Properties.Policies)).not.toContain('SSMSessionRunAs');
  });

  it('creates the IAM role in the first region only; documents everywhere', () => {
    const role = Object.values(member.findResources('AWS::IAM::Role'))[0]!;
    expect(role.Condition).toBe('InIamRegion');
    member.hasCondition('InIamRegion', { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] });
    for (const document of Object.values(member.findResources('AWS::SSM::Document'))) {
      expect(document.Condition).toBeUndefined();
    }
  });

  it('lets the target role start sessions only with RoleShell documents, on tagged instances', () => {
    const policy = statementsOf(member).filter(({ statement }) =>
      list(statement.Action).includes('ssm:StartSession'),
    );
    const onInstances = policy.find(({ statement }) =>
      list(statement.Resource).some((r) => r.includes(':instance/')),
    );
    expect(onInstances!.statement.Condition).toEqual({
      Null: { 'ssm:resourceTag/roleshell:permission-sets': 'false' },
      BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
    });
    const onDocuments = policy.find(({ statement }) =>
      list(statement.Resource).some((r) => r.includes(':document/')),
    );
    expect(onDocuments!.statement.Condition).toEqual({
      BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
    });
    const documents = list(onDocuments!.statement.Resource).map((arn) => arn.split(':document/')[1]);
    expect(new Set(documents)).toEqual(
      new Set(Object.keys(config.permissionSets).map((p) => `RoleShell-${p}`)),
    );
  });

  it('ends or resumes only the role session’s own sessions, and reads only Identity Center roles', () => {
    const statements = statementsOf(member).map((s) => s.statement);
    const own = statements.find((s) => list(s.Action).includes('ssm:TerminateSession'))!;
    expect(list(own.Action).sort()).toEqual(['ssm:ResumeSession', 'ssm:TerminateSession']);
    expect(own.Condition).toEqual({
      StringLike: { 'ssm:resourceTag/aws:ssmmessages:session-id': '${aws:userid}' },
    });
    const getRole = statements.find((s) => list(s.Action).includes('iam:GetRole'))!;
    expect(getRole.Resource).toBe(
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-reserved/sso.amazonaws.com/*',
    );
    // Everything the broker calls with the role, and nothing else.
    expect(new Set(statements.filter((s) => s.Effect === 'Allow').flatMap((s) => list(s.Action)))).toEqual(
      new Set([
        'sts:AssumeRole',
        'sts:SetSourceIdentity',
        'sts:TagSession',
        'ssm:StartSession',
        'ssm:GetDocument',
        'ssm:TerminateSession',
        'ssm:ResumeSession',
        'iam:GetRole',
        'ssm:DescribeInstanceInformation',
        'ssm:DescribeSessions',
        'tag:GetResources',
      ]),
    );
    // The sandbox's target role (sandbox/org/default.yaml, written by generate.ts) allows the same calls.
    const permissions = statementsOf(member)
      .map((s) => s.statement)
      .filter((s) => s.Effect === 'Allow' && !list(s.Action).some((a) => a.startsWith('sts:')))
      .flatMap((s) => list(s.Action));
    const sandboxTarget = (org: Org) => org.roles.find((r) => r.name === config.member.targetRoleName)!;
    expect(new Set(sandboxTarget(loadOrg().org).policy.actions)).toEqual(new Set(permissions));
    expect(
      new Set(
        sandboxTarget(loadOrg(generateOrg({ accounts: 3, permissionSets: 2, instances: 4 })).org).policy
          .actions,
      ),
    ).toEqual(new Set(permissions));
  });

  it('provisions the mapped Linux users with a command document and a State Manager association on tagged instances', () => {
    member.hasResourceProperties('AWS::SSM::Document', {
      Name: PROVISIONING_DOCUMENT,
      DocumentType: 'Command',
      Content: Match.objectLike({ schemaVersion: '2.2' }),
    });
    member.hasResourceProperties('AWS::SSM::Association', {
      Name: PROVISIONING_DOCUMENT,
      Targets: [{ Key: 'tag-key', Values: ['roleshell:permission-sets'] }],
      ScheduleExpression: 'rate(30 minutes)',
    });
  });
});

describe('policies everywhere', () => {
  it('no policy allows ssm:StartSession on all documents', () => {
    const allDocuments = /^(\*|arn:[^:]*:ssm:[^:]*:[^:]*:(\*|document\/\*?))$/;
    const everything = [broker, member, organization].flatMap(statementsOf).map((s) => s.statement);
    for (const policy of Object.values(guardRailFiles(config)))
      everything.push(...(policy.Statement as Statement[]));
    const offenders = everything.filter(
      (s) =>
        s.Effect === 'Allow' &&
        (s.Action !== undefined
          ? list(s.Action).some((a) => actionCovers(a, 'ssm:StartSession'))
          : !list(s.NotAction).some((a) => actionCovers(a, 'ssm:StartSession'))) &&
        (s.NotResource !== undefined ||
          list(s.Resource).some(
            (r) => allDocuments.test(r) || (/:document\/[^/]*\*/.test(r) && !/:document\/RoleShell-/.test(r)),
          )),
    );
    expect(offenders).toEqual([]);
    // The test itself catches the mistake it is for.
    const bad: Statement = { Effect: 'Allow', Action: 'ssm:Start*', Resource: '*' };
    expect(
      list(bad.Action).some((a) => actionCovers(a, 'ssm:StartSession')) &&
        allDocuments.test(String(bad.Resource)),
    ).toBe(true);
  });
});

describe('broker stack', () => {
  it('runs the esbuild bundle on nodejs22.x, arm64, with reserved concurrency and the generated broker config', () => {
    broker.resourceCountIs('AWS::Lambda::Function', 1);
    const fn = Object.values(broker.findResources('AWS::Lambda::Function'))[0]!;
    expect(fn.Properties).toMatchObject({
      FunctionName: 'roleshell-broker',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 20,
    });
    expect(JSON.parse(fn.Properties.Environment.Variables.ROLESHELL_BROKER_CONFIG)).toEqual(
      brokerRuntimeConfig(config),
    );
    expect(fn.Properties.Environment.Variables.ROLESHELL_PROOF_REPLAY_TABLE).toEqual({
      Ref: expect.stringMatching(/^ProofReplayTable/),
    });
  });

  it('lets only principals of the organization invoke it', () => {
    const permissions = Object.values(broker.findResources('AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(1);
    expect(permissions[0]!.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: '*',
      PrincipalOrgID: config.organization.id,
    });
  });

  it('gives the execution role only what the broker needs', () => {
    const roles = Object.values(broker.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(1);
    const role = roles[0]!;
    expect(role.Properties.RoleName).toBe('RoleShellBrokerExecution');
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    broker.resourceCountIs('AWS::IAM::Policy', 0);
    const statements = statementsOf(broker)
      .map((s) => s.statement)
      .filter((s) => !s.Principal);
    const assume = statements.find((s) => list(s.Action).includes('sts:AssumeRole'))!;
    expect(list(assume.Action).sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']);
    expect(assume.Resource).toBe('arn:<AWS::Partition>:iam::*:role/RoleShellTarget');
    expect(assume.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': config.organization.id } });
    // Besides the target role: its own log group and its own proof table, nothing else.
    const others = statements.filter((s) => s !== assume);
    expect(others.map((s) => [list(s.Action).sort(), JSON.stringify(s.Resource)])).toEqual([
      [['logs:CreateLogStream', 'logs:PutLogEvents'], expect.stringContaining('AuditLog')],
      [['dynamodb:PutItem'], expect.stringContaining('ProofReplayTable')],
    ]);
  });

  it('keeps the audit log for the configured retention and proofs in a TTL table', () => {
    broker.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/roleshell-broker',
      RetentionInDays: 365,
    });
    broker.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
    broker.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'signature', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});

describe('organization stack', () => {
  it('deploys the member template as a service-managed StackSet with auto-deployment to the target OUs', () => {
    const stackSet = Object.values(organization.findResources('AWS::CloudFormation::StackSet'))[0]!;
    expect(stackSet.Properties).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: config.organization.targetOUs },
          Regions: config.regions,
        },
      ],
    });
    expect(JSON.parse(stackSet.Properties.TemplateBody)).toEqual(member.toJSON());
  });

  it('attaches the SCP that denies every session on tagged instances, default document included, to all but the target role', () => {
    const scp = Object.values(organization.findResources('AWS::Organizations::Policy'))[0]!;
    expect(scp.Properties.Type).toBe('SERVICE_CONTROL_POLICY');
    expect(scp.Properties.TargetIds).toEqual(config.organization.targetOUs);
    const deny = (scp.Properties.Content.Statement as Statement[]).find((s) =>
      list(s.Action).includes('ssm:StartSession'),
    )!;
    expect(deny.Effect).toBe('Deny');
    // On the instance resource, so it holds whichever document (SSM-SessionManagerRunShell too) is named.
    expect(list(deny.Resource)).toEqual(['arn:*:ec2:*:*:instance/*', 'arn:*:ssm:*:*:managed-instance/*']);
    expect(deny.Condition).toEqual({
      Null: { 'ssm:resourceTag/roleshell:permission-sets': 'false' },
      ArnNotLike: { 'aws:PrincipalArn': 'arn:*:iam::*:role/RoleShellTarget' },
    });
  });
});

describe('organization stack options', () => {
  const withScp = (serviceControlPolicy: 'broker' | 'direct' | 'none', body = '{}') =>
    new OrganizationStack(new App({ analyticsReporting: false }), 'Org', {
      config: parseInfraConfig({
        ...rawDefaultConfig(),
        organization: { ...rawDefaultConfig().organization, serviceControlPolicy },
      }),
      memberTemplateBody: body,
    });

  it('attaches the direct-mode SCP, or none, as configured', () => {
    const direct = Template.fromStack(withScp('direct')).findResources('AWS::Organizations::Policy');
    const content = Object.values(direct)[0]!.Properties.Content;
    expect(content).toEqual(directModeServiceControlPolicy(config));
    Template.fromStack(withScp('none')).resourceCountIs('AWS::Organizations::Policy', 0);
  });

  it('refuses a member template over the inline TemplateBody limit', () => {
    expect(() => withScp('broker', JSON.stringify({ pad: 'x'.repeat(MAX_TEMPLATE_BODY_BYTES) }))).toThrow(
      /over CloudFormation's 51200 for an inline StackSet template/,
    );
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged AwsSolutions finding on any stack, and every acknowledgement has a reason and a finding', () => {
    for (const report of [
      path.join(dir, 'cdk.out/validation-report.json'),
      path.join(dir, 'cdk.out/member/validation-report.json'),
    ]) {
      const { pluginReports } = JSON.parse(readFileSync(report, 'utf8')) as {
        pluginReports: {
          pluginName: string;
          violations: unknown[];
          suppressedViolations: { reason: string; violatingConstructs: unknown[] }[];
        }[];
      };
      const nag = pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
      expect(nag.violations).toEqual([]);
      for (const suppressed of nag.suppressedViolations) {
        expect(suppressed.reason.length).toBeGreaterThan(40);
        expect(suppressed.violatingConstructs.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('npm run synth output', () => {
  it('holds the three templates and the guard-rail JSON files', () => {
    const outdir = path.join(dir, 'cdk.out');
    for (const file of [
      'RoleShellBroker.template.json',
      'RoleShellOrganization.template.json',
      'member/RoleShellMember.template.json',
    ]) {
      expect(existsSync(path.join(outdir, file)), file).toBe(true);
    }
    expect(
      JSON.parse(readFileSync(path.join(outdir, 'member/RoleShellMember.template.json'), 'utf8')),
    ).toEqual(member.toJSON());
    const expected = guardRailFiles(config);
    expect(readdirSync(path.join(outdir, 'guard-rails')).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, policy] of Object.entries(expected)) {
      expect(JSON.parse(readFileSync(path.join(outdir, 'guard-rails', name), 'utf8'))).toEqual(policy);
    }
  });
});
