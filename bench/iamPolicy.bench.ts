/**
 * What IAM evaluation costs the sandbox per call: the calls the broker makes
 * for "load all" (AssumeRole of the target role, DescribeInstanceInformation
 * and tag:GetResources in two regions, DescribeSessions) for 1,000 member
 * accounts, judged by the sandbox's PolicyEnforcer (iam-simulate), first
 * uncached and then again from its decision cache. Run in-process, without
 * HTTP, so the figure is the evaluator's alone.
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
  const uncached = (performance.now() - started) / calls;
  const { evaluated } = enforcer.stats;
  started = performance.now();
  await round1();
  const cached = (performance.now() - started) / calls;
  return [
    {
      figure: `IAM decision per call, uncached (${calls} calls of a ${ACCOUNTS}-account load all)`,
      value: round(uncached),
      unit: 'ms',
      comparedTo: `${evaluated} evaluated by iam-simulate; ${round((uncached * calls) / 1000, 2)} s in all, against the 5 s load-all target`,
    },
    {
      figure: 'IAM decision per call, the same calls again (decision cache)',
      value: round(cached),
      unit: 'ms',
      comparedTo: `ratio ${round(cached / uncached, 3)} to uncached`,
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
