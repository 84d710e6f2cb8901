/**
 * The organization stack, deployed in the management account (or a StackSet
 * delegated administrator): the service-managed StackSet that rolls the
 * member template out to the target OUs (auto-deployment: accounts that join
 * an OU later get it too), and the guard-rail service control policy.
 */
import {
  Stack,
  type StackProps,
  aws_cloudformation as cloudformation,
  aws_organizations as organizations,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config';
import { brokerModeServiceControlPolicy, directModeServiceControlPolicy } from '../policies';

/** Organizations' limit for one SCP document. */
export const MAX_SCP_CHARACTERS = 5_120;

/** CloudFormation's limit for an inline TemplateBody. */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;

export interface OrganizationStackProps extends StackProps {
  config: InfraConfig;
  /** The synthesized member template (MemberStack), as JSON. */
  memberTemplateBody: string;
}

export class OrganizationStack extends Stack {
  readonly stackSet: cloudformation.CfnStackSet;
  readonly serviceControlPolicy?: organizations.CfnPolicy;

  constructor(scope: Construct, id: string, props: OrganizationStackProps) {
    super(scope, id, props);
    const { config } = props;
    const bytes = Buffer.byteLength(props.memberTemplateBody);
    if (bytes > MAX_TEMPLATE_BODY_BYTES) {
      throw new Error(
        `The member template is ${bytes} bytes, over CloudFormation's ${MAX_TEMPLATE_BODY_BYTES} for an inline StackSet template; map fewer permission sets per StackSet.`,
      );
    }

    this.stackSet = new cloudformation.CfnStackSet(this, 'MemberStackSet', {
      stackSetName: config.member.stackSetName,
      description: 'RoleShell member accounts: session documents, target role, Linux-user provisioning',
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      templateBody: props.memberTemplateBody,
      operationPreferences: {
        // The first region creates the IAM role; the others only documents.
        regionConcurrencyType: 'SEQUENTIAL',
        regionOrder: config.regions,
        failureTolerancePercentage: 0,
        maxConcurrentPercentage: 25,
      },
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: config.organization.targetOUs },
          regions: config.regions,
        },
      ],
    });

    const mode = config.organization.serviceControlPolicy;
    if (mode !== 'none') {
      const content =
        mode === 'broker' ? brokerModeServiceControlPolicy(config) : directModeServiceControlPolicy(config);
      const characters = JSON.stringify(content).length;
      if (characters > MAX_SCP_CHARACTERS) {
        throw new Error(
          `The guard-rail SCP is ${characters} characters, over Organizations' ${MAX_SCP_CHARACTERS}; set organization.serviceControlPolicy: none and split guard-rails/*-scp.json.`,
        );
      }
      this.serviceControlPolicy = new organizations.CfnPolicy(this, 'GuardRailPolicy', {
        name: 'RoleShell-GuardRails',
        description:
          mode === 'broker'
            ? 'RoleShell: only the RoleShell target role starts sessions on roleshell-tagged instances'
            : 'RoleShell (direct mode): only permission-set roles and the RoleShell target role start sessions on roleshell-tagged instances',
        type: 'SERVICE_CONTROL_POLICY',
        content,
        targetIds: config.organization.targetOUs,
      });
    }
  }
}
