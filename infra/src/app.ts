/**
 * Builds RoleShell's CDK app from the deployment configuration: the broker
 * stack, the member template (synthesized on its own: it is the StackSet's
 * body, not a stack CDK deploys), and the organization stack holding the
 * StackSet and the SCP. cdk-nag's AwsSolutions pack checks every stack.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, DefaultStackSynthesizer, type Stack } from 'aws-cdk-lib';
import { checkWithAwsSolutions } from './nag';
import type { InfraConfig } from './config';
import { BrokerStack } from './stacks/brokerStack';
import { MemberStack } from './stacks/memberStack';
import { OrganizationStack } from './stacks/organizationStack';

export interface RoleShellApp {
  app: App;
  memberApp: App;
  broker: BrokerStack;
  member: MemberStack;
  organization: OrganizationStack;
  stacks: Stack[];
}

export interface BuildAppOptions {
  config: InfraConfig;
  /** Cloud assembly folder (infra/cdk.out); the member template goes to its `member/` folder. */
  outdir: string;
  brokerBundleDir: string;
}

export function buildApp(options: BuildAppOptions): RoleShellApp {
  const { config } = options;
  const memberApp = new App({ outdir: path.join(options.outdir, 'member'), analyticsReporting: false });
  const member = new MemberStack(memberApp, 'RoleShellMember', {
    config,
    description: 'RoleShell member account (deployed by the RoleShell-Member StackSet)',
    // Member accounts are not CDK-bootstrapped: no bootstrap version check in the template.
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
  });
  checkWithAwsSolutions(memberApp);
  const memberAssembly = memberApp.synth();
  const memberTemplateBody = JSON.stringify(
    JSON.parse(readFileSync(memberAssembly.getStackByName(member.stackName).templateFullPath, 'utf8')),
  );

  const app = new App({ outdir: options.outdir, analyticsReporting: false });
  const broker = new BrokerStack(app, 'RoleShellBroker', {
    config,
    brokerBundleDir: options.brokerBundleDir,
    env: { account: config.broker.account, region: config.broker.region },
    description: 'RoleShell session broker (central account)',
  });
  const organization = new OrganizationStack(app, 'RoleShellOrganization', {
    config,
    memberTemplateBody,
    // Deployed with plain CloudFormation in the management account, which need not be CDK-bootstrapped.
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
    ...(config.organization.managementAccount
      ? { env: { account: config.organization.managementAccount, region: config.broker.region } }
      : {}),
    description:
      'RoleShell member StackSet and guard-rail SCP (management or delegated administrator account)',
  });
  checkWithAwsSolutions(app);
  return { app, memberApp, broker, member, organization, stacks: [broker, member, organization] };
}
