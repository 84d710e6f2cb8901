/**
 * The sandbox's default org against what infra deploys: its organization id,
 * the broker's resource policy the sandbox writes from `invokers: [org]` (the
 * one the broker template grants), and the member target role, whose short
 * form in sandbox/org/default.yaml is judged by the evaluator next to the
 * synthesized template's policy: allowed wherever the deployment allows, and
 * broader only where listed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrg } from '../../sandbox/src/org';
import { IamRoles, permissionSetRoleName } from '../../sandbox/src/identity/iamRoles';
import { functionResourcePolicy, organizationIdOf } from '../../sandbox/src/identity/orgPolicies';
import { PolicyEnforcer, type PolicyJson } from '../../sandbox/src/identity/policyEnforcer';
import type { RoleSession } from '../../sandbox/src/identity/principals';
import { roleShellDocumentNames } from '../src/policies';
import { buildApp } from '../src/app';
import { brokerFunctionArn, defaultConfigPath, loadInfraConfig } from '../src/config';
import { lambdaResourcePolicyOf, rolesOf, type CfnTemplate } from '../src/templatePolicies';

const config = loadInfraConfig(defaultConfigPath);
const PROD = '222222222222';
const { org } = loadOrg();
let dir: string;
let member: CfnTemplate;
let broker: CfnTemplate;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'roleshell-infra-org-'));
  // The policies do not depend on the bundle's content: a stand-in file is enough to synthesize.
  const bundle = path.join(dir, 'broker');
  mkdirSync(bundle);
  writeFileSync(path.join(bundle, 'index.mjs'), 'export const handler = async () => ({});\n');
  const built = buildApp({ config, outdir: path.join(dir, 'cdk.out'), brokerBundleDir: bundle });
  member = Template.fromStack(built.member).toJSON() as CfnTemplate;
  broker = Template.fromStack(built.broker).toJSON() as CfnTemplate;
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Drops statement ids (Lambda names its statements after the template's resources). */
const withoutSids = (policy: unknown) => {
  const p = policy as { Statement: Record<string, unknown>[] };
  return { ...p, Statement: p.Statement.map(({ Sid: _sid, ...rest }) => rest) };
};

describe("the sandbox's default org carries the deployed policies", () => {
  it('has the organization id the deployment uses for aws:PrincipalOrgID', () => {
    expect(organizationIdOf(org)).toBe(config.organization.id);
  });

  it('judges the target role as deployed, except where its short form is knowingly broader', async () => {
    const [target] = rolesOf(member, { partition: 'aws', account: PROD, region: config.regions[0]! });
    const deployed = new PolicyEnforcer(org, {
      rolePolicies: { [target!.roleName]: target!.inlinePolicies.map((p) => p.policy as PolicyJson) },
      roleTrustPolicies: { [target!.roleName]: target!.trustPolicy as PolicyJson },
    });
    const derived = new PolicyEnforcer(org);
    const roles = IamRoles.of(org);
    const role = roles.get(PROD, config.member.targetRoleName)!;
    const session = (sourceIdentity?: string): RoleSession => ({
      accountId: PROD,
      roleName: role.roleName,
      rolePath: role.path,
      roleId: role.roleId,
      sessionName: 'alice',
      ...(sourceIdentity ? { sourceIdentity } : {}),
      sessionTags: {},
      transitiveTagKeys: [],
      createdAt: new Date(),
    });
    const alice = session('alice');
    const requests: { what: string; action: string; resource: string; context: Record<string, string> }[] =
      [];
    const regions = [...config.regions, 'ap-southeast-2'];
    for (const region of regions) {
      const inRegion = { 'aws:RequestedRegion': region };
      for (const action of ['ssm:DescribeInstanceInformation', 'ssm:DescribeSessions', 'tag:GetResources'])
        requests.push({ what: `${action} in ${region}`, action, resource: '*', context: inRegion });
      for (const document of [...roleShellDocumentNames(config), 'SSM-SessionManagerRunShell'])
        for (const action of ['ssm:StartSession', 'ssm:GetDocument'])
          requests.push({
            what: `${action} ${document} in ${region}`,
            action,
            resource: `arn:aws:ssm:${region}:${PROD}:document/${document}`,
            context: { ...inRegion, 'ssm:SessionDocumentAccessCheck': 'true' },
          });
      for (const owner of ['alice', 'bob'])
        for (const action of ['ssm:TerminateSession', 'ssm:ResumeSession'])
          requests.push({
            what: `${action} of ${owner}'s session in ${region}`,
            action,
            resource: `arn:aws:ssm:${region}:${PROD}:session/${owner}-0123456789abcdef0`,
            context: { ...inRegion, 'ssm:resourceTag/aws:ssmmessages:session-id': `${role.roleId}:${owner}` },
          });
    }
    for (const instance of org.instances.filter(
      (i) => i.account === PROD || i.id === 'i-0c1b2c3d4e5f60009',
    )) {
      const tags = Object.entries(instance.tags).flatMap(([k, v]) => [
        [`ssm:resourceTag/${k}`, v],
        [`aws:ResourceTag/${k}`, v],
      ]);
      requests.push({
        what: `ssm:StartSession on ${instance.name}`,
        action: 'ssm:StartSession',
        resource: `arn:aws:ec2:${instance.region}:${PROD}:instance/${instance.id}`,
        context: { 'aws:RequestedRegion': instance.region, ...Object.fromEntries(tags) },
      });
    }
    const idcRole = roles.get(PROD, permissionSetRoleName(org, PROD, 'Developer'))!;
    for (const other of [
      idcRole.arn,
      `arn:aws:iam::${PROD}:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef`,
    ])
      requests.push({ what: `iam:GetRole ${other}`, action: 'iam:GetRole', resource: other, context: {} });

    const differences: string[] = [];
    for (const r of requests) {
      const [d, p] = await Promise.all(
        [deployed, derived].map((e) => e.decide(alice, r.action, r.resource, { context: r.context })),
      );
      // Whatever the deployment allows, the sandbox's default org allows too.
      if (d === 'Allowed') expect(p, r.what).toBe('Allowed');
      if (d !== p) differences.push(r.what);
    }
    // Where the short form is broader (the broker never asks for these; infra's tests cover them).
    expect(differences.sort()).toEqual(
      [
        ...regions.flatMap((region) => [
          `ssm:GetDocument SSM-SessionManagerRunShell in ${region}`,
          `ssm:TerminateSession of bob's session in ${region}`,
          `ssm:ResumeSession of bob's session in ${region}`,
        ]),
        ...['ssm:DescribeInstanceInformation', 'ssm:DescribeSessions', 'tag:GetResources'].map(
          (a) => `${a} in ap-southeast-2`,
        ),
        ...roleShellDocumentNames(config).flatMap((d) => [
          `ssm:StartSession ${d} in ap-southeast-2`,
          `ssm:GetDocument ${d} in ap-southeast-2`,
        ]),
        "ssm:TerminateSession of alice's session in ap-southeast-2",
        "ssm:ResumeSession of alice's session in ap-southeast-2",
        `iam:GetRole arn:aws:iam::${PROD}:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef`,
        'ssm:StartSession on dev-build-1',
      ].sort(),
    );
  });

  it("writes the broker's resource policy as the broker template grants it (org-scoped invoke)", () => {
    const fn = org.functions.find((f) => f.name === config.broker.functionName)!;
    expect(fn.invokers).toEqual(['org']);
    expect(withoutSids(functionResourcePolicy(fn, organizationIdOf(org)))).toEqual(
      withoutSids(lambdaResourcePolicyOf(broker, brokerFunctionArn(config))),
    );
  });
});
