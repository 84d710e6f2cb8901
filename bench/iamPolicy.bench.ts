/**
 * What IAM evaluation costs the sandbox per call: the calls the broker makes
 * for "load all" (AssumeRole of the target role, DescribeInstanceInformation
 * and tag:GetResources in two regions, DescribeSessions) for 1,000 member
 * accounts, judged by the sandbox's PolicyEnforcer (iam-simulate), first
 * with a cold decision cache (one evaluation can serve many accounts) and
 * then again, warm. Also the cost of one evaluation with nothing cached.
 * Run in-process, without HTTP, so the figures are the evaluator's alone.
 */
import { pathToFileURL } from 'node:url';
import { generateOrg, loadOrg } from '../sandbox/src/index';
import { IamRoles } from '../sandbox/src/identity/iamRoles';
import { PolicyEnforcer } from '../sandbox/src/identity/policyEnforcer';
import type { RoleSession } from '../sandbox/src/identity/principals';
import type { BenchRow } from './types';

const ACCOUNTS = 1000;
const REGIONS = ['eu-west-1', 'us-east-1'];
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

export default async function iamPolicyBench(): Promise<BenchRow[]> {
  const { org } = loadOrg(generateOrg({ accounts: ACCOUNTS, permissionSets: 3, instances: 0 }));
  const enforcer = new PolicyEnforcer(org);
  const roles = IamRoles.of(org);
  const central = org.accounts.find((a) => a.member === false)!.id;
  const execution = roles.get(central, 'RoleShellBrokerExecution')!;
  const broker: RoleSession = {
    accountId: central,
    roleName: execution.roleName,
    rolePath: execution.path,
    roleId: execution.roleId,
    sessionName: 'roleshell-broker',
    sessionTags: {},
    transitiveTagKeys: [],
    createdAt: new Date(),
  };
  const members = org.accounts.filter((a) => a.member !== false).map((a) => a.id);

  const round1 = async () => {
    let calls = 0;
    for (const accountId of members) {
      const role = roles.get(accountId, 'RoleShellTarget')!;
      await enforcer.authorizeAssumeRole(broker, {
        roleArn: role.arn,
        accountId,
        role,
        sessionName: 'alice',
        sourceIdentity: 'alice',
        tags: new Map([['roleshell:permission-set', 'AdministratorAccess']]),
        transitiveTagKeys: [],
      });
      calls += 3;
      const target: RoleSession = {
        accountId,
        roleName: role.roleName,
        rolePath: role.path,
        roleId: role.roleId,
        sessionName: 'alice',
        sourceIdentity: 'alice',
        sessionTags: { 'roleshell:permission-set': 'AdministratorAccess' },
        transitiveTagKeys: [],
        createdAt: new Date(),
      };
      for (const region of REGIONS) {
        const context = { 'aws:RequestedRegion': region };
        await enforcer.authorize(target, 'ssm:DescribeInstanceInformation', '*', { context });
        await enforcer.authorize(target, 'tag:GetResources', '*', { context });
        calls += 2;
      }
      await enforcer.authorize(target, 'ssm:DescribeSessions', '*', {
        context: { 'aws:RequestedRegion': REGIONS[0]! },
      });
      calls += 1;
    }
    return calls;
  };

  let started = performance.now();
  const calls = await round1();
  const cold = (performance.now() - started) / calls;
  const { evaluated } = enforcer.stats;
  started = performance.now();
  await round1();
  const warm = (performance.now() - started) / calls;
  // One evaluation each: distinct resources, so nothing is answered from the cache.
  const target = roles.get(members[0]!, 'RoleShellTarget')!;
  const session: RoleSession = {
    accountId: target.accountId,
    roleName: target.roleName,
    rolePath: target.path,
    roleId: target.roleId,
    sessionName: 'alice',
    sessionTags: {},
    transitiveTagKeys: [],
    createdAt: new Date(),
  };
  const before = enforcer.stats.evaluated;
  started = performance.now();
  for (let i = 0; i < 2000; i++)
    await enforcer.decide(
      session,
      'ssm:GetDocument',
      `arn:aws:ssm:eu-west-1:${target.accountId}:document/d${i}`,
    );
  const each = (performance.now() - started) / (enforcer.stats.evaluated - before);
  return [
    {
      figure: `IAM decision per call, cold cache (${calls} calls of a ${ACCOUNTS}-account load all)`,
      value: round(cold),
      unit: 'ms',
      comparedTo: `${evaluated} evaluated by iam-simulate, the rest shared across accounts; ${round((cold * calls) / 1000, 2)} s in all, against the 5 s load-all target`,
    },
    {
      figure: 'IAM decision per call, the same calls again (warm cache)',
      value: round(warm),
      unit: 'ms',
      comparedTo: `ratio ${round(warm / cold, 3)} to cold`,
    },
    {
      figure: 'IAM evaluation by iam-simulate, one per call (2000 distinct documents)',
      value: round(each),
      unit: 'ms',
      comparedTo: `${round(each / Math.max(warm, 0.0001), 1)}× a cached decision`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  iamPolicyBench().then(
    (rows) => console.table(rows),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
